"""Faults, each played out on real parts: a real redis-server, real workers grading in real boxes,
the real web, a SQLite file, a tmpfs. Issue 9.

Three instances of the service, one per module each, never the shared session `service` (these
tests kill and restart its parts):

* `instance` (SQLite, a Redis on a fixed port and password so that it can be restarted under the
  same URL, append-only file on as the embedded one has it; the web; one C worker, one pool
  process, each worker started under `unshare --mount` so that a test can break its box staging
  directory and nobody else's). JUDGE_LEASE_S=2, so a lost grading comes back in seconds;
  JUDGE_DB_RETRY_S=8, so a worker gives a refused result up soon.
* `on_postgres`: the web and a C worker on a throwaway PostgreSQL of the module's own (not the
  CI's), which a test stops and starts.
* `disk`: the web alone on a 64 MiB tmpfs as its data directory (SQLite there too).

The stories, in file order (the `instance` tests share one instance and leave it working):

(a, f) A worker's whole process group is killed with SIGKILL while it runs a slow submission;
       a new worker starts, its reaper finds the grading's lease gone and puts the submission
       back (generation 1, its log names the lost grader), and it ends once: one result, one
       `done` event.
(b)    Redis is stopped with a submission running and three waiting in a queue nobody takes.
       Meanwhile a submit, a wait, an event stream and the workers' list are 503 JSON; reading
       a submission, which needs only the database, is not. Redis comes back on its
       append-only file: the three are still queued, and a worker started for them grades
       them; the C worker has reconnected by itself and grades new work; everything ends once.
(c)    A helper process holds SQLite's write lock. A submit waits the busy timeout, then is
       503 `database_unavailable` with Retry-After and stores nothing; reads go on (WAL).
       A worker whose result is refused tries again and stores it once the lock goes; one that
       is refused for longer than JUDGE_DB_RETRY_S leaves the submission `running`, not
       wrongly marked, and the reaper puts it back. PostgreSQL stopped mid-grading: the API
       is 503 `database_unavailable` at once (reads too: they need it here), the worker's
       result waits for the server's return and is stored once.
       In this process: a claim the database refuses is raised for the task to retry later.
(d)    A fresh worker's box staging directory is hidden by a read-only tmpfs in its own mount
       namespace, so no box can be made (SandboxError; fresh, because boxes its sandbox
       prepared ahead would outlive the fault). Always: three attempts, then IE with the
       cause in `message`. Once: the fault is cleared after the first attempt failed, and the
       retry gives the submission's own verdict. Beside them, in this process, the same with a
       Sandbox subclass whose box() raises.
(e)    The data directory's file system has less free than JUDGE_MIN_FREE_MB: a submit is 507
       `storage_full` naming both numbers, and nothing is stored; with room again it is taken.
       With the check off and the disk entirely full, SQLite's own refusal is the same 507.

Waits are on what happens (a log line, a state, an event), each under a generous hang guard;
nothing asserts on how long something took.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest
import redis
import requests
from kit import free_port, wait_until
from service_kit import SUM_C, WRONG_C, Service, sum_package
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool

import sandbox
from judge.service import queue
from judge.service.grade import GradingService, StorageUnavailable
from judge.service.lifetime import terminate_with_parent
from judge.storage import connect, migrate, repo, session_factory
from judge.storage.models import Role, Submission, SubmissionState
from judge.verdict import Verdict

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

SLOW_TESTS = 9
SLOW_C = (
    b"#include <stdio.h>\n#include <time.h>\nint main(void){long a,b;"
    b"struct timespec t={0,700000000};nanosleep(&t,0);"
    b'scanf("%ld %ld",&a,&b);printf("%ld\\n",a+b);}\n'
)
STAGING_PARENT = "/run/judge-sandbox"  # sandbox/runtime.py STAGING is its `root`
HANG_S = 120.0  # the hang guard of every wait


def _dead(pid: int) -> bool:
    """Gone, or a zombie that nobody reaped yet."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


# -- the parts ----------------------------------------------------------------------------------


