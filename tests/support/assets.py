"""The Lambda assets the infra tests deploy and run, built once per test run.

`make package` takes a minute and writes one folder per architecture under build/lambda/, so
the test run's processes (pytest-xdist's workers) build each asset once, one at a time, and
share it: a lock serialises the builds, and a stamp names the run that built the folder.
"""

from __future__ import annotations

import fcntl
import os
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
# xdist gives its workers one id per run; a run without workers is one process
RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex


@contextmanager
def building():
    """Held while anything is written under build/: the assets and the runtime's Python they are compiled with."""
    BUILD.mkdir(exist_ok=True)
    with open(BUILD / ".tests.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def lambda_asset(arch: str) -> Path:
    """build/lambda/<arch>, as `make package` builds it, once in this test run."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import package

    stamp = BUILD / "lambda" / f".{arch}.built-by"
    with building():
        out = BUILD / "lambda" / arch
        if stamp.is_file() and stamp.read_text() == RUN and out.is_dir():
            return out
        stamp.unlink(missing_ok=True)
        out = package.build(arch)
        stamp.write_text(RUN)
        return out
