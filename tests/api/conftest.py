"""The read API under test: real RSA keys made here, their key set served over HTTP by the test, and the app on
``rollwise serve``'s server (tests/support/api.py has the helpers)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rollwise.api.serve import Server
from support.api import Client, Keys


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="session")
def jwks_url(keys):
    """The key set, served over HTTP as an issuer serves it."""
    document = json.dumps({"keys": [keys.jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    server.shutdown()


@pytest.fixture
def serve():
    """Start ``rollwise serve``'s server over some services; stopped after the test."""
    started = []

    def start(services) -> Client:
        server = Server(services, "127.0.0.1", 0).start()
        started.append(server)
        return Client(server.url)

    yield start
    for server in started:
        server.stop()
