"""Several worker machines on one: network namespaces, a Redis in its own, one host cut off.

The test lays out, with `ip netns` and veth pairs:

    root namespace (web, this test) --- jt-redis (redis-server) --- jt-host1 (worker, CPU 0)
                                                                 \\-- jt-host2 (worker, CPU 1)

Each worker "host" reaches Redis only over its own veth pair, and has a data directory of its
own: packages come to it from the database. The database is a SQLite file every host can
still reach: the harder case, where a host cut off from Redis keeps grading and tries to store
what it graded. Processes enter a namespace with `nsenter --net` (only the
network: `ip netns exec` would also remount /sys and hide the cgroup hierarchies).

Story: slow submissions (0.7 s of sleep per test, 9 tests) go to both hosts; once host1 is
running one, its link is cut. Its lease in Redis runs out (JUDGE_LEASE_S=2), host2's reaper
puts the submission back, host2 grades it. Then host1's link comes back, host1 finishes its
grading and tries to store it: refused. Every submission ends once (one `done` event, one
set of test results) with the verdict it deserves.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from kit import wait_until
from service_kit import SUM_C, WRONG_C, Service, stop_all, wait_workers

from judge.storage import connect, migrate, session_factory
from judge.storage.models import Role, Submission
from judge.storage.repo import create_token, create_user

SLOW_C = (
    b"#include <stdio.h>\n#include <time.h>\nint main(void){long a,b;"
    b"struct timespec t={0,700000000};nanosleep(&t,0);"
    b'scanf("%ld %ld",&a,&b);printf("%ld\\n",a+b);}\n'
)
TESTS = 9
PASSWORD = "hosts-test-password"
LEASE_S = "2"


def run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


@dataclass
class Hosts:
    service: Service
    tag: str
    data_dir: Path
    logs: dict[str, Path] = field(default_factory=dict)

    def ns(self, name: str) -> str:
        return f"jt{self.tag}{name}"

    def cut(self, host: str, up: bool = False) -> None:
        run("ip", "-n", self.ns(host), "link", "set", f"jt{self.tag}{host}", "up" if up else "down")

    def log(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace")


def slow_package(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("slow/problem.yaml", "name: Slow sum\n")
        zf.writestr("slow/.timelimit", "2\n")
        zf.writestr("slow/data/sample/1.in", "1 2\n")
        zf.writestr("slow/data/sample/1.ans", "3\n")
        for i in range(1, TESTS):
            zf.writestr(f"slow/data/secret/{i}.in", f"{i} {i}\n")
            zf.writestr(f"slow/data/secret/{i}.ans", f"{2 * i}\n")
        zf.writestr("slow/submissions/accepted/sum.c", SUM_C)
    return path


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory, sandbox_ready: None) -> Iterator[Hosts]:
    if shutil.which("ip") is None or shutil.which("nsenter") is None or os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("CI needs root, ip (iproute2) and nsenter (util-linux) for the hosts test")
        pytest.skip("needs root, ip and nsenter")
    tag = str(os.getpid() % 10000)
    net = 100 + int(tag) % 100  # 10.<net>.0.0/16: runs side by side on one machine do not collide
    data_dir = tmp_path_factory.mktemp("hosts")
    h = Hosts(Service(base="", data_dir=data_dir, redis_url="", env={}), tag, data_dir)
    made: list[str] = []
    procs: list[subprocess.Popen[bytes]] = []
    files = []
    try:
        # the network: a /30 per link; Redis answers on .2 of each
        for name in ("redis", "host1", "host2"):
            run("ip", "netns", "add", h.ns(name))
            made.append(h.ns(name))
        run("ip", "-n", h.ns("redis"), "link", "set", "lo", "up")
        for i, name in enumerate(("root", "host1", "host2")):
            near, far = f"jt{tag}{name}", f"jt{tag}r{i}"
            if name == "root":
                run("ip", "link", "add", near, "type", "veth", "peer", "name", far, "netns", h.ns("redis"))
                run("ip", "addr", "add", f"10.{net}.{i}.1/30", "dev", near)
                run("ip", "link", "set", near, "up")
            else:
                run(
                    "ip",
                    "-n",
                    h.ns(name),
                    "link",
                    "add",
                    near,
                    "type",
                    "veth",
                    "peer",
                    "name",
                    far,
                    "netns",
                    h.ns("redis"),
                )
                run("ip", "-n", h.ns(name), "addr", "add", f"10.{net}.{i}.1/30", "dev", near)
                run("ip", "-n", h.ns(name), "link", "set", near, "up")
                run("ip", "-n", h.ns(name), "link", "set", "lo", "up")
            run("ip", "-n", h.ns("redis"), "addr", "add", f"10.{net}.{i}.2/30", "dev", far)
            run("ip", "-n", h.ns("redis"), "link", "set", far, "up")

        def enter(ns: str) -> list[str]:
            return ["nsenter", f"--net=/run/netns/{ns}", "--"]

        def start(
            name: str, argv: list[str], env: dict[str, str] | None = None, stdin: bytes | None = None
        ) -> None:
            h.logs[name] = data_dir / f"{name}.log"
            f = open(h.logs[name], "wb")
            files.append(f)
            p = subprocess.Popen(
                argv,
                env=env,
                stdout=f,
                stderr=subprocess.STDOUT,
                stdin=subprocess.PIPE if stdin is not None else None,
            )
            if stdin is not None:
                assert p.stdin is not None
                p.stdin.write(stdin)
                p.stdin.close()
            procs.append(p)

        start(
            "redis",
            [*enter(h.ns("redis")), "redis-server", "-"],
            stdin=(
                f'bind 0.0.0.0\nport 6379\nrequirepass {PASSWORD}\nsave ""\nappendonly no\ndir {data_dir}\n'
            ).encode(),
        )
        database_url = f"sqlite:///{data_dir / 'judge.db'}"
        engine = connect(database_url)
        migrate(engine)
        with session_factory(engine).begin() as session:
            for user, role in (("organiser", Role.ORGANISER), ("alice", Role.CONTESTANT)):
                made_user = create_user(session, user, "pw-" + user, role)
                h.service.tokens[user] = create_token(session, made_user)[1]
        engine.dispose()
        base_env = dict(
            os.environ,
            JUDGE_DATABASE_URL=database_url,
            JUDGE_SECRET_KEY="hosts-secret",
            JUDGE_LEASE_S=LEASE_S,
            JUDGE_MAX_JOB_S="60",
        )
        redis_at = {
            name: f"redis://:{PASSWORD}@10.{net}.{i}.2:6379/0"
            for i, name in enumerate(("root", "host1", "host2"))
        }
        port = 18000 + int(tag) % 1000
        h.service.base, h.service.redis_url = f"http://10.{net}.0.1:{port}", redis_at["root"]
        start(
            "web",
            [sys.executable, "-m", "web", "--host", f"10.{net}.0.1", "--port", str(port)],
            env=dict(base_env, JUDGE_REDIS_URL=redis_at["root"], JUDGE_DATA_DIR=str(data_dir / "web")),
        )
        for cpu, host in enumerate(("host1", "host2")):
            start(
                host,
                [
                    *enter(h.ns(host)),
                    sys.executable,
                    "-m",
                    "worker",
                    "--languages",
                    "c",
                    "--concurrency",
                    "1",
                    "--cpus",
                    str(cpu % len(os.sched_getaffinity(0))),
                    "--name",
                    host,
                ],
                env=dict(base_env, JUDGE_REDIS_URL=redis_at[host], JUDGE_DATA_DIR=str(data_dir / host)),
            )
        wait_workers(
            h.service.base,
            h.service.tokens["organiser"],
            procs,
            count=2,
            every_s=0.3,
            context=lambda: "\n".join(f"--- {n}\n{h.log(n)[-3000:]}" for n in h.logs),
        )
        yield h
    finally:
        stop_all(procs)
        for f in files:
            f.close()
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def rows(data_dir: Path, ids: list[int]) -> dict[int, dict[str, Any]]:
    engine = connect(f"sqlite:///{data_dir / 'judge.db'}")
    try:
        with session_factory(engine)() as session:
            found = {}
            for sid in ids:
                sub = session.get(Submission, sid)
                assert sub is not None
                found[sid] = {
                    "state": sub.state.value,
                    "graded_by": sub.graded_by,
                    "generation": sub.generation,
                    "tests": len(sub.tests),
                    "verdict": sub.verdict.value if sub.verdict else None,
                    "finished_at": sub.finished_at,
                }
            return found
    finally:
        engine.dispose()


def test_a_host_cut_off_mid_submission_loses_nothing_and_grades_nothing_twice(
    hosts: Hosts, tmp_path: Path
) -> None:
    svc = hosts.service
    with open(slow_package(tmp_path / "slow.zip"), "rb") as f:
        r = svc.call("POST", "/problems", as_="organiser", files={"package": ("slow.zip", f)})
    assert r.status_code == 201, r.text
    assert r.json()["verification"]["ok"] is True, r.json()

    # every `done` event of every submission, heard from the root namespace's side of Redis
    done_events: dict[int, int] = {}
    listener = redis.Redis.from_url(svc.redis_url).pubsub()
    listener.psubscribe("judge:submission:*")
    stop = threading.Event()

    def listen() -> None:
        while not stop.is_set():
            msg = listener.get_message(timeout=0.2)
            if msg and msg["type"] == "pmessage" and json.loads(msg["data"]).get("event") == "done":
                sid = int(msg["channel"].decode().rsplit(":", 1)[1])
                done_events[sid] = done_events.get(sid, 0) + 1

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()

    expected = {}
    for source, verdict in ((SLOW_C, "AC"), (SLOW_C, "AC"), (WRONG_C, "WA"), (SUM_C, "AC")):
        doc = svc.submit({"language": "c", "problem": "slow", "source": source.decode()}, wait=False)
        expected[doc["id"]] = verdict
    ids = list(expected)

    # wait for host1 to be running a slow one, then cut it off
    def running_on_host1() -> int | None:
        return next(
            (
                sid
                for sid, row in rows(hosts.data_dir, ids[:2]).items()
                if row["state"] == "running" and (row["graded_by"] or "").startswith("host1/")
            ),
            None,
        )

    victim = wait_until(
        running_on_host1,
        what="host1 to run a slow submission",
        timeout_s=60,
        context=lambda: f"{rows(hosts.data_dir, ids[:2])}\n{hosts.log('host1')}",
    )
    hosts.cut("host1")

    finals = {sid: svc.wait_done(sid, timeout_s=120) for sid in ids}
    assert {sid: d["verdict"] for sid, d in finals.items()} == expected
    after = rows(hosts.data_dir, ids)
    assert after[victim]["graded_by"].startswith("host2/"), after[victim]
    assert after[victim]["generation"] == 1  # put back once, by a reaper
    assert "its grader host1/" in hosts.log("host2"), hosts.log("host2")[-3000:]

    # host1 comes back, finishes the grading it was cut off in, and is refused
    hosts.cut("host1", up=True)
    refused = ("result is dropped", "dropping this grading")
    wait_until(
        lambda: any(line in hosts.log("host1") for line in refused),
        what="host1 to try to store its stale grading",
        timeout_s=120,
        every_s=0.2,
        context=lambda: hosts.log("host1")[-3000:],
    )
    time.sleep(1.0)  # room for a stale result to land, were it stored after all
    stop.set()
    thread.join(timeout=5)
    listener.close()
    assert rows(hosts.data_dir, ids) == after  # nothing changed: host1's result was not stored
    accepted = [sid for sid, verdict in expected.items() if verdict == "AC"]
    assert {sid: after[sid]["tests"] for sid in accepted} == {sid: TESTS for sid in accepted}
    assert done_events == {sid: 1 for sid in ids}, done_events
    for host in ("host1", "host2"):  # each unpacked the package from the database into its own directory
        assert any((hosts.data_dir / host / "problems" / "slow").iterdir()), host
