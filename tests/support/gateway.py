"""A recording HTTP gateway in front of an emulator, on 127.0.0.1: what reaches AWS, and what AWS answers.

Every request passes through ``decide(request)``, which returns None to let
it through to the emulator, or a :class:`Reply`: an answer of its own (a 403,
a throttle), or the emulator's answer changed on the way (a body cut in the
middle, the connection dropped after the request took effect, another body
forwarded and the answer rewritten: a batch answered in part).
``after(request, status)`` may replace the emulator's answer (S3's 403 for a
missing key). Requests are recorded with what was decided, so a test can
check each one against a policy.
"""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Request:
    method: str
    path: str  # without the query
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int | None = None  # what the client got back
    note: str = ""
    target: str = ""  # the path with its query, as sent

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    cut_after: int | None = None  # send the emulator's own answer, but stop after this many body bytes
    note: str = ""
    drop: bool = False  # forward the request, then close the connection unanswered: it took effect, its answer is lost
    reset: bool = False  # close the connection without forwarding: the request never reached the emulator
    forward_body: bytes | None = None  # forward this body instead of the request's
    rewrite: Callable[[int, bytes], Reply] | None = None  # answer with what this makes of the emulator's status and body

    @property
    def forwards(self) -> bool:
        """Whether the request still reaches the emulator."""
        return self.cut_after is not None or self.drop or self.forward_body is not None or self.rewrite is not None


def access_denied(message: str = "Access Denied") -> Reply:
    body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>{message}</Message></Error>'.encode()
    return Reply(403, body, {"Content-Type": "application/xml"}, note=message)


class Gateway:
    def __init__(self, upstream: str, decide: Callable[[Request], Reply | None] | None = None) -> None:
        self.upstream = urlsplit(upstream)
        self.decide = decide or (lambda request: None)
        self.after: Callable[[Request, int], Reply | None] = lambda request, status: None
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes: Nagle would hold the body for the client's delayed ACK (40 ms)

            def log_message(self, *args) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(
                    self.command,
                    parts.path,
                    dict(parse_qsl(parts.query, keep_blank_values=True)),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    target=self.path,
                )
                with gateway.lock:
                    gateway.requests.append(request)
                reply = gateway.decide(request)
                if reply is not None and reply.reset:
                    request.note = reply.note or "reset"
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if reply is not None and not reply.forwards:
                    request.status, request.note = reply.status, reply.note
                    self._send(reply.status, reply.headers, reply.body)
                    return
                forwarded = reply.forward_body if reply is not None and reply.forward_body is not None else body
                headers_out = dict(self.headers.items())
                if forwarded is not body:
                    headers_out = {k: v for k, v in headers_out.items() if k.lower() != "content-length"}
                    headers_out["Content-Length"] = str(len(forwarded))
                status, headers, answer = gateway._forward(self.command, self.path, headers_out, forwarded)
                request.status = status
                if reply is not None and reply.drop:
                    request.note = reply.note or "answer dropped"
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if reply is not None and reply.rewrite is not None:
                    rewritten = reply.rewrite(status, answer)
                    request.status, request.note = rewritten.status, reply.note or rewritten.note
                    self._send(rewritten.status, rewritten.headers, rewritten.body)
                    return
                replaced = gateway.after(request, status) if reply is None else None
                if replaced is not None:
                    request.status, request.note = replaced.status, replaced.note
                    self._send(replaced.status, replaced.headers, replaced.body)
                    return
                if reply is not None:  # cut: the full length announced, part of it sent, the connection dropped
                    request.note = reply.note or "cut"
                    self.send_response(status)
                    for k, v in headers:
                        if k.lower() not in ("transfer-encoding", "connection"):
                            self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(answer[: reply.cut_after])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                drop = ("transfer-encoding", "connection") if self.command == "HEAD" else ("transfer-encoding", "connection", "content-length")
                self._send(status, {k: v for k, v in headers if k.lower() not in drop}, answer)

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if self.command != "HEAD" or "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        try:
            headers = {k: v for k, v in headers.items() if k.lower() != "connection"}
            connection.request(method, path, body=body if body or method in ("PUT", "POST") else None, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            return response.status, response.getheaders(), answer
        finally:
            connection.close()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
