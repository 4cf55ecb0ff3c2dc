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
