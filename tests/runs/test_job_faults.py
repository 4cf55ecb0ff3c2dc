"""Crashes at every store request, SIGKILL at random moments, and four invocations at once.

The invariant, checked after the job is run again to completion: every valid
file is counted in exactly one aggregate, poison files are quarantined, and
nothing is left under raw/. Faults are injected by wrapping the store object,
through which every request of the job goes.
"""

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

from rollwise.runs.job import MergeJob
from rollwise.runs.settings import MergeSettings
from support.runs import Crash, FaultyStore, check_exactly_once, item, keys, open_store, put, write_small_run

pytestmark = pytest.mark.slow  # fault trials: crashes, SIGKILL and invocations at once

AT = datetime(2024, 1, 15, 13, 20, tzinfo=UTC)


def crash_at(n: int):
    """A fault plan: the Nth request (counting from 1) crashes the process."""
    seen = [0]

    def fault(name, args):
        seen[0] += 1
        return Crash(f"at request {n}: {name}") if seen[0] == n else None

    return fault


def merge(store, archive_mode, concurrency=2):
    return MergeJob(store, MergeSettings(concurrency=concurrency, archive_mode=archive_mode)).run(AT)


@pytest.mark.parametrize("archive_mode", ["move", "bundle"])
def test_a_crash_at_every_store_request_never_loses_or_double_counts(runs_url, archive_mode, tmp_path):
    probe_url = _fresh_location(runs_url, tmp_path, "probe")
    write_small_run(probe_url)
    probe = FaultyStore(open_store(probe_url), lambda name, args: None)
    merge(probe, archive_mode)
    total = probe.calls
    assert total >= 12
    assert probe.unconditioned == [], "a raw file read, copied or deleted without the ETag the listing gave"
    for n in range(1, total + 1):
        for after in (False, True):
            url = _fresh_location(runs_url, tmp_path, f"{n}-{after}")
            good, bad = write_small_run(url)
            crashed = FaultyStore(open_store(url), crash_at(n), after=after)
            with pytest.raises(Crash):
                merge(crashed, archive_mode)
            clean = FaultyStore(open_store(url), lambda name, args: None)
            merge(clean, archive_mode, concurrency=32)
            check_exactly_once(url, good, bad)
            assert crashed.unconditioned == clean.unconditioned == []


def _fresh_location(runs_url: str, tmp_path, tag: str) -> str:
    if runs_url.startswith("file://"):
        return f"file://{tmp_path / ('case-' + tag)}"
    return f"{runs_url}/case-{tag}"  # a prefix of the test's bucket: the same S3 semantics


def write_large_run(url: str, n: int, first: int = 0) -> tuple[set[str], set[str]]:
    store = open_store(url)
    good, bad = set(), set()
    for i in range(first, first + n):
        minute = (i * 7) % 15
        key = f"runs/raw/20240115t13{minute:02d}Z_{i:05d}.json"
        if i % 37 == 0:
            put(store, key, b"\x00garbage")
            bad.add(key)
        else:
            put(store, key, item(i, (i % 100) / 100))
            good.add(key)
    return good, bad


def merge_command(url: str) -> list[str]:
    return [sys.executable, "-m", "rollwise.cli", "runs", "merge", "--bucket", url, "--at", AT.isoformat(), "--quiet", "--json"]


def test_sigkill_at_random_moments_then_a_clean_run(runs_url):
    good, bad = set(), set()
    rng = random.Random(1234)
    killed = attempts = 0
    env = {**os.environ, "ROLLWISE_CONCURRENCY": "4"}
    while killed < 3 and attempts < 20:
        if not keys(open_store(runs_url), "runs/raw"):  # the last run finished: give the next one work
            g, b = write_large_run(runs_url, 1500, first=attempts * 2000)
            good |= g
            bad |= b
        attempts += 1
        proc = subprocess.Popen(merge_command(runs_url), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        time.sleep(rng.uniform(0.3, 1.2))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait()
    assert killed >= 3, "runs were not killed mid-way: the test proves nothing"
    done = subprocess.run(merge_command(runs_url), capture_output=True, text=True, env=os.environ.copy())
    assert done.returncode == 0, done.stderr
    check_exactly_once(runs_url, good, bad)


def test_four_invocations_at_once(runs_url):
    good, bad = write_large_run(runs_url, 240)
    procs = [
        subprocess.Popen(merge_command(runs_url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy()) for _ in range(4)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[0][-3000:] for o in outs]
    import orjson

    bodies = [orjson.loads(o[0].splitlines()[-1]) for o in outs]
    assert sum(b["files_processed"] for b in bodies) == len(good)
    assert sum(b["files_quarantined"] for b in bodies) >= len(bad)
    check_exactly_once(runs_url, good, bad)
