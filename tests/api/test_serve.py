"""``rollwise serve``'s HTTP server, as clients that keep their connection alive meet it."""

from __future__ import annotations

import http.client
import socket

from rollwise.api.serve import Server
from rollwise.summaries.stores.sqlite import SQLiteSummaryStore
from support.api import services_for


def test_a_kept_alive_connection_gets_each_answer_without_waiting_for_an_ack(jwks_url, tmp_path, monkeypatch):
    """The headers and the body are two writes: with Nagle's algorithm on, the body of every answer after the first
    on a connection waits for the client's delayed ACK (40 ms on Linux). Every connection has it off."""
    store = SQLiteSummaryStore(tmp_path / "summaries.db")
    store.create()
    server = Server(services_for(store, jwks_url), "127.0.0.1", 0)
    handler = server.httpd.RequestHandlerClass
    seen: list[int] = []
    setup = handler.setup

    def recording(self) -> None:
        setup(self)
        seen.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    monkeypatch.setattr(handler, "setup", recording)
    server.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.httpd.server_port)
        for _ in range(3):
            connection.request("GET", "/v1/openapi.json")
            answer = connection.getresponse()
            assert answer.status == 200 and answer.read() and not answer.will_close
        connection.close()
    finally:
        server.stop()
    assert seen == [1]  # one connection, three answers, and Nagle off on it


def test_the_serve_command_answers_with_the_token_it_prints(tmp_path):
    """`rollwise serve --dev`, as the README runs it: the services it opens answer the routes, the runs routes 404
    without a bucket, and a method a route does not take 405."""
    import os
    import shutil
    import subprocess
    import sys

    import orjson
    import urllib3

    exe = shutil.which("rollwise", path=os.path.dirname(sys.executable))
    store = f"sqlite:///{tmp_path / 's.db'}"
    subprocess.run([exe, "summaries", "init", "--store", store], check=True, capture_output=True)
    server = subprocess.Popen([exe, "serve", "--dev", "--store", store, "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().split()[5].removesuffix("/v1")  # "serving the read API on URL/v1 (...)"
        token = next(line.split()[2] for line in server.stdout if line.startswith("token admin:"))
        http = urllib3.PoolManager()
        headers = {"Authorization": f"Bearer {token}"}
        health = http.request("GET", url + "/v1/health", headers=headers)
        assert health.status == 200 and "checked_at" in orjson.loads(health.data)
        runs = http.request("GET", url + "/v1/runs/windows?from=2024-01-01&to=2024-01-02", headers=headers)
        assert runs.status == 404 and "no bucket configured" in orjson.loads(runs.data)["detail"]
        assert http.request("POST", url + "/v1/health", headers=headers).status == 405
        assert http.request("GET", url + "/v1/health").status == 401
    finally:
        server.terminate()
        server.wait(10)
