"""``rollwise serve``: the API app on a local HTTP server, each request handed to it as API Gateway (payload 2.0)
hands it to the Lambda function, so both hosts run the same routes, validation and refusals."""

from __future__ import annotations

import base64
import ipaddress
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

DEV_ISSUER, DEV_AUDIENCE = "rollwise-dev", "rollwise"
DEV_TOKEN_SECONDS = 12 * 3600


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def http_event(method: str, target: str, headers: dict[str, str], body: bytes, client: str) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event for one request."""
    parts = urlsplit(target)
    query: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value  # as API Gateway joins repeated names
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": {k.lower(): v for k, v in headers.items()},
        "queryStringParameters": query or None,
        "requestContext": {
            "http": {"method": method, "path": parts.path, "protocol": "HTTP/1.1", "sourceIp": client, "userAgent": headers.get("User-Agent", "")},
            "requestId": uuid.uuid4().hex,
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": int(time.time() * 1000),
        },
        "body": base64.b64encode(body).decode() if body else None,
        "isBase64Encoded": bool(body),
    }


@dataclass
class DevKeys:
    """A key pair made at start, its key set in a file, and tokens signed with it (``serve --dev``)."""

    private_key: Any
    jwks_path: Path

    @classmethod
    def make(cls, folder: Path) -> DevKeys:
        import jwt
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        public.update({"kid": "dev", "alg": "RS256", "use": "sig"})
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "jwks.json"
        import orjson

        path.write_bytes(orjson.dumps({"keys": [public]}))
        return cls(key, path)

    def token(self, claims: dict[str, Any]) -> str:
        import jwt

        now = int(time.time())
        return jwt.encode(
            {"iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "iat": now, "exp": now + DEV_TOKEN_SECONDS, **claims},
            self.private_key,
            algorithm="RS256",
            headers={"kid": "dev"},
        )


class Server:
    """The app on ``host:port`` in a thread (or the caller's, with :meth:`serve_forever`)."""

    def __init__(self, services, host: str = "127.0.0.1", port: int = 8080) -> None:
        from rollwise.api.app import build_app, respond

        self.app, self.services, self.host = build_app(), services, host
        lock = threading.Lock()  # the resolver keeps the request under way on itself: one at a time
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in two writes: with Nagle's algorithm, a kept-alive connection's body would wait
            # for the client's delayed ACK of the headers (40 ms on Linux)
            disable_nagle_algorithm = True

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                event = http_event(
                    self.command, self.path, dict(self.headers.items()), self.rfile.read(length) if length else b"", self.client_address[0]
                )
                with lock:
                    answer = respond(server.app, server.services, event)
                body = answer.get("body") or ""
                data = base64.b64decode(body) if answer.get("isBase64Encoded") else body.encode()
                self.send_response(answer["statusCode"])
                for name, value in (answer.get("headers") or {}).items():
                    self.send_header(name, value)
                for name, values in (answer.get("multiValueHeaders") or {}).items():
                    for value in values:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def __getattr__(self, name: str):
                if name.startswith("do_"):  # every method reaches the app, which answers 405 for those it has no route of
                    return self._any
                raise AttributeError(name)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.httpd.server_port}"

    def start(self) -> Server:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
