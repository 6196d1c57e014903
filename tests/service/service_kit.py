"""What the service tests share: the service itself (`run_service`, which conftest.py's `service`
and the tests that need a service of their own start), a client for it, a webhook receiver and a
small problem package. Imported by its name, never `conftest`: that name is another folder's
conftest when pytest collects several folders at once."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
from kit import free_port, wait_until

from judge.service.redis_server import EmbeddedRedis
from judge.storage import connect, migrate, session_factory
from judge.storage.models import Role
from judge.storage.repo import create_token, create_user

LANGUAGES = "c,python3"  # the service's worker grades these only: its self-tests are quick


@dataclass
class Service:
    base: str
    data_dir: Path
    redis_url: str
    env: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)  # organiser, alice, bob

    def url(self, path: str) -> str:
        return f"{self.base}/api/v1{path}"

    def call(self, method: str, path: str, *, as_: str | None = "alice", **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if as_ is not None:
            headers["Authorization"] = f"Bearer {self.tokens[as_]}"
        kwargs.setdefault("timeout", 90)
        return requests.request(method, self.url(path), headers=headers, **kwargs)

    def submit(self, body: dict[str, Any], *, as_: str = "alice", wait: bool = True) -> dict[str, Any]:
        r = self.call("POST", "/submissions", as_=as_, json=body, params={"wait": "true"} if wait else None)
        assert r.status_code == 201, r.text
        doc: dict[str, Any] = r.json()
        return doc

    def wait_done(
        self,
        submission_id: int,
        *,
        as_: str = "organiser",
        timeout_s: float = 60,
        context: Callable[[], str] | None = None,
    ) -> dict[str, Any]:
        """The submission once graded; fails after `timeout_s` (with `context()`, say the logs)."""

        def ask() -> dict[str, Any]:
            r = self.call(
                "GET", f"/submissions/{submission_id}", as_=as_, params={"wait": "true", "timeout": 10}
            )
            assert r.status_code == 200, r.text
            doc: dict[str, Any] = r.json()
            return doc

        return wait_until(
            ask,
            until=lambda doc: doc["state"] == "done",
            timeout_s=timeout_s,
            every_s=0,
            what=f"submission {submission_id} to be graded",
            context=context,
        )


class Receiver:
    """A webhook receiver on loopback: answers the first `failures` deliveries (POSTs, and Judge0's
    callbacks, PUTs) with 500, then 204, and keeps each as (method, headers, body). A context
    manager: the server stops at its end."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((self.command, dict(self.headers), body))
                self.send_response(500 if len(receiver.received) <= receiver.failures else 204)
                self.end_headers()

            do_PUT = do_POST

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_serving(
    base: str,
    procs: Sequence[subprocess.Popen[Any]] = (),
    *,
    timeout_s: float = 60,
    context: Callable[[], str] | None = None,
) -> None:
    """Until the web at `base` answers (its OpenAPI document); fails at once if one of `procs` ends."""

    def answers() -> bool:
        _alive(procs, context)
        return requests.get(f"{base}/api/v1/openapi.json", timeout=5).status_code == 200

    wait_until(
        answers,
        what=f"the web at {base} to answer",
        timeout_s=timeout_s,
        every_s=0.2,
        context=context,
        retry_on=(requests.ConnectionError, requests.Timeout),
    )  # still starting