@dataclass
class RedisServer:
    """redis-server on a fixed port and password, so a restart keeps its URL; append-only file
    on, as judge/service/redis_server.py configures the embedded one."""

    data_dir: Path
    log: Path
    port: int = field(default_factory=free_port)
    password: str = "faults-test-password"
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = (
            f"bind 127.0.0.1\nport {self.port}\nrequirepass {self.password}\nappendonly yes\n"
            f'appendfsync everysec\nsave ""\ndir {self.data_dir}\n'
        )
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                ["redis-server", "-"],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=terminate_with_parent,
            )
        assert self.process.stdin is not None
        self.process.stdin.write(config.encode())
        self.process.stdin.close()

        def answers() -> bool:
            assert self.process is not None
            assert self.process.poll() is None, self.log.read_text()[-2000:]
            try:
                with redis.Redis.from_url(self.url, socket_timeout=1) as client:
                    return bool(client.ping())
            except redis.RedisError:
                return False

        wait_until(answers, what="redis-server answers", timeout_s=30, every_s=0.1)

    def stop(self) -> None:
        """SIGTERM: Redis writes its append-only file out and exits, as `judge serve` stops it."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


class Events:
    """Every progress event of every submission, heard on Redis pub/sub by a thread that
    subscribes again whenever Redis comes back; `connects` counts its subscriptions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.seen: list[tuple[int, dict[str, Any]]] = []
        self.connects = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pubsub = self._subscribe()
        self._thread = threading.Thread(target=self._listen, name="fault-events", daemon=True)
        self._thread.start()

    def _subscribe(self) -> Any:
        pubsub = redis.Redis.from_url(self.url, socket_timeout=2).pubsub()
        pubsub.psubscribe("judge:submission:*")
        with self._lock:
            self.connects += 1
        return pubsub

    def _listen(self) -> None:
        pubsub = self._pubsub
        while not self._stop.is_set():
            try:
                if pubsub is None:
                    pubsub = self._subscribe()
                msg = pubsub.get_message(timeout=0.2)
            except (redis.RedisError, OSError):
                with contextlib.suppress(Exception):
                    pubsub.close()
                pubsub = None
                time.sleep(0.2)
                continue
            if msg and msg["type"] == "pmessage":
                sid = int(msg["channel"].decode().rsplit(":", 1)[1])
                with self._lock:
                    self.seen.append((sid, json.loads(msg["data"])))
        if pubsub is not None:
            pubsub.close()

    def count(self, sid: int, kind: str) -> int:
        with self._lock:
            return sum(1 for s, e in self.seen if s == sid and e.get("event") == kind)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@dataclass
class Instance:
    """One service: its Redis, its web and its workers, each a process this test owns."""

    service: Service
    redis: RedisServer
    database: Path
    logs_dir: Path
    env: dict[str, str]
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    files: list[IO[bytes]] = field(default_factory=list)
    worker: str = ""  # the C worker of the moment
    events: Events | None = None
    postgres: PostgresServer | None = None  # its database server, when it is not SQLite
    _workers_made: int = 0

    def log(self, name: str) -> str:
        path = self.logs_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self) -> str:
        return "\n".join(f"--- {n}.log (end)\n{self.log(n)[-3000:]}" for n in self.procs)

    def start(self, name: str, argv: list[str], **env: str) -> subprocess.Popen[bytes]:
        f = open(self.logs_dir / f"{name}.log", "ab")  # closed with the instance
        self.files.append(f)
        # a session of its own, so that a kill reaches its whole process group and nothing else
        p = subprocess.Popen(
            argv,
            env={**self.env, **env},
            stdout=f,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=terminate_with_parent,
        )
        self.procs[name] = p
        return p

    def start_web(self, **env: str) -> None:
        port = int(self.service.base.rsplit(":", 1)[1])
        self.start("web", [sys.executable, "-m", "web", "--port", str(port)], **env)

        def up() -> bool:
            assert self.procs["web"].poll() is None, self.logs()
            try:
                return self.service.call("GET", "/languages", timeout=5).status_code == 200
            except (requests.ConnectionError, requests.Timeout):  # listening, still starting
                return False

        wait_until(up, what="the web answers", timeout_s=HANG_S, every_s=0.1, context=self.logs)

    def start_worker(self, languages: str = "c") -> str:
        """A worker (one pool process) in a private mount namespace; its name, once it is ready."""
        self._workers_made += 1
        name = f"faults{self._workers_made}"
        cpu = sorted(os.sched_getaffinity(0))[0]
        self.start(
            name,
            [
                "unshare",
                "--mount",
                "--propagation",
                "private",
                sys.executable,
                "-m",
                "worker",
                "--languages",
                languages,
                "--concurrency",
                "1",
                "--cpus",
                str(cpu),
                "--name",
                name,
            ],
        )

        def ready() -> bool:
            assert self.procs[name].poll() is None, self.logs()
            return f"{name}@" in self.log(name) and " ready." in self.log(name)

        wait_until(ready, what=f"worker {name} is ready", timeout_s=HANG_S, every_s=0.1, context=self.logs)
        return name

    def kill(self, name: str) -> None:
        """SIGKILL to the whole process group: the worker, its pool process, its boxes' keepers."""
        p = self.procs[name]
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()

    def stop(self, name: str) -> None:
        """SIGTERM to the process alone (a worker's warm shutdown: its pool finishes and stops);
        SIGKILL to its whole group if it has not gone in a minute."""
        p = self.procs.pop(name)
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    def close(self) -> None:
        if self.events is not None:
            self.events.close()
        for name in list(self.procs):
            with contextlib.suppress(ProcessLookupError):
                self.stop(name)
        for f in self.files:
            f.close()
        self.redis.stop()

    def _query(self, sql: str, **params: object) -> Any:
        """The first row of a query, on a connection of its own (on SQLite: no write, so no wait
        for a lock that a test holds)."""
        engine = create_engine(self.env["JUDGE_DATABASE_URL"], poolclass=NullPool)
        try:
            with engine.connect() as conn:
                return conn.execute(text(sql), params).one()
        finally:
            engine.dispose()

    def row(self, sid: int) -> dict[str, Any]:
        state, generation, graded_by, verdict, message = self._query(
            "SELECT state, generation, graded_by, verdict, message FROM submissions WHERE id = :id", id=sid
        )
        tests = self._query("SELECT count(*) FROM test_results WHERE submission_id = :id", id=sid)[0]
        return {
            "state": state,
            "generation": generation,
            "graded_by": graded_by,
            "verdict": verdict,
            "message": message,
            "tests": tests,
        }

    def count(self) -> int:
        return int(self._query("SELECT count(*) FROM submissions")[0])

    def submit(self, source: bytes, *, problem: str | None = None, **extra: Any) -> int:
        body: dict[str, Any] = {"language": extra.pop("language", "c"), "source": source.decode(), **extra}
        if problem is not None:
            body["problem"] = problem
        return int(self.service.submit(body, wait=False)["id"])

    def running(self, sid: int, holder_prefix: str) -> dict[str, Any]:
        def now() -> dict[str, Any] | None:
            row = self.row(sid)
            ok = row["state"] == "running" and (row["graded_by"] or "").startswith(holder_prefix)
            return row if ok else None

        found: dict[str, Any] = wait_until(
            now,
            what=f"submission {sid} running on {holder_prefix}",
            timeout_s=HANG_S,
            every_s=0.1,
            context=self.logs,
        )
        return found

    def done(self, sid: int) -> dict[str, Any]:
        doc = self.service.wait_done(sid, timeout_s=HANG_S, context=self.logs)
        assert doc["state"] == "done", f"submission {sid} never ended: {doc}\n{self.logs()}"
        return doc

    def done_once(self, sid: int) -> None:
        """Its `done` event heard exactly once (waiting for the first, under the hang guard)."""
        assert self.events is not None
        wait_until(
            lambda: self.events.count(sid, "done") if self.events else 0,
            what=f"the done event of {sid}",
            timeout_s=HANG_S,
            every_s=0.1,
        )
        time.sleep(1.0)  # room for a second one to arrive, were it sent
        assert self.events.count(sid, "done") == 1, [e for s, e in self.events.seen if s == sid]


