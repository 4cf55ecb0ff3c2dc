"""Blocking requests on a bounded set of threads, each folding its own results.

obstore's and botocore's blocking calls release the GIL, so threads give real
request concurrency. Each thread loops over the shared items and hands its
result to ``fold`` under one lock: nothing is passed back and forth between
threads (measured: a futures hand-off cost as much CPU as a request).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")
_END = object()


def each(items: Iterable[T], work: Callable[[T], Any], fold: Callable[[T, Any], None], limit: int) -> None:
    """``work(item)`` on up to ``limit`` threads; ``fold(item, result or the exception it raised)``, one at a time.

    An exception from ``work`` is a result (a failed request); one from ``fold``,
    or a BaseException such as KeyboardInterrupt, stops every thread and is raised here.
    """
    it = iter(items)
    lock = threading.Lock()
    fatal: list[BaseException] = []

    def worker() -> None:
        while not fatal:
            with lock:
                item = next(it, _END)
            if item is _END:
                return
            try:
                out = work(item)  # type: ignore[arg-type]
            except Exception as exc:  # noqa: BLE001 - a failed request is a result to fold
                out = exc
            except BaseException as exc:  # an interrupt is not a failed request: stop everything
                fatal.append(exc)
                return
            with lock:
                if fatal:
                    return
                try:
                    fold(item, out)  # type: ignore[arg-type]
                except BaseException as exc:  # noqa: BLE001
                    fatal.append(exc)
                    return

    if limit <= 1:
        worker()
    else:
        threads = [threading.Thread(target=worker, name=f"rollwise-io-{i}", daemon=True) for i in range(limit)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if fatal:
        raise fatal[0]
