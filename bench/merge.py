"""Benchmark of the merge-and-archive job against moto server (not a test).

10,000 files of about 5 KB of the first shape (one item's result) spread over
2 windows (--windows), plus 100 of the second shape (a run summary). One line for move
mode and one for bundle mode. Requests are counted at the server: every line
of moto's access log (its colour codes stripped), by status (404s, 412s and
5xx apart). "bare" is a plain loop of the same conditional requests on the
main thread: a GET If-Match per file (obstore), a CopyObject with
x-amz-copy-source-if-match per file and a DeleteObjects with each key's ETag
per 1,000 keys (signed by botocore, sent by urllib3), and nothing else. Each measured run is a
fresh child process, so its CPU time and its peak memory (VmHWM, read from
its own /proc/self/status: ru_maxrss would include the parent's peak) are its
own.

    uv run python bench/merge.py [--files 10000] [--windows 2] [--modes move,bundle]

"own_requests" is the bare loop of the mode's own requests: the same as "bare" in move mode;
in bundle mode the GETs and bulk DELETEs alone (no COPY).

Prints: mode=... files=... requests_per_file=... cpu_ms_per_file=... bare_cpu_ms_per_file=... cpu_ratio=...
        own_requests_cpu_ms_per_file=... own_requests_ratio=...
        peak_rss_mb=... wall_s=... requests=... bare_requests=... not_found=... precondition_failed=... server_errors=...
"""

from __future__ import annotations

import argparse
import json
import os
import re
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
# moto's access log: `127.0.0.1 - - [date] "GET /bucket/key HTTP/1.1" 404 -`, some lines wrapped in colour codes.
COLOUR = re.compile(rb"\x1b\[[0-9;]*m")
REQUEST_LINE = re.compile(rb'"(GET|PUT|POST|DELETE|HEAD) [^"]*" (\d{3})')


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
    from rollwise.sketch import decode_text, encode_text, new_sketch

    decode_text(encode_text(new_sketch()))  # imports (protobuf) happen once per container, not per run: keep them out
    store = open_store(url)
    job = MergeJob(store, resolve(MergeSettings, {"archive_mode": mode}))
    t0, c0 = time.perf_counter(), time.process_time()
    result = job.run(REFERENCE)
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    assert not result.failures(), result.failures()[:3]
    return {
        "files": result.files_processed,
        "archived": result.files_archived,
        "cpu_s": cpu,
        "wall_s": wall,
        "peak_rss_mb": own_peak_mb(),
        "records": job.settings.records_output,
        "concurrency": job.settings.concurrency,
    }


def own_peak_mb() -> float:
    """This process's own high-water mark of resident memory (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def measure_bare(url: str, mode: str = "move") -> dict:
    """The job's requests and nothing else, made the cheapest way each can be, on the main thread: a
    GET If-Match through obstore; a CopyObject with x-amz-copy-source-if-match and a DeleteObjects
    with each ETag signed by botocore and sent by urllib3 (rollwise.s3_requests, the request layer
    alone: obstore takes no precondition on either)."""
    import obstore as obs

    from rollwise.config import AwsSettings, resolve
    from rollwise.s3_requests import ConditionalRequests

    store = open_store(url).native
    s3 = ConditionalRequests(url[len("s3://") :], None, resolve(AwsSettings))
    # S3 gives every object an ETag
    listed = [(m["path"], e_tag) for batch in obs.list(store, "runs/raw/", chunk_size=1000) for m in batch if (e_tag := m["e_tag"]) is not None]
    t0, c0 = time.perf_counter(), time.process_time()
    for key, e_tag in listed:
        bytes(obs.get(store, key, options={"if_match": e_tag}).bytes())
        if mode == "move":  # "bundle": the GETs and the bulk DELETEs alone, the requests of bundle mode but its one PUT a window
            s3.copy(key, "bare/" + key, e_tag)
    for i in range(0, len(listed), 1000):  # the originals stay for the job: delete the copies (their ETags are the originals'), the same requests
        chunk = listed[i : i + 1000]
        s3.delete_many(["bare/" + k for k, _ in chunk], [e for _, e in chunk])
    return {"files": len(listed), "cpu_s": time.process_time() - c0, "wall_s": time.perf_counter() - t0}


def child(kind: str, url: str, mode: str = "move") -> dict:
    # The deployed function runs with MALLOC_ARENA_MAX=2 (see infra/): so does the measured job.
    env = {**os.environ, "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2")}
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--url", url, "--mode", mode], capture_output=True, text=True, env=env)
    if out.returncode:
        sys.exit(f"the {kind} child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


class ServerLog:
    """Requests as the server saw them: lines of moto's access log."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.mark = 0

    def since_mark(self) -> dict[str, int]:
        data = self.path.read_bytes()
        statuses = [int(code) for _, code in REQUEST_LINE.findall(COLOUR.sub(b"", data[self.mark :]))]
        self.mark = len(data)
        return {
            "requests": len(statuses),
            "not_found": statuses.count(404),
            "precondition_failed": statuses.count(412),
            "server_errors": sum(code >= 500 for code in statuses),
        }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--files", type=int, default=10_000)
    p.add_argument("--windows", type=int, default=2, help="the files are spread over this many windows")
    p.add_argument("--modes", default="move,bundle")
    p.add_argument("--child", choices=["job", "bare"])
    p.add_argument("--url")
    p.add_argument("--mode", default="move")
    args = p.parse_args()
    if args.child:
        print(json.dumps(measure_job(args.url, args.mode) if args.child == "job" else measure_bare(args.url, args.mode)))
        return

    import boto3

    from support.emulators import free_port

    port = free_port()
    log_path = Path(f"/tmp/rollwise-bench-moto-{port}.log")
    with log_path.open("wb") as log:
        server = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    endpoint = f"http://127.0.0.1:{port}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    try:
        for _ in range(100):
            try:
                boto3.client("s3", endpoint_url=endpoint).list_buckets()
                break
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.1)
        server_log = ServerLog(log_path)
        for mode in args.modes.split(","):
            bucket = f"bench-{uuid.uuid4().hex[:10]}"
            boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
            url = f"s3://{bucket}"
            upload(url, args.files, args.windows)
            server_log.since_mark()
            bare = child("bare", url)
            bare_log = server_log.since_mark()
            own = child("bare", url, "bundle") if mode == "bundle" else bare
            server_log.since_mark()
            job = child("job", url, mode)
            seen = server_log.since_mark()
            n = job["files"]
            job_cpu, bare_cpu, own_cpu = (job["cpu_s"] / n * 1e3, bare["cpu_s"] / bare["files"] * 1e3, own["cpu_s"] / own["files"] * 1e3)
            print(
                f"mode={mode} records={str(job['records']).lower()} concurrency={job['concurrency']} files={n} windows={args.windows} "
                f"requests_per_file={seen['requests'] / n:.3f} cpu_ms_per_file={job_cpu:.3f} "
                f"bare_cpu_ms_per_file={bare_cpu:.3f} cpu_ratio={job_cpu / bare_cpu:.2f} own_requests_cpu_ms_per_file={own_cpu:.3f} "
                f"own_requests_ratio={job_cpu / own_cpu:.2f} peak_rss_mb={job['peak_rss_mb']:.1f} "
                f"wall_s={job['wall_s']:.1f} requests={seen['requests']} bare_requests={bare_log['requests']} "
                f"not_found={seen['not_found']} precondition_failed={seen['precondition_failed']} server_errors={seen['server_errors']}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait()
        log_path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
