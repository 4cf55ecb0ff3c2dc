"""Start the emulators the suite talks to over HTTP on 127.0.0.1: moto server and dynalite."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DYNALITE = ROOT / "tools" / "emulators" / "node_modules" / ".bin" / "dynalite"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, proc: subprocess.Popen, name: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode} before listening")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers, even if with an error status
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{name} did not listen on {url} within {timeout}s")


class Emulator:
    def __init__(self, name: str, argv: list[str], port: int, probe: str = "/") -> None:
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        _wait(self.url + probe, self.proc, name)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_moto() -> Emulator:
    port = free_port()
    exe = shutil.which("moto_server", path=os.path.dirname(sys.executable)) or "moto_server"
    return Emulator("moto server", [exe, "-H", "127.0.0.1", "-p", str(port)], port, "/moto-api/")


def start_dynalite(table_state_ms: int = 0) -> Emulator:
    """dynalite, its tables ACTIVE at once by default: a new table waits ``table_state_ms`` in CREATING (and as long in
    UPDATING and DELETING), 500 ms as dynalite ships; every test makes a table of its own."""
    if not DYNALITE.exists():
        raise RuntimeError(f"dynalite is not installed at {DYNALITE}: run `make setup` (npm ci in tools/emulators)")
    port = free_port()
    states = [f"--{state}TableMs" for state in ("create", "update", "delete")]
    return Emulator(
        "dynalite",
        ["node", str(DYNALITE), "--host", "127.0.0.1", "--port", str(port), *(arg for state in states for arg in (state, str(table_state_ms)))],
        port,
    )
