import threading

import pytest

from rollwise.threads import each


def test_every_item_is_folded_once_with_its_result_or_its_error():
    seen = {}

    def work(i):
        if i % 7 == 0:
            raise ValueError(f"bad {i}")
        return i * i

    each(range(50), work, lambda i, out: seen.__setitem__(i, out), limit=8)
    assert sorted(seen) == list(range(50))
    assert all(isinstance(seen[i], ValueError) if i % 7 == 0 else seen[i] == i * i for i in range(50))


def test_an_interrupt_stops_every_thread_and_is_raised():
    started = []
    lock = threading.Lock()

    def work(i):
        with lock:
            started.append(i)
        if i == 3:
            raise KeyboardInterrupt
        return i

    with pytest.raises(KeyboardInterrupt):
        each(range(1000), work, lambda i, out: None, limit=4)
    assert len(started) < 1000


def test_a_failing_fold_is_raised():
    with pytest.raises(RuntimeError, match="fold broke"):
        each(range(10), lambda i: i, lambda i, out: (_ for _ in ()).throw(RuntimeError("fold broke")), limit=1)
