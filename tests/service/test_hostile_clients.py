"""The web holds against hostile and heavy clients (issue 17, findings 1, 2, 4, 5 and 7).

A web process of its own (`python -m web`, as `judge web` runs it) on a real Redis and a
SQLite database, and no worker: every submission stays queued, so its event streams stay open
as long as a test wants. Each test uses accounts of its own, so their counts do not mix.

"Within 1 s" is the issue's contract; each such check takes the median of several probes, so
one slow moment of a busy machine cannot fail it, while a server that cannot answer at all
(waitress with its 32 threads held, or its select() loop dead) fails every probe.
"""

from __future__ import annotations

import http.client
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from kit import free_port, wait_until
from service_kit import stop_all, tail, wait_serving

from judge.service.redis_server import EmbeddedRedis
from judge.storage import connect, migrate, session_factory
from judge.storage.models import Role
from judge.storage.repo import create_token, create_user
from web import holds

SUBMIT_LIMIT = 30
STREAMS_PER_USER = 100
USERS = ("organiser", "alice", "bob", "carol", "dave", "erin", "frank")
AD_HOC = {"language": "python3", "source": "print(1)", "stdin": ""}
OTHER_CLIENT = "127.0.0.2"  # another address on the loopback: "another client"


@dataclass
class Web:
    base: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    redis_url: str
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def call(self, method: str, path: str, as_: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 60)
        return requests.request(
            method, f"{self.base}/api/v1{path}", headers={"Authorization": f"Bearer {self.tokens[as_]}"}, **kw
        )

    def worker_pid(self) -> int:
        """The process serving requests: gunicorn's worker, the child of `python -m web`."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        assert len(children) <= 1, children
        return int(children[0]) if children else self.proc.pid

    def waits_held(self, user: str) -> int:
        """How many `?wait=true` requests of `user` the web holds open now (web/holds.py's leases)."""
        with redis.Redis.from_url(self.redis_url) as client:
            return int(client.zcard(f"{holds.PREFIX}:waits:{self.ids[user]}"))


def _peak_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmHWM for {pid}")


def _raise_file_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= wanted, "raise the hard limit on open files"


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    data_dir = tmp_path_factory.mktemp("hostile")
    redis_server = EmbeddedRedis(data_dir / "redis")
    redis_url = redis_server.start()
    port = free_port()
    env = dict(
        os.environ,
        JUDGE_DATA_DIR=str(data_dir),
        JUDGE_REDIS_URL=redis_url,
        JUDGE_DATABASE_URL=f"sqlite:///{data_dir / 'judge.db'}",
        JUDGE_SECRET_KEY="test-secret",
        JUDGE_RATE_LIMIT_SUBMIT=f"{SUBMIT_LIMIT}/minute",
        JUDGE_STREAMS_PER_USER=str(STREAMS_PER_USER),
    )
    engine = connect(env["JUDGE_DATABASE_URL"])
    migrate(engine)
    tokens, ids = {}, {}
    with session_factory(engine).begin() as session:
        for name in USERS:
            user = create_user(
                session, name, f"{name}-password", Role.ORGANISER if name == "organiser" else Role.CONTESTANT
            )
            tokens[name] = create_token(session, user)[1]
            ids[name] = user.id
    engine.dispose()
    log = data_dir / "web.log"
    with open(log, "wb") as f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "web", "--port", str(port)], env=env, stdout=f, stderr=subprocess.STDOUT
        )
    svc = Web(f"http://127.0.0.1:{port}", port, proc, log, redis_url, tokens, ids)
    try:
        wait_serving(svc.base, [proc], context=lambda: tail(log))
        yield svc
        assert proc.poll() is None, f"the web died:\n{tail(log)}"
    finally:
        stop_all([proc])
        redis_server.stop()


def _get_from(address: str, web: Web, path: str, token: str | None = None) -> tuple[int, float]:
    """GET `path` from a connection made from `address`; (status, seconds taken)."""
    start = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=30, source_address=(address, 0))
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        response = conn.getresponse()
        response.read()
        return response.status, time.monotonic() - start
    finally:
        conn.close()


def _median_answer_s(web: Web, path: str, *, address: str = "127.0.0.1", probes: int = 7) -> float:
    taken = []
    for _ in range(probes):
        status, seconds = _get_from(address, web, path, web.tokens["frank"])
        assert status == 200, status
        taken.append(seconds)
    print(
        f"GET {path} from {address}: median {statistics.median(taken) * 1000:.1f} ms, "
        f"slowest {max(taken) * 1000:.1f} ms of {probes}"
    )
    return statistics.median(taken)


