"""Benchmark of the merge-and-archive job against moto's S3 (not a test).

N files of about 5 KB of the first shape (one item's result) spread over 2 windows (--windows), plus 100 of the
second shape (a run summary). One line per server and mode: moto's S3 app behind waitress, which keeps
connections alive as S3 does ("keepalive"), and behind werkzeug's server as moto_server runs it, which closes
each one ("closing"); see bench/s3_server.py, which counts the requests it answers.

The yardstick ("bare") is the physical limit of the same work: a plain loop on the main thread of a native
obstore GET and COPY per file (unconditional) and a bulk DELETE per 1,000 keys, over the same files in the same
run. The job is measured in a fresh child process: its whole CPU time (process start, imports and listing
included: "cpu_ms_per_file_whole"), and that less the CPU of an empty run of the same command over a bucket with
no files ("cpu_ms_per_file"), the figure the ratio compares. Its peak memory is its own VmHWM.

    uv run python bench/merge.py [--files 10000] [--windows 2] [--modes move,bundle] [--servers keepalive,closing]

Prints: server=... mode=... files=... requests_per_file=... cpu_ms_per_file=... cpu_ms_per_file_whole=...
        bare_cpu_ms_per_file=... cpu_ratio=... peak_rss_mb=... wall_s=... requests=... not_found=...
        precondition_failed=... server_errors=...
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_REGION", "us-east-1")
REFERENCE = datetime(2024, 1, 15, 13, 20, tzinfo=UTC)


def open_store(url: str):
    from rollwise import objects
    from rollwise.config import AwsSettings, resolve

    return objects.open_store(url, resolve(AwsSettings))


def upload(url: str, files: int, windows: int = 2) -> list[str]:
    from rollwise import objects

    store = open_store(url)
    pad = "x" * 4700

    def body(i: int) -> tuple[str, bytes]:
        # spread over the last `windows` 5-minute windows closed at REFERENCE (13:20; the last one 13:10-13:15)
        start = 13 * 60 + 15 - 5 * windows + 5 * (i % windows) + 1
        hour, minute = divmod(start, 60)
        if i < 100:
            doc = {
                "run_id": f"run-{i}",
                "opportunities_processed": 50,
                "matches": 5,
                "no_matches": 44,
                "errors": 1,
                "processing_time_ms": 30000 + i,
                "top_matches": [{"id": f"R{i}-{j}", "title": "t", "score": 0.8 + j / 100} for j in range(3)],
                "notes": pad,
            }
        else:
            doc = {
                "solicitationNumber": f"SOL-{i:06d}",
                "title": f"Opportunity {i}",
                "score": (i % 1000) / 1000,
                "processing_time_ms": 200 + i % 700,
                "timestamp": "2024-01-15T13:01:00Z",
                "description": pad,
            }
        return f"runs/raw/20240115t{hour:02d}{minute:02d}Z_{i:06d}.json", json.dumps(doc).encode()

    def put(i: int) -> str:
        key, data = body(i)
        objects.write(store, key, data)
        return key

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(put, range(files + 100)))


def measure_job(url: str, mode: str) -> dict:
    from rollwise.config import resolve
    from rollwise.runs.job import MergeJob
    from rollwise.runs.settings import MergeSettings

    store = open_store(url)
    job = MergeJob(store, resolve(MergeSettings, {"archive_mode": mode}))
    t0 = time.perf_counter()
    result = job.run(REFERENCE)
    wall = time.perf_counter() - t0
    assert not result.failures(), result.failures()[:3]
    return {
        "files": result.files_processed,
        "archived": result.files_archived,
        "cpu_s": process_cpu(),
        "wall_s": wall,
        "peak_rss_mb": own_peak_mb(),
        "records": job.settings.records_output,
        "concurrency": job.settings.concurrency,
    }


def process_cpu() -> float:
    """This process's CPU time so far, its start and imports included."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def own_peak_mb() -> float:
    """This process's own high-water mark of resident memory (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def measure_bare(url: str) -> dict:
    """The physical limit of the job's per-file work, on the main thread: a native GET and COPY per file and a
    native bulk DELETE (of the copies) per 1,000 keys, unconditional, through obstore, and nothing else."""
    import obstore as obs

    store = open_store(url).native
    listed = [m["path"] for batch in obs.list(store, "runs/raw/", chunk_size=1000) for m in batch]
    t0, c0 = time.perf_counter(), time.process_time()
    for key in listed:
        bytes(obs.get(store, key).bytes())
        obs.copy(store, key, "bare/" + key)
    for i in range(0, len(listed), 1000):  # the originals stay for the job
        obs.delete(store, ["bare/" + k for k in listed[i : i + 1000]])
    return {"files": len(listed), "cpu_s": time.process_time() - c0, "wall_s": time.perf_counter() - t0}


def child(kind: str, url: str, mode: str = "move") -> dict:
    # The deployed function runs with MALLOC_ARENA_MAX=2 (see infra/): so does the measured job.
    env = {**os.environ, "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2")}
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--url", url, "--mode", mode], capture_output=True, text=True, env=env)
    if out.returncode:
        sys.exit(f"the {kind} child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


class Server:
    """bench/s3_server.py on a free port, and the requests it answered since the last look."""

    def __init__(self, kind: str) -> None:
        from support.emulators import free_port

        self.kind, port = kind, free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        here = Path(__file__).resolve().parent
        self.process = subprocess.Popen(
            [sys.executable, str(here / "s3_server.py"), str(port), kind], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.seen: dict[int, int] = {}
        for _ in range(200):
            try:
                self.since()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the {kind} S3 server did not start")

    def since(self) -> dict[str, int]:
        import urllib.request

        with urllib.request.urlopen(self.endpoint + "/_bench/requests") as answer:
            counts = {int(k): v for k, v in json.loads(answer.read()).items()}
        new = {code: n - self.seen.get(code, 0) for code, n in counts.items()}
        self.seen = counts
        return {
            "requests": sum(new.values()),
            "not_found": new.get(404, 0),
            "precondition_failed": new.get(412, 0),
            "server_errors": sum(n for code, n in new.items() if code >= 500),
        }

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--files", type=int, default=10_000)
    p.add_argument("--windows", type=int, default=2, help="the files are spread over this many windows")
    p.add_argument("--modes", default="move,bundle")
    p.add_argument("--servers", default="keepalive,closing")
    p.add_argument("--child", choices=["job", "bare"])
    p.add_argument("--url")
    p.add_argument("--mode", default="move")
    args = p.parse_args()
    if args.child:
        print(json.dumps(measure_job(args.url, args.mode) if args.child == "job" else measure_bare(args.url)))
        return

    import boto3

    for kind in args.servers.split(","):
        server = Server(kind)
        os.environ["AWS_ENDPOINT_URL"] = server.endpoint
        s3 = boto3.client("s3", endpoint_url=server.endpoint)
        try:
            empty_bucket = f"bench-{uuid.uuid4().hex[:10]}"
            s3.create_bucket(Bucket=empty_bucket)
            for mode in args.modes.split(","):
                empty = child("job", f"s3://{empty_bucket}", mode)  # process start, imports and an empty listing
                bucket = f"bench-{uuid.uuid4().hex[:10]}"
                s3.create_bucket(Bucket=bucket)
                url = f"s3://{bucket}"
                upload(url, args.files, args.windows)
                bare = child("bare", url)
                server.since()
                job = child("job", url, mode)
                seen = server.since()
                n = job["files"]
                whole, net = job["cpu_s"] / n * 1e3, (job["cpu_s"] - empty["cpu_s"]) / n * 1e3
                bare_cpu = bare["cpu_s"] / bare["files"] * 1e3
                print(
                    f"server={kind} mode={mode} records={str(job['records']).lower()} concurrency={job['concurrency']} files={n} "
                    f"windows={args.windows} requests_per_file={seen['requests'] / n:.3f} cpu_ms_per_file={net:.3f} "
                    f"cpu_ms_per_file_whole={whole:.3f} bare_cpu_ms_per_file={bare_cpu:.3f} cpu_ratio={net / bare_cpu:.2f} "
                    f"peak_rss_mb={job['peak_rss_mb']:.1f} wall_s={job['wall_s']:.1f} requests={seen['requests']} "
                    f"not_found={seen['not_found']} precondition_failed={seen['precondition_failed']} server_errors={seen['server_errors']}",
                    flush=True,
                )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
