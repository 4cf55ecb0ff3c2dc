"""moto's S3 app on 127.0.0.1, for the benches: behind waitress, which keeps connections alive as S3 does, or
behind werkzeug's server as ``moto_server`` runs it, which closes each one. Both count the requests they answer,
by status, and tell them at ``GET /_bench/requests`` (a path no S3 request takes).

    python bench/s3_server.py PORT keepalive|closing
"""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from typing import Any

COUNTS_PATH = "/_bench/requests"


def counting(app: Any) -> Any:
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def wrapped(environ: dict, start_response: Any) -> Any:
        if environ.get("PATH_INFO") == COUNTS_PATH:
            with lock:
                body = json.dumps(counts).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]

        def counted(status: str, headers: list, exc_info: Any = None) -> Any:
            with lock:
                counts[status.split()[0]] += 1
            return start_response(status, headers, exc_info)

        return app(environ, counted)

    return wrapped


def main() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

    port, kind = int(sys.argv[1]), sys.argv[2]
    app = counting(DomainDispatcherApplication(create_backend_app))
    if kind == "keepalive":
        import waitress

        waitress.serve(app, host="127.0.0.1", port=port, threads=8, _quiet=True)
    else:
        from werkzeug.serving import run_simple

        run_simple("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