def _package(path: Path, name: str, tests: int) -> Path:
    """A problem whose accepted solution is SUM_C: 1 sample and `tests - 1` secret tests."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{name}/problem.yaml", f"name: {name}\n")
        zf.writestr(f"{name}/.timelimit", "2\n")
        zf.writestr(f"{name}/data/sample/1.in", "1 2\n")
        zf.writestr(f"{name}/data/sample/1.ans", "3\n")
        for i in range(1, tests):
            zf.writestr(f"{name}/data/secret/{i}.in", f"{i} {i}\n")
            zf.writestr(f"{name}/data/secret/{i}.ans", f"{2 * i}\n")
        zf.writestr(f"{name}/submissions/accepted/sum.c", SUM_C)
    return path


def _import(svc: Service, archive: Path) -> None:
    with open(archive, "rb") as f:
        r = svc.call("POST", "/problems", as_="organiser", files={"package": (archive.name, f)})
    assert r.status_code == 201 and r.json()["verification"]["ok"] is True, r.text


def _new_instance(base: Path, database_url: str | None = None, **env: str) -> Instance:
    data_dir, logs_dir = base / "data", base / "logs"
    data_dir.mkdir(exist_ok=True)
    logs_dir.mkdir(exist_ok=True)
    server = RedisServer(base / "redis", logs_dir / "redis.log")
    server.start()
    database = data_dir / "judge.db"  # unless `database_url` names another
    full_env = dict(
        os.environ,
        JUDGE_DATA_DIR=str(data_dir),
        JUDGE_REDIS_URL=server.url,
        JUDGE_DATABASE_URL=database_url or f"sqlite:///{database}",
        JUDGE_SECRET_KEY="faults-secret",
        **env,
    )
    svc = Service(
        base=f"http://127.0.0.1:{free_port()}", data_dir=data_dir, redis_url=server.url, env=full_env
    )
    engine = connect(full_env["JUDGE_DATABASE_URL"])
    migrate(engine)
    with session_factory(engine).begin() as session:
        for name, role in (("organiser", Role.ORGANISER), ("alice", Role.CONTESTANT)):
            svc.tokens[name] = repo.create_token(session, repo.create_user(session, name, "pw", role))[1]
    engine.dispose()
    return Instance(svc, server, database, logs_dir, full_env)


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory, sandbox_ready: None) -> Iterator[Instance]:
    inst = _new_instance(
        tmp_path_factory.mktemp("faults"),
        JUDGE_LEASE_S="2",
        JUDGE_MAX_JOB_S="120",
        JUDGE_DB_RETRY_S="8",
        JUDGE_GRADE_ATTEMPTS="3",
        JUDGE_GRADE_RETRY_S="2",
    )
    try:
        inst.start_web()
        inst.worker = inst.start_worker("c")
        inst.events = Events(inst.redis.url)
        base = tmp_path_factory.mktemp("faults-packages")
        _import(inst.service, _package(base / "slow.zip", "slow", SLOW_TESTS))
        _import(inst.service, sum_package(base / "sum.zip"))
        yield inst
    finally:
        inst.close()


# -- (a) and (f): a worker killed mid-grading -------------------------------------------------------


def test_a_worker_killed_mid_grading_is_replaced_and_its_submission_ends_once(instance: Instance) -> None:
    old = instance.worker
    sid = instance.submit(SLOW_C, problem="slow")
    holder = instance.running(sid, f"{old}/")["graded_by"]
    instance.kill(old)
    pool_pid = int(holder.rsplit("/", 1)[1])
    wait_until(
        lambda: _dead(pool_pid),
        what="the grading process is gone with its group",
        timeout_s=HANG_S,
        every_s=0.1,
    )

    instance.worker = instance.start_worker("c")
    doc = instance.done(sid)
    assert doc["verdict"] == "AC"
    assert [t["verdict"] for t in doc["tests"]] == ["AC"] * SLOW_TESTS
    row = instance.row(sid)
    assert row["generation"] == 1  # put back once, by the reaper, not redelivered on generation 0
    assert row["graded_by"].startswith(f"{instance.worker}/")
    assert row["tests"] == SLOW_TESTS
    assert f"its grader {holder} is gone; queued again (generation 1)" in instance.log(instance.worker)
    instance.done_once(sid)


# -- (b): Redis restarted during a run -----------------------------------------------------------


def test_redis_restarted_mid_run_loses_nothing_and_the_api_says_503_meanwhile(instance: Instance) -> None:
    assert instance.events is not None
    svc = instance.service
    in_flight = instance.submit(SLOW_C, problem="slow")
    # Python 3 runs: this instance's worker takes C only, so they wait in their queue
    waiting = {
        instance.submit(
            f"print({i} * {i})".encode(), language="python3", stdin="", expected_output=f"{i * i}\n"
        ): "AC"
        for i in range(3)
    }
    instance.running(in_flight, f"{instance.worker}/")
    client = redis.Redis.from_url(instance.redis.url)
    assert queue.queue_lengths(client).get("judge.lang.python3") == 3
    client.close()
    stored = instance.count()
    connects = instance.events.connects

    instance.redis.stop()
    try:
        r = svc.call("POST", "/submissions", json={"language": "c", "source": "int main(){}", "stdin": ""})
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "queue_unavailable"
        assert instance.count() == stored  # the submission that could not be queued is not kept
        for path in (f"/submissions/{in_flight}?wait=true&timeout=5", f"/submissions/{in_flight}/events"):
            r = svc.call("GET", path, as_="organiser")
            assert r.status_code == 503 and r.json()["error"]["code"] == "queue_unavailable", (path, r.text)
        r = svc.call("GET", "/workers", as_="organiser")
        assert r.status_code == 503 and r.json()["error"]["code"] == "queue_unavailable", r.text
        # what needs only the database still answers
        r = svc.call("GET", f"/submissions/{in_flight}", as_="organiser")
        assert r.status_code == 200 and r.json()["id"] == in_flight, r.text
        r = svc.call("GET", "/submissions", as_="alice")
        assert r.status_code == 200 and {d["id"] for d in r.json()["submissions"]} >= {in_flight, *waiting}
    finally:
        instance.redis.start()
    wait_until(
        lambda: instance.events is not None and instance.events.connects > connects,
        what="the event listener is back",
        timeout_s=HANG_S,
        every_s=0.1,
    )
    # the in-flight grading (9 tests of 0.7 s) outlasts the restart, so its `done` can be heard
    assert instance.row(in_flight)["state"] != "done", "the slow submission ended before Redis came back"

    client = redis.Redis.from_url(instance.redis.url)
    assert queue.queue_lengths(client).get("judge.lang.python3") == 3  # kept in the append-only file
    client.close()
    python_worker = instance.start_worker("python3")
    try:
        doc = instance.done(in_flight)
        assert doc["verdict"] == "AC" and instance.row(in_flight)["tests"] == SLOW_TESTS
        for sid, verdict in waiting.items():
            assert instance.done(sid)["verdict"] == verdict
            assert instance.row(sid)["graded_by"].startswith(f"{python_worker}/")
        # the C worker came back to its queue by itself: new work reaches it
        after = instance.submit(SUM_C, problem="sum")
        assert instance.done(after)["verdict"] == "AC"
        assert instance.row(after)["graded_by"].startswith(f"{instance.worker}/")
        for sid in (in_flight, *waiting, after):
            instance.done_once(sid)
    finally:
        instance.stop(python_worker)


# -- (c): the database locked --------------------------------------------------------------------

LOCKER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
db.execute("BEGIN IMMEDIATE")  # SQLite's write lock; readers go on (WAL)
print("locked", flush=True)
sys.stdin.readline()
db.execute("ROLLBACK")
"""


