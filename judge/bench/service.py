"""`judge bench service`: the whole service's latency and throughput, through `judge serve`.

Set-up. A fresh data directory in a temporary folder, an organiser and token made there first,
then `judge serve --workers W --languages c` on a free loopback port (`serve`, which
`judge bench load` shares): a Redis started for it in the data directory, its SQLite, its
worker (W boxes at a time, each pinned to a CPU), its web server; what the README's first
command starts. A problem is imported over the API: hello world with 10 tests
(a stated time limit of 1 s), and its verification is awaited.

Latency. `runs` submissions one after another, each `POST /api/v1/submissions?wait=true` of a
C hello world to that problem, timed from before the POST to the answer, which comes when the
verdict is final (compile once, 10 fresh boxes, check, store, publish). The queue is empty
each time: this is what one contestant waits.

Throughput. `count` submissions sent at once (the batch endpoint, 100 per request), then the
time until the last is done, polling the queue's counts. Submissions per minute is `count`
over that time: the queue never runs dry, so it is what the workers sustain. On a machine
shared with other work that figure is also theirs, so the CPU the service spent in that phase
is measured too (judge/bench/cputime.py: `judge serve`'s processes, its boxes and compilers,
and its Redis), per submission and by role, and what the machine's cores would sustain at
that cost with nothing else running (`cpu_bound_per_minute`).

Compiling. By default every submission is the same source, so after the first each compile
is a hit of the worker's compile cache (judge/compile_cache.py) and no compiler runs: the
figures are the service's own cost. `distinct_sources` gives each submission a comment of its
own, so that every one is compiled (about 50 ms of gcc here), as a contest's are.

Every submission must come back AC; anything else means a broken service, and BenchError says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..service.redis_server import EmbeddedRedis, RedisServerError
from ..storage import connect, migrate, session_factory
from ..storage.models import Role
from ..storage.repo import create_token, create_user
from . import BenchError, cputime, percentiles

HELLO_C = '#include <stdio.h>\nint main(void) { puts("Hello World!"); return 0; }\n'
TESTS = 10
START_TIMEOUT_S = 180.0


@dataclass(frozen=True, slots=True)
class ServiceBench:
    workers: int
    tests: int
    runs: int
    latency_ms: dict[str, float]
    latency_median_ms: float
    count: int
    throughput_seconds: float
    per_minute: float
    sources: str  # "identical": compile-cache hits after the first; "distinct": each one compiled
    cpu_ms_per_submission: float  # the service's, in the throughput phase
    cpu_ms_by_role: dict[str, float]
    cpu_bound_per_minute: float  # the machine's cores at that cost, nothing else running

    def to_json(self) -> dict[str, object]:
        return {
            "workers": self.workers,
            "tests_per_submission": self.tests,
            "sources": self.sources,
            "runs": self.runs,
            "latency_ms": self.latency_ms,
            "latency_median_ms": self.latency_median_ms,
            "count": self.count,
            "throughput_seconds": round(self.throughput_seconds, 3),
            "submissions_per_minute": round(self.per_minute, 1),
            "cpu_ms_per_submission": round(self.cpu_ms_per_submission, 1),
            "cpu_ms_by_role": self.cpu_ms_by_role,
            "cpu_bound_per_minute": round(self.cpu_bound_per_minute, 1),
            "cores": os.cpu_count(),
        }


class _Client:
    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str = "application/json",
        timeout: float = 120,
    ) -> Any:
        request = urllib.request.Request(
            f"{self.base}/api/v1{path}",
            data=body,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": content_type},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as e:
            raise BenchError(f"{method} {path}: HTTP {e.code}: {e.read().decode(errors='replace')}") from None


def _package(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            "hello/problem.yaml",
            "problem_format_version: 2023-07-draft\nname: Hello\nlimits:\n  time_limit: 1.0\n",
        )
        for i in range(TESTS):
            zf.writestr(f"hello/data/secret/{i:02}.in", f"{i}\n")
            zf.writestr(f"hello/data/secret/{i:02}.ans", "Hello World!\n")
        zf.writestr("hello/submissions/accepted/hello.c", HELLO_C)
    return path


def _multipart(field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            "Content-Type: application/zip\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure_service(
    *, workers: int = 2, runs: int = 30, count: int = 300, distinct_sources: bool = False
) -> ServiceBench:
    tmp = Path(tempfile.mkdtemp(prefix="judge-bench-service-"))
    try:
        with serve(tmp, workers, ["c"]) as (client, _, process):
            return _measure(client, tmp, workers, runs, count, distinct_sources, process.pid)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _measure(
    client: _Client, tmp: Path, workers: int, runs: int, count: int, distinct: bool, serve_pid: int
) -> ServiceBench:
    body, ctype = _multipart("package", "hello.zip", _package(tmp / "hello.zip").read_bytes())
    problem = client.call("POST", "/problems?wait=120", body, ctype)
    if not problem["verification"]["ok"]:
        raise BenchError(f"the benchmark's problem did not verify: {problem}")
    made = [0]

    def submission() -> dict[str, str]:
        made[0] += 1  # a comment of its own: compiled, not a compile-cache hit
        source = HELLO_C + (f"/* submission {made[0]} */\n" if distinct else "")
        return {"language": "c", "problem": "hello", "source": source}

    for _ in range(3):  # warm-up: the worker loads the package and its grader
        client.call("POST", "/submissions?wait=true", json.dumps(submission()).encode())
    samples = []
    for _ in range(runs):
        one = json.dumps(submission()).encode()
        t0 = time.perf_counter()
        doc = client.call("POST", "/submissions?wait=true&timeout=60", one)
        samples.append((time.perf_counter() - t0) * 1000)
        if doc["verdict"] != "AC" or len(doc["tests"]) != TESTS:
            raise BenchError(f"submission {doc['id']}: {doc['verdict']} with {len(doc['tests'])} tests")
    before = client.call("GET", "/queue")["submissions"]["done"]
    parts = [
        json.dumps({"submissions": [submission() for _ in range(min(100, count - sent))]}).encode()
        for sent in range(0, count, 100)
    ]
    roots = [serve_pid, *(p for p in cputime.children(os.getpid()) if p != serve_pid)]  # and its Redis
    cpu_before = cputime.snapshot(roots)
    t0 = time.perf_counter()
    last = 0
    for part in parts:
        last = client.call("POST", "/submissions/batch", part)["submissions"][-1]["id"]
    # Waiting costs the service little: long waits on the last one sent (the workers take one
    # user's submissions in turn, so it is among the last done), then the queue's counts until
    # every one is done. Polling those every 0.25 s throughout cost the web 2 to 4 ms of CPU per
    # submission (a count over every submission, a scan of Redis' keys), counted as the service's.
    while client.call("GET", f"/submissions/{last}?wait=true&timeout=60")["state"] != "done":
        if time.perf_counter() - t0 > 1800:
            raise BenchError("the throughput phase took over 30 minutes")
    while client.call("GET", "/queue")["submissions"]["done"] - before < count:
        time.sleep(0.25)
        if time.perf_counter() - t0 > 1800:
            raise BenchError("the throughput phase took over 30 minutes")
    elapsed = time.perf_counter() - t0
    by_role = cputime.spent(cpu_before, cputime.snapshot(roots))
    recent = client.call("GET", f"/submissions?limit={min(count, 500)}")["submissions"]
    bad = [s for s in recent if s["verdict"] != "AC"]
    if bad:
        raise BenchError(f"{len(bad)} of the last submissions were not AC, e.g. {bad[0]}")
    cpu_ms = sum(by_role.values()) * 1000 / count
    roles: dict[str, float] = {}
    for name, seconds in sorted(by_role.items(), key=lambda x: -x[1]):
        roles[_role(name)] = round(roles.get(_role(name), 0.0) + seconds * 1000 / count, 1)
    return ServiceBench(
        workers=workers,
        tests=TESTS,
        runs=runs,
        latency_ms=percentiles(samples),
        latency_median_ms=round(statistics.median(samples), 1),
        count=count,
        throughput_seconds=elapsed,
        per_minute=count / elapsed * 60,
        sources="distinct" if distinct else "identical",
        cpu_ms_per_submission=cpu_ms,
        cpu_ms_by_role=roles,
        cpu_bound_per_minute=(os.cpu_count() or 1) * 60_000 / cpu_ms if cpu_ms else 0.0,
    )


def _role(command: str) -> str:
    """A short name for a process of the service, from its command line."""
    for marker, name in (
        (" -m worker", "worker (with its boxes and compilers)"),
        (" -m web", "web"),
        ("redis-server", "redis"),
        (" serve ", "judge serve"),
    ):
        if marker in f" {command} ":
            return name
    return command


@contextlib.contextmanager
def serve(
    tmp: Path, workers: int, langs: Sequence[str], *, env_extra: Mapping[str, str] | None = None
) -> Iterator[tuple[_Client, str, subprocess.Popen[bytes]]]:
    """`judge serve` on `tmp`, ready (a worker announced): its client, Redis URL and process.

    The Redis is started here (an EmbeddedRedis in `tmp`) and handed to the serve, so that a
    benchmark can listen to the progress channels too; an organiser and its token are made
    first, in the serve's SQLite. `env_extra` is added to the serve's environment."""
    engine = connect(f"sqlite:///{tmp / 'judge.db'}")
    migrate(engine)
    with session_factory(engine).begin() as session:
        user = create_user(session, "bench", uuid.uuid4().hex, Role.ORGANISER)
        token = create_token(session, user)[1]
    engine.dispose()
    redis_server = EmbeddedRedis(tmp / "redis")
    try:
        redis_url = redis_server.start()
    except RedisServerError as e:
        raise BenchError(str(e)) from None
    env = {k: v for k, v in os.environ.items() if k != "JUDGE_DATABASE_URL"}
    env |= {"JUDGE_DATA_DIR": str(tmp), "JUDGE_REDIS_URL": redis_url, **(env_extra or {})}
    port = _free_port()
    log = open(tmp / "serve.log", "wb")  # closed in finally
    argv = [
        sys.executable,
        "-m",
        "judge",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--languages",
        ",".join(langs),
    ]
    serve = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    client = _Client(f"http://127.0.0.1:{port}", token)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            check_alive(serve, tmp)
            try:
                if client.call("GET", "/workers", timeout=5)["workers"]:
                    break
            except (OSError, BenchError):
                pass
            if time.monotonic() > deadline:
                raise BenchError("judge serve did not get a worker ready in time")
            time.sleep(0.2)
        yield client, redis_url, serve
    finally:
        serve.send_signal(signal.SIGINT)
        try:
            serve.wait(timeout=60)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait()
        log.close()
        redis_server.stop()


def check_alive(serve: subprocess.Popen[bytes], tmp: Path) -> None:
    if serve.poll() is not None:
        tail = (tmp / "serve.log").read_text(errors="replace")[-2000:]
        raise BenchError(f"judge serve stopped (exit code {serve.returncode}): {tail}")