def test_1100_idle_connections_do_not_stop_the_service_or_lock_another_client_out(web: Web) -> None:
    _raise_file_limit(4096)
    for _ in range(100):  # what grew waitress' descriptors past 1023 before: pools warmed up
        assert requests.get(f"{web.base}/metrics", timeout=30).status_code == 200
    idle = []
    try:
        for _ in range(1100):
            s = socket.create_connection(("127.0.0.1", web.port), timeout=30)
            idle.append(s)
        assert _median_answer_s(web, "/api/v1/languages", address=OTHER_CLIENT) < 1.0
        # a client on the flooder's own address (a contest hall behind one NAT) gets in too: its
        # connection ends the address's longest-idle one, not itself
        assert _median_answer_s(web, "/api/v1/languages", address="127.0.0.1") < 1.0

        # the address holds at most its bound of idle connections; the older ones were ended
        def ended() -> int:
            closed = 0
            for s in idle:
                s.setblocking(False)
                try:
                    closed += s.recv(1) == b""
                except BlockingIOError:
                    pass
                except ConnectionResetError:
                    closed += 1
            return closed

        # within a second: well before the 10 s after which the kept ones are ended too
        closed = wait_until(
            ended,
            until=lambda closed: closed >= 1000,
            what="the older connections ended",
            timeout_s=1,
            every_s=0.1,
        )
        assert closed >= 1000, closed
        # and the ones it kept are closed once they have sent no request for 10 s
        deadline = time.monotonic() + 30
        for s in idle:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                assert s.recv(1) == b""
            except ConnectionResetError:
                pass
    finally:
        for s in idle:
            s.close()
    assert web.proc.poll() is None, tail(web.log)
    status, _ = _get_from("127.0.0.1", web, "/api/v1/languages", web.tokens["frank"])
    assert status == 200