@contextlib.contextmanager
def locked(database: Path) -> Iterator[None]:
    """SQLite's write lock, held by another process (a long transaction) until the block ends."""
    p = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(database)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert p.stdin is not None and p.stdout is not None
    try:
        assert p.stdout.readline() == b"locked\n"
        yield
    finally:
        with contextlib.suppress(BrokenPipeError):
            p.stdin.write(b"\n")
            p.stdin.close()
        p.wait(timeout=30)
        p.stdout.close()


def test_a_locked_database_is_a_503_after_the_busy_timeout_and_reads_go_on(instance: Instance) -> None:
    svc = instance.service
    sid = instance.submit(SUM_C, problem="sum")
    assert instance.done(sid)["verdict"] == "AC"
    stored = instance.count()
    with locked(instance.database):
        r = svc.call("POST", "/submissions", json={"language": "c", "source": "int main(){}", "stdin": ""})
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "database_unavailable"
        assert "locked" in r.json()["error"]["message"]
        assert int(r.headers["Retry-After"]) > 0
        r = svc.call("GET", f"/submissions/{sid}", as_="alice")
        assert r.status_code == 200 and r.json()["verdict"] == "AC", r.text
    assert instance.count() == stored  # nothing of the refused submission was kept
    again = instance.submit(SUM_C, problem="sum")
    assert instance.done(again)["verdict"] == "AC"