def wait_workers(
    base: str,
    token: str,
    procs: Sequence[subprocess.Popen[Any]] = (),
    *,
    count: int = 1,
    timeout_s: float = 120,
    every_s: float = 0.2,
    context: Callable[[], str] | None = None,
) -> None:
    """Until the service at `base` lists `count` workers or more (as `token`, an organiser's): they
    announce themselves once their languages passed their self-tests. Fails at once if one of
    `procs` ends."""

    def listed() -> bool:
        _alive(procs, context)
        r = requests.get(f"{base}/api/v1/workers", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        return r.status_code == 200 and len(r.json()["workers"]) >= count

    wait_until(
        listed,
        what=f"{count} worker(s) at {base}",
        timeout_s=timeout_s,
        every_s=every_s,
        context=context,
        retry_on=(requests.ConnectionError, requests.Timeout),
    )  # still starting


def _alive(procs: Sequence[subprocess.Popen[Any]], context: Callable[[], str] | None) -> None:
    ended = [p.args for p in procs if p.poll() is not None]
    assert not ended, f"ended: {ended}\n{context() if context is not None else ''}"


def tail(path: Path, lines: int = 40) -> str:
    """The last `lines` lines of a log file, or "(no log)"."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def run_service(
    data_dir: Path, database_url: str, extra_env: dict[str, str] | None = None
) -> Generator[Service, None, None]:
    """The whole service on `data_dir` and `database_url` (a fresh database): an embedded Redis,
    `python -m worker` (LANGUAGES, two pool processes) and `python -m web` on a free loopback port,
    with three accounts (organiser, alice, bob) and their tokens, and `extra_env` over the rest.
    A generator: yields the Service once a worker is listed, and stops it all when closed. Logs
    go to `data_dir`; their ends are in the failure when the service does not start."""
    redis_server = EmbeddedRedis(data_dir / "redis")
    redis_url = redis_server.start()
    port = free_port()
    env = dict(
        os.environ,
        JUDGE_DATA_DIR=str(data_dir),
        JUDGE_REDIS_URL=redis_url,
        JUDGE_DATABASE_URL=database_url,
        JUDGE_WEBHOOK_BACKOFF_S="0.2",
        JUDGE_SECRET_KEY="test-secret",
    )
    env.update(extra_env or {})
    engine = connect(env["JUDGE_DATABASE_URL"])
    migrate(engine)
    svc = Service(base=f"http://127.0.0.1:{port}", data_dir=data_dir, redis_url=redis_url, env=env)
    with session_factory(engine).begin() as session:
        for name, role in (
            ("organiser", Role.ORGANISER),
            ("alice", Role.CONTESTANT),
            ("bob", Role.CONTESTANT),
        ):
            user = create_user(session, name, f"{name}-password", role)
            svc.tokens[name] = create_token(session, user)[1]
    engine.dispose()
    logs = {name: open(data_dir / f"{name}.log", "wb") for name in ("worker", "web")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "worker", "--languages", LANGUAGES, "--concurrency", "2"],
            env=env,
            stdout=logs["worker"],
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [sys.executable, "-m", "web", "--port", str(port)],
            env=env,
            stdout=logs["web"],
            stderr=subprocess.STDOUT,
        ),
    ]

    def tails() -> str:
        return "\n".join(f"--- {n}.log\n{tail(data_dir / f'{n}.log')}" for n in logs)

    try:
        wait_workers(svc.base, svc.tokens["organiser"], procs, context=tails)
        yield svc
    finally:
        stop_all(procs)
        for f in logs.values():
            f.close()
        redis_server.stop()


def start_serve(data_dir: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    """`judge serve` as a user starts it, on its own data directory (its embedded Redis and SQLite,
    whatever the test session's environment points at), one worker for python3; stderr on a
    text pipe for the caller to read, stdout dropped."""
    env = {k: v for k, v in os.environ.items() if k not in ("JUDGE_REDIS_URL", "JUDGE_DATABASE_URL")}
    env["JUDGE_DATA_DIR"] = str(data_dir)
    argv = [sys.executable, "-m", "judge", "serve", "--port", str(port), "--workers", "1"]
    return subprocess.Popen(
        [*argv, "--languages", "python3", *extra],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )


def stop_all(procs: list[subprocess.Popen[bytes]], grace_s: float = 30) -> None:
    """SIGTERM to every process, then wait for each; one still there after `grace_s` is killed."""
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


SUM_C = b'#include <stdio.h>\nint main(void){long a,b;scanf("%ld %ld",&a,&b);printf("%ld\\n",a+b);}\n'
SUM_PY = b"a, b = map(int, input().split())\nprint(a + b)\n"
WRONG_C = b'#include <stdio.h>\nint main(void){long a,b;scanf("%ld %ld",&a,&b);printf("%ld\\n",a-b);}\n'


STATEMENT = r"""\problemname{Sum}
Add two integers, \emph{exactly}.

\section*{Input}
One line with two integers $a$ and $b$ ($-10^9 \le a, b \le 10^9$).

\section*{Output}
One line with $a + b$.
"""


def sum_package(path: Path, name: str = "sum") -> Path:
    """A small legacy Kattis package zip: a + b, 1 sample and 3 secret tests, its own
    accepted and wrong submissions; no time limit stated, so verification computes one."""
    cases = {
        "sample/1": ("1 2\n", "3\n"),
        "secret/1": ("10 20\n", "30\n"),
        "secret/2": ("-5 5\n", "0\n"),
        "secret/3": ("1000000000 1000000000\n", "2000000000\n"),
    }
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{name}/problem.yaml", f"name: Sum {name}\n")
        zf.writestr(f"{name}/problem_statement/problem.en.tex", STATEMENT)
        for case, (given, answer) in cases.items():
            zf.writestr(f"{name}/data/{case}.in", given)
            zf.writestr(f"{name}/data/{case}.ans", answer)
        zf.writestr(f"{name}/submissions/accepted/sum.c", SUM_C)
        zf.writestr(f"{name}/submissions/accepted/sum.py", SUM_PY)
        zf.writestr(f"{name}/submissions/wrong_answer/minus.c", WRONG_C)
    return path


def zip_of(files: dict[str, bytes]) -> bytes:
    """A zip archive, in memory, of these names and contents."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def judge0_call(
    service: Service, method: str, path: str, *, as_: str | None = "alice", **kw: Any
) -> requests.Response:
    """A request to the service's Judge0 API (`/judge0` + path) as user `as_` (X-Auth-Token)."""
    headers = dict(kw.pop("headers", {}))
    if as_ is not None:
        headers["X-Auth-Token"] = service.tokens[as_]
    return requests.request(method, f"{service.base}/judge0{path}", headers=headers, timeout=90, **kw)


def judge0_done(service: Service, token: str, *, timeout_s: float = 120, **params: str) -> dict[str, Any]:
    """The Judge0 submission `token` once it has ended (a status past 2, "Processing")."""

    def ask() -> dict[str, Any]:
        r = judge0_call(service, "GET", f"/submissions/{token}", params=params)
        assert r.status_code == 200, r.text
        doc: dict[str, Any] = r.json()
        return doc

    return wait_until(
        ask,
        until=lambda doc: doc["status"]["id"] > 2,
        timeout_s=timeout_s,
        every_s=0.1,
        what=f"Judge0 submission {token} to end",
    )