def _open_stream(web: Web, submission_id: int, token: str) -> socket.socket:
    """An event stream, open once its first event (`submission`) has come."""
    s = socket.create_connection(("127.0.0.1", web.port), timeout=30)
    s.sendall(
        f"GET /api/v1/submissions/{submission_id}/events HTTP/1.1\r\nHost: judge\r\n"
        f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    got = b""
    while b"event: submission" not in got:
        chunk = s.recv(65536)
        assert chunk, got.decode(errors="replace")
        got += chunk
    assert got.startswith(b"HTTP/1.1 200"), got[:200]
    return s


def test_200_open_event_streams_leave_other_requests_answered_and_a_user_has_a_cap(web: Web) -> None:
    _raise_file_limit(4096)
    streams = []
    try:
        for user in ("alice", "bob"):
            sid = web.call("POST", "/submissions", user, json=AD_HOC).json()["id"]
            streams += [_open_stream(web, sid, web.tokens[user]) for _ in range(STREAMS_PER_USER)]
        assert len(streams) == 200
        assert _median_answer_s(web, "/api/v1/languages") < 1.0
        assert _median_answer_s(web, "/login") < 1.0
        refused = web.call("GET", f"/submissions/{sid}/events", "bob", stream=True)
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"]["code"] == "too_many_streams"
        for s in streams:  # still open, nothing more said yet: no event, no close
            s.setblocking(False)
            with pytest.raises(BlockingIOError):
                s.recv(1)
    finally:
        for s in streams:
            s.close()


def test_a_body_too_costly_to_parse_is_refused_without_the_memory(web: Web) -> None:
    pid = web.worker_pid()
    before = _peak_rss_bytes(pid)
    headers = {"Authorization": f"Bearer {web.tokens['erin']}", "Content-Type": "application/json"}
    lists = b"[" + b"[]," * (8 * 1024 * 1024) + b"[]]"  # 24 MiB: 8 million empty lists
    many = requests.post(f"{web.base}/api/v1/submissions", data=lists, headers=headers, timeout=60)
    nested = b"[" * 200_000 + b"]" * 200_000
    deep = requests.post(f"{web.base}/api/v1/submissions", data=nested, headers=headers, timeout=60)
    grown = _peak_rss_bytes(pid) - before
    print(f"the web's peak RSS grew by {grown / 2**20:.1f} MiB")
    assert grown < 150 * 1024 * 1024, f"the web's peak grew by {grown / 2**20:.0f} MiB"  # 685 MB before
    assert many.status_code == 400, many.text
    assert "arrays and objects" in many.json()["error"]["message"]
    assert deep.status_code == 400, deep.text
    # each route takes its own: 2 MiB is too much for a login form, not for a submission
    r = requests.post(f"{web.base}/login", data={"name": "x" * (2 * 1024 * 1024)}, timeout=60)
    assert r.status_code == 413
    big = dict(AD_HOC, stdin="1 2\n" * (512 * 1024))
    r = requests.post(f"{web.base}/api/v1/submissions", json=big, headers=headers, timeout=60)
    assert r.status_code == 201, r.text
    r = requests.post(
        f"{web.base}/api/v1/submissions",
        data=b"{" + b" " * (41 * 1024 * 1024) + b"}",
        headers=headers,
        timeout=60,
    )
    assert r.status_code == 413


def test_90_submissions_at_once_against_30_a_minute_make_exactly_30(web: Web) -> None:
    def submit(_: int) -> int:
        return web.call("POST", "/submissions", "carol", json=AD_HOC).status_code

    with ThreadPoolExecutor(90) as pool:
        statuses = list(pool.map(submit, range(90)))
    assert statuses.count(201) == SUBMIT_LIMIT, statuses
    assert statuses.count(429) == 90 - SUBMIT_LIMIT, statuses
    mine = web.call("GET", "/submissions", "carol", params={"limit": 500}).json()["submissions"]
    assert len(mine) == SUBMIT_LIMIT


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no csrf_token in the page"
    return found.group(1)


def _logged_in(web: Web, name: str, password: str) -> requests.Session:
    s = requests.Session()
    token = _csrf(s.get(f"{web.base}/login", timeout=30).text)
    r = s.post(
        f"{web.base}/login",
        data={"csrf_token": token, "name": name, "password": password},
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code == 302, r.text
    return s


def _copy(browser: requests.Session) -> requests.Session:
    thief = requests.Session()
    thief.cookies.update(browser.cookies)
    return thief


def _opens(s: requests.Session, web: Web) -> bool:
    r = s.get(f"{web.base}/submissions", allow_redirects=False, timeout=30)
    assert r.status_code in (200, 302), r.status_code
    return r.status_code == 200


def test_a_copied_session_cookie_opens_nothing_after_logout_or_a_password_change(web: Web) -> None:
    browser = _logged_in(web, "dave", "dave-password")
    thief = _copy(browser)
    assert _opens(thief, web)
    token = _csrf(browser.get(f"{web.base}/submissions", timeout=30).text)
    browser.post(f"{web.base}/logout", data={"csrf_token": token}, timeout=30)
    assert not _opens(browser, web)
    assert not _opens(thief, web)

    browser = _logged_in(web, "dave", "dave-password")
    elsewhere = _logged_in(web, "dave", "dave-password")  # another browser of his
    thief = _copy(browser)
    assert _opens(thief, web)
    token = _csrf(browser.get(f"{web.base}/password", timeout=30).text)
    r = browser.post(
        f"{web.base}/password",
        timeout=30,
        allow_redirects=False,
        data={
            "csrf_token": token,
            "password": "dave-password",
            "new_password": "a-new-secret",
            "new_password_again": "a-new-secret",
        },
    )
    assert r.status_code == 302, r.text
    assert _opens(browser, web)  # the browser that changed it stays in
    assert not _opens(thief, web)
    assert not _opens(elsewhere, web)
    assert _opens(_logged_in(web, "dave", "a-new-secret"), web)
    # a wrong current password changes nothing
    token = _csrf(browser.get(f"{web.base}/password", timeout=30).text)
    r = browser.post(
        f"{web.base}/password",
        timeout=30,
        data={
            "csrf_token": token,
            "password": "wrong",
            "new_password": "another-one",
            "new_password_again": "another-one",
        },
    )
    assert r.status_code == 400
    assert _opens(browser, web)


def test_a_wait_past_the_users_bound_is_answered_at_once(web: Web) -> None:
    """JUDGE_WAITS_PER_USER (8): eight `?wait=true` of one user wait; the ninth is answered
    without waiting, queued as the submission is; another user still waits."""
    sid = web.call("POST", "/submissions", "erin", json=AD_HOC).json()["id"]

    def wait(as_: str) -> tuple[int, str, float]:
        start = time.monotonic()
        r = web.call("GET", f"/submissions/{sid}", as_, params={"wait": "true", "timeout": 20})
        return r.status_code, r.json().get("state", ""), time.monotonic() - start

    with ThreadPoolExecutor(8) as pool:
        waits = [pool.submit(wait, "erin") for _ in range(8)]
        wait_until(lambda: web.waits_held("erin") == 8, what="erin's eight waits to be held", timeout_s=15)
        assert not any(w.done() for w in waits)
        status, state, took = wait("erin")
        assert (status, state) == (200, "queued")
        assert took < 10 and not any(w.done() for w in waits)
        assert all(w.result()[:2] == (200, "queued") and w.result()[2] >= 15 for w in waits)


def test_a_judge0_wait_counts_against_the_same_bound(web: Web) -> None:
    """Judge0's `POST /submissions?wait=true` holds one of the user's waits too: with eight open,
    it is answered at once (201, still In Queue: this fixture runs no worker), not after 60 s."""
    sid = web.call("POST", "/submissions", "frank", json=AD_HOC).json()["id"]

    def wait() -> None:
        web.call("GET", f"/submissions/{sid}", "frank", params={"wait": "true", "timeout": 20})

    with ThreadPoolExecutor(8) as pool:
        waits = [pool.submit(wait) for _ in range(8)]
        wait_until(lambda: web.waits_held("frank") == 8, what="frank's eight waits to be held", timeout_s=15)
        assert not any(w.done() for w in waits)
        start = time.monotonic()
        r = requests.post(
            f"{web.base}/judge0/submissions",
            params={"wait": "true"},
            timeout=90,
            headers={"X-Auth-Token": web.tokens["frank"]},
            json={"language_id": 71, "source_code": "print(1)"},
        )
        took = time.monotonic() - start
        assert r.status_code == 201, r.text
        assert r.json()["status"]["description"] == "In Queue", r.json()
        assert took < 10 and not any(w.done() for w in waits), took
        for w in waits:
            w.result()