def test_a_worker_stores_its_result_once_the_lock_is_gone(instance: Instance) -> None:
    sid = instance.submit(SLOW_C, problem="slow")
    instance.running(sid, f"{instance.worker}/")
    refused = f"submission {sid}: store its result: the database refused it (database is locked)"
    with locked(instance.database):
        wait_until(
            lambda: refused in instance.log(instance.worker),
            what="the worker is refused",
            timeout_s=HANG_S,
            every_s=0.1,
            context=instance.logs,
        )
        assert instance.row(sid)["state"] == "running"
    doc = instance.done(sid)
    assert doc["verdict"] == "AC" and instance.row(sid)["tests"] == SLOW_TESTS
    assert instance.row(sid)["generation"] == 0  # stored by its first grading: nothing was put back
    instance.done_once(sid)


def test_a_result_the_database_never_takes_is_left_to_the_reaper(instance: Instance) -> None:
    sid = instance.submit(SLOW_C, problem="slow")
    holder = instance.running(sid, f"{instance.worker}/")["graded_by"]
    gave_up = f"Submission {sid} is left to the reaper"
    with locked(instance.database):
        wait_until(
            lambda: gave_up in instance.log(instance.worker),
            what="the worker gives up",
            timeout_s=HANG_S,
            every_s=0.1,
            context=instance.logs,
        )
        row = instance.row(sid)
        assert (row["state"], row["verdict"], row["tests"]) == ("running", None, 0)  # not marked wrongly
    doc = instance.done(sid)
    assert doc["verdict"] == "AC" and instance.row(sid)["tests"] == SLOW_TESTS
    assert instance.row(sid)["generation"] == 1
    assert f"its grader {holder} is gone; queued again (generation 1)" in instance.log(instance.worker)
    instance.done_once(sid)


@dataclass
class PostgresServer:
    """A throwaway PostgreSQL of this module's own (Debian's binaries, as .ci/postgres starts the CI
    one; never that one), on a free port, that a test stops and starts again."""

    bin_dir: Path
    data_dir: Path
    port: int = field(default_factory=free_port)

    @classmethod
    def find(cls) -> PostgresServer | None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
        if not found:
            return None
        return cls(found[-1].parent, Path(tempfile.mkdtemp(prefix="judge-faults-pg.")))

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *argv: str) -> None:
        subprocess.run(
            ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(argv)], check=True, capture_output=True
        )

    def init(self) -> None:
        shutil.chown(self.data_dir, "postgres", "postgres")
        self._as_postgres(
            str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-A", "trust", "-U", "postgres"
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1"
        self._as_postgres(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data_dir),
            "-l",
            str(self.data_dir / "log"),
            "-w",
            "-o",
            options,
            "start",
        )

    def stop(self) -> None:
        """A fast shutdown: every session is ended, as when the database server goes away."""
        self._as_postgres(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def on_postgres(tmp_path_factory: pytest.TempPathFactory, sandbox_ready: None) -> Iterator[Instance]:
    """The web and a C worker on a PostgreSQL of their own (`pg` in the instance's env)."""
    pg = PostgresServer.find()
    if pg is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI installs PostgreSQL (.ci/postgres); its binaries must be in /usr/lib/postgresql")
        pytest.skip("no PostgreSQL here (apt-get install postgresql)")
    inst = None
    try:
        pg.init()
        pg.start()
        inst = _new_instance(
            tmp_path_factory.mktemp("faults-pg"),
            database_url=pg.url,
            JUDGE_LEASE_S="2",
            JUDGE_DB_RETRY_S="60",
        )
        inst.postgres = pg
        inst.start_web()
        inst.worker = inst.start_worker("c")
        inst.events = Events(inst.redis.url)
        yield inst
    finally:
        if inst is not None:
            inst.close()
        pg.remove()


SLEEPY_C = (
    b"#include <stdio.h>\n#include <unistd.h>\nint main(void){long a,b;sleep(5);"
    b'scanf("%ld %ld",&a,&b);printf("%ld\\n",a+b);}\n'
)


def test_postgresql_gone_is_a_503_and_a_worker_stores_its_result_once_it_is_back(
    on_postgres: Instance,
) -> None:
    inst, svc = on_postgres, on_postgres.service
    assert inst.postgres is not None
    sid = inst.submit(SLEEPY_C, stdin="2 3\n", expected_output="5\n", time_limit=3)  # 5 s of sleep
    inst.running(sid, f"{inst.worker}/")
    stored = inst.count()
    inst.postgres.stop()
    try:
        r = svc.call("POST", "/submissions", json={"language": "c", "source": "int main(){}", "stdin": ""})
        assert r.status_code == 503 and r.json()["error"]["code"] == "database_unavailable", r.text
        assert int(r.headers["Retry-After"]) > 0
        r = svc.call("GET", f"/submissions/{sid}")  # reading needs the database too, here
        assert r.status_code == 503 and r.json()["error"]["code"] == "database_unavailable", r.text
        refused = f"submission {sid}: store its result: the database refused it ("
        wait_until(
            lambda: refused in inst.log(inst.worker),
            what="the worker is refused",
            timeout_s=HANG_S,
            every_s=0.1,
            context=inst.logs,
        )
    finally:
        inst.postgres.start()
    doc = inst.done(sid)
    assert doc["verdict"] == "AC" and doc["stdout"] == "5\n", doc
    row = inst.row(sid)
    assert (row["generation"], row["tests"]) == (0, 1)  # stored by its first grading, once
    inst.done_once(sid)
    assert inst.count() == stored  # the refused submission left nothing
    assert (
        svc.call(
            "POST", "/submissions", json={"language": "c", "source": "int main(){}", "stdin": ""}
        ).status_code
        == 201
    )


# -- (d): no box can be made ----------------------------------------------------------------------


@contextlib.contextmanager
def no_boxes(inst: Instance, worker: str) -> Iterator[None]:
    """The worker's box staging directory hidden under an empty read-only tmpfs, in the worker's
    own mount namespace only: boxinit cannot mount the box's root there, so every box that is
    not made yet fails (SandboxError), as when the host runs out of what boxes need."""
    enter = ["nsenter", "--target", str(inst.procs[worker].pid), "--mount", "--"]
    subprocess.run(
        [*enter, "mount", "-t", "tmpfs", "-o", "ro,size=64k", "judge-faults", STAGING_PARENT],
        check=True,
        capture_output=True,
    )
    try:
        assert Path(STAGING_PARENT, "root").is_dir()  # ours is untouched: the fault is the worker's
        yield
    finally:
        subprocess.run([*enter, "umount", STAGING_PARENT], check=True, capture_output=True)


def fresh_worker(inst: Instance) -> str:
    """A new C worker in place of the current one. Its pool process has made no box yet (the
    sandbox's pool prepares boxes ahead, and a prepared box outlives a fault), so a fault in its
    mount namespace reaches every box it asks for."""
    inst.stop(inst.worker)
    inst.worker = inst.start_worker("c")
    return inst.worker


def test_boxes_that_cannot_be_made_are_tried_three_times_then_ie_with_the_cause(instance: Instance) -> None:
    with no_boxes(instance, fresh_worker(instance)):
        sid = instance.submit(SUM_C, problem="sum")
        doc = instance.done(sid)
    assert doc["verdict"] == "IE", doc  # never WA, RTE or TLE: the contestant did nothing wrong
    # the cause, as the sandbox names it: the read-only tmpfs over /run/judge-sandbox leaves no
    # place for the box's uid lock (sandbox/uids.py), the first thing a box takes
    message = doc["message"]
    assert message.startswith("internal error after 3 attempts: "), message
    assert "cannot take a box uid: /run/judge-sandbox/uids/" in message, message
    assert message.endswith(": Read-only file system (errno 30)"), message
    # no test ran: not one box was made (the compile box neither, unless the worker's compile cache
    # held the program, and then the first test is the one that failed, IE too)
    assert [t["verdict"] for t in doc["tests"]] in ([], ["IE"]), doc["tests"]
    log = instance.log(instance.worker)
    for attempt in (1, 2):
        assert f"submission {sid}: attempt {attempt} of 3 failed" in log
    assert f"submission {sid}: attempt 3 of 3 failed" in log and "it is IE" in log
    instance.done_once(sid)
    again = instance.submit(SUM_C, problem="sum")  # the host is whole again
    assert instance.done(again)["verdict"] == "AC"


def test_a_box_failure_that_passes_gets_the_right_verdict(instance: Instance) -> None:
    with no_boxes(instance, fresh_worker(instance)):
        sid = instance.submit(WRONG_C, problem="sum")
        wait_until(
            lambda: f"submission {sid}: attempt 1 of 3 failed" in instance.log(instance.worker),
            what="the first attempt fails",
            timeout_s=HANG_S,
            every_s=0.1,
            context=instance.logs,
        )
    doc = instance.done(sid)
    assert doc["verdict"] == "WA", doc  # its own verdict, not IE
    assert doc["message"] is None
    log = instance.log(instance.worker)
    assert (
        f"submission {sid}: attempt 2 of 3 succeeded" in log
        or f"submission {sid}: attempt 3 of 3 succeeded" in log
    ), log[-3000:]
    instance.done_once(sid)


class BrokenHost(sandbox.Sandbox):
    """A real sandbox whose box() fails `failures` times (None: always) as a host out of cgroups does."""

    def __init__(self, failures: int | None) -> None:
        super().__init__()
        self.failures = failures
        self.calls = 0

    def box(
        self,
        image: sandbox.Image = sandbox.HOST,
        *,
        uid: int | None = None,
        limits: sandbox.Limits | None = None,
    ) -> Any:
        self.calls += 1
        if self.failures is None or self.calls <= self.failures:
            raise sandbox.HostSetupError("cannot create cgroup judge/box-test: No space left on device")
        return super().box(image, uid=uid, limits=limits)


@pytest.fixture
def sessions(sqlite_sessions: Any) -> Any:
    return sqlite_sessions  # the grading service's faults, on one SQLite database


def _grading(
    sessions: Any, redis_url: str, tmp_path: Path, sb: sandbox.Sandbox, **kwargs: Any
) -> GradingService:
    return GradingService(
        sessions=sessions, data_dir=tmp_path, redis_client=redis.Redis.from_url(redis_url), sb=sb, **kwargs
    )


def _ad_hoc(sessions: Any) -> int:
    with sessions.begin() as session:
        return int(
            repo.add_submission(
                session,
                language="c",
                source=SUM_C,
                stdin=b"2 3\n",
                expected_output=b"5\n",
                time_limit_s=2.0,
                memory_mib=256,
            ).id
        )


@pytest.mark.parametrize(("failures", "verdict"), [(1, Verdict.AC), (None, Verdict.IE)])
def test_a_sandbox_whose_box_raises_is_retried_then_ie(
    sessions: Any,
    redis_url: str,
    tmp_path: Path,
    sandbox_ready: None,
    caplog: pytest.LogCaptureFixture,
    failures: int | None,
    verdict: Verdict,
) -> None:
    sb = BrokenHost(failures)
    try:
        service = _grading(sessions, redis_url, tmp_path, sb, attempts=3, retry_s=0.01)
        sid = _ad_hoc(sessions)
        with caplog.at_level(logging.WARNING, logger="judge.service.grade"):
            graded = service.grade(sid, 0)
    finally:
        sb.close()
    assert graded is not None
    doc = graded.document
    assert doc["verdict"] == verdict.value
    assert f"submission {sid}: attempt 1 of 3 failed (HostSetupError: cannot create cgroup" in caplog.text
    if failures == 1:
        assert sb.calls == 3  # the failed compile box, then a compile box and a run box
        assert doc["stdout"] == "5\n" and doc["message"] is None
        assert f"submission {sid}: attempt 2 of 3 succeeded" in caplog.text
    else:
        assert sb.calls == 3  # one compile box asked for in each attempt
        assert doc["message"] == (
            "internal error after 3 attempts: HostSetupError: cannot create cgroup "
            "judge/box-test: No space left on device"
        )
        assert doc["tests"] == []


def test_a_claim_the_database_refuses_is_raised_for_the_task_to_retry(
    sessions: Any, redis_url: str, tmp_path: Path, sandbox_ready: None
) -> None:
    sid = _ad_hoc(sessions)
    service = _grading(sessions, redis_url, tmp_path, sandbox.default(), db_retry_s=0.5)
    refused = f"submission {sid}: claim it: the database refused it .* the last: database is locked"
    with locked(tmp_path / "judge.db"), pytest.raises(StorageUnavailable, match=refused):
        service.grade(sid, 0)
    with sessions() as session:
        sub = session.get(Submission, sid)
        assert sub is not None and sub.state is SubmissionState.QUEUED and sub.graded_by is None
        assert session.scalar(select(func.count()).select_from(Submission)) == 1


# -- (e): the disk nearly full -------------------------------------------------------------------


@pytest.fixture(scope="module")
def disk(tmp_path_factory: pytest.TempPathFactory, sandbox_ready: None) -> Iterator[Instance]:
    """The web alone (no worker: what is taken is only queued) with its data directory, SQLite
    file included, on a 64 MiB tmpfs; JUDGE_MIN_FREE_MB=32."""
    base = tmp_path_factory.mktemp("disk")
    mount = base / "data"
    mount.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m,mode=700", "judge-faults-disk", str(mount)],
        check=True,
        capture_output=True,
    )
    inst = None
    try:
        inst = _new_instance(base, JUDGE_MIN_FREE_MB="32")
        inst.start_web()
        yield inst
    finally:
        if inst is not None:
            inst.close()
        subprocess.run(["umount", "--lazy", str(mount)], check=True, capture_output=True)


def _fill(path: Path, size: int | None) -> None:
    """Write `size` bytes to `path`, or (None) until the file system has no room at all."""
    chunk = bytes(1024 * 1024)
    with open(path, "wb", buffering=0) as f:
        written = 0
        while size is None or written < size:
            try:
                written += f.write(chunk if size is None else chunk[: min(len(chunk), size - written)])
            except OSError:
                if len(chunk) == 4096:
                    break
                chunk = chunk[:4096]  # the last pages one at a time


def test_a_nearly_full_disk_refuses_new_submissions_cleanly(disk: Instance) -> None:
    svc = disk.service
    body = {"language": "c", "source": SUM_C.decode(), "stdin": "1 2\n"}
    ballast = svc.data_dir / "ballast"
    first = svc.call("POST", "/submissions", json=body)
    assert first.status_code == 201, first.text
    stored = disk.count()
    _fill(ballast, 40 * 1024 * 1024)
    try:
        r = svc.call("POST", "/submissions", json=body)
        assert r.status_code == 507, r.text
        error = r.json()["error"]
        assert error["code"] == "storage_full"
        assert "MiB free on the file system of" in error["message"] and "at least 32 MiB" in error["message"]
        assert disk.count() == stored  # nothing written
        r = svc.call("GET", f"/submissions/{first.json()['id']}")
        assert r.status_code == 200, r.text  # reading is not refused
    finally:
        ballast.unlink()
    r = svc.call("POST", "/submissions", json=body)
    assert r.status_code == 201, r.text
    assert disk.count() == stored + 1


def test_a_full_disk_that_sqlite_refuses_is_the_same_507(disk: Instance) -> None:
    """With the check off, the disk entirely full: SQLite's "database or disk is full" is a
    507 too, and its transaction leaves nothing behind."""
    svc = disk.service
    disk.stop("web")
    disk.start_web(JUDGE_MIN_FREE_MB="0")
    body = {"language": "c", "source": SUM_C.decode(), "stdin": "1 2\n"}
    assert svc.call("POST", "/submissions", json=body).status_code == 201  # the token's use is noted now
    stored = disk.count()
    with sqlite3.connect(disk.database) as db:  # an empty write-ahead log: a new write needs new room
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    ballast = svc.data_dir / "ballast"
    _fill(ballast, None)
    try:
        r = svc.call("POST", "/submissions", json=body)
        assert r.status_code == 507, r.text
        assert r.json()["error"]["code"] == "storage_full"
        assert r.json()["error"]["message"].startswith(
            "the database has no room to store this (database or disk is full)"
        ), r.text
    finally:
        ballast.unlink()
    assert disk.count() == stored
    assert svc.call("POST", "/submissions", json=body).status_code == 201
