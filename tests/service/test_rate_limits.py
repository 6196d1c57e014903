"""Rate limits (web/ratelimit.py) against a real service of their own, with low limits.

The submission limit is per user whichever way the submissions come (API, Judge0 API, the
form), organisers are exempt, the request limit is per token and per logged-in user, failed
logins are counted per address; the counts live in Redis, so a second web process on the same
Redis sees them; with Redis away, a web process counts on its own and answers no 500. Every
refusal is 429 with Retry-After in whole seconds. The login test runs last: it locks this
module's address out of logging in for a minute.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from kit import free_port
from service_kit import Service, run_service, wait_serving

from judge.storage import connect, session_factory
from judge.storage.models import Role, User
from judge.storage.repo import create_token, create_user

pytestmark = pytest.mark.sandbox

SUBMITS, REQUESTS, PAGES, FAILED_LOGINS = 3, 8, 10, 3
LIMITS = {
    "JUDGE_RATE_LIMIT_SUBMIT": f"{SUBMITS}/minute",
    "JUDGE_RATE_LIMIT_API": f"{REQUESTS}/minute",
    "JUDGE_RATE_LIMIT_PAGES": f"{PAGES}/minute",
    "JUDGE_RATE_LIMIT_LOGIN": f"{FAILED_LOGINS}/minute",
}
AD_HOC = {"language": "python3", "source": "print(1)", "stdin": ""}


@dataclass
class Limited:
    service: Service
    tokens: dict[str, str]  # more tokens than the fixture's: each test counts on its own ones
    webs: list[str]  # base URLs of further web processes: same Redis, same database
    dead_redis_web: str  # a web process whose Redis is not there

    def token(self, user: str) -> str:
        """A fresh token of `user`'s: a count of its own."""
        engine = connect(self.service.env["JUDGE_DATABASE_URL"])
        with session_factory(engine).begin() as session:
            found = session.query(User).filter_by(name=user).one()
            secret = create_token(session, found)[1]
        engine.dispose()
        return secret


def _start_web(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with open(log, "wb") as f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "web", "--port", str(port)], env=env, stdout=f, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    wait_serving(base, [proc], context=log.read_text)
    return proc, base


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once this is closed


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory, sandbox_ready: None) -> Iterator[Limited]:
    data_dir = tmp_path_factory.mktemp("limited")
    for svc in run_service(data_dir, f"sqlite:///{data_dir / 'judge.db'}", extra_env=LIMITS):
        engine = connect(svc.env["JUDGE_DATABASE_URL"])
        with session_factory(engine).begin() as session:
            for name in ("carol", "dave"):
                svc.tokens[name] = create_token(
                    session, create_user(session, name, f"{name}-password", Role.CONTESTANT)
                )[1]
        engine.dispose()
        second, second_base = _start_web(svc.env, data_dir / "web2.log")
        dead_env = dict(svc.env, JUDGE_REDIS_URL=f"redis://:nobody@127.0.0.1:{_closed_port()}/0")
        dead, dead_base = _start_web(dead_env, data_dir / "web-dead-redis.log")
        try:
            yield Limited(svc, dict(svc.tokens), [second_base], dead_base)
        finally:
            for proc in (second, dead):
                proc.terminate()
                proc.wait(timeout=30)


def api(base: str, method: str, path: str, token: str, **kw: Any) -> requests.Response:
    return requests.request(
        method, f"{base}/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, timeout=60, **kw
    )


def assert_limited(r: requests.Response, *, json: bool = True) -> int:
    """A 429 that says when to come back: Retry-After, whole seconds, within the minute."""
    assert r.status_code == 429, (r.status_code, r.text[:300])
    wait = r.headers["Retry-After"]
    assert re.fullmatch(r"[0-9]+", wait) and 0 < int(wait) <= 60, wait
    if json:
        assert r.headers["Content-Type"].startswith("application/json")
        error = r.json()["error"]
        assert error["code"] == "rate_limited" and f"{wait} s" in error["message"], error
    return int(wait)


def test_the_submission_after_the_limit_is_429_and_not_stored(limited: Limited) -> None:
    svc = limited.service
    for _ in range(SUBMITS):
        assert svc.call("POST", "/submissions", as_="alice", json=AD_HOC).status_code == 201
    before = len(svc.call("GET", "/submissions", as_="organiser").json()["submissions"])
    r = svc.call("POST", "/submissions", as_="alice", json=AD_HOC)
    assert_limited(r)
    assert "submissions" in r.json()["error"]["message"]
    assert len(svc.call("GET", "/submissions", as_="organiser").json()["submissions"]) == before
    spec = requests.get(svc.url("/openapi.json"), timeout=30).json()  # the answer is documented
    documented = spec["paths"]["/api/v1/submissions"]["post"]["responses"]["429"]
    assert documented["$ref"].endswith("/TooManyRequests")
    # one count, whichever way: the Judge0 API refuses her too
    r = requests.post(
        f"{svc.base}/judge0/submissions",
        json={"language_id": 71, "source_code": "print(1)"},
        headers={"X-Auth-Token": svc.tokens["alice"]},
        timeout=30,
    )
    assert_limited(r)


def test_another_user_is_not_held_back_and_organisers_are_exempt(limited: Limited) -> None:
    svc = limited.service
    assert svc.call("POST", "/submissions", as_="bob", json=AD_HOC).status_code == 201
    for _ in range(SUBMITS + 2):
        assert svc.call("POST", "/submissions", as_="organiser", json=AD_HOC).status_code == 201
    r = svc.call(
        "POST", "/submissions/batch", as_="organiser", json={"submissions": [AD_HOC] * (SUBMITS + 1)}
    )
    assert r.status_code == 201
    for _ in range(REQUESTS + 2):  # nor are organisers' tokens held to the request limit
        assert svc.call("GET", "/me", as_="organiser").status_code == 200


def test_a_batch_counts_each_of_its_submissions(limited: Limited) -> None:
    token = limited.tokens["bob"]  # bob has made one submission (the test above)
    base = limited.service.base
    r = api(base, "POST", "/submissions/batch", token, json={"submissions": [AD_HOC] * SUBMITS})
    assert_limited(r)
    assert (
        api(
            base, "POST", "/submissions/batch", token, json={"submissions": [AD_HOC] * (SUBMITS - 1)}
        ).status_code
        == 201
    )


def test_requests_are_counted_per_token_on_both_apis(limited: Limited) -> None:
    base = limited.service.base
    first, second = limited.token("dave"), limited.token("dave")
    for _ in range(REQUESTS):
        assert api(base, "GET", "/me", first).status_code == 200
    assert_limited(api(base, "GET", "/me", first))
    assert_limited(requests.get(f"{base}/judge0/statuses", headers={"X-Auth-Token": first}, timeout=30))
    assert api(base, "GET", "/me", second).status_code == 200  # a token of the same user's: its own count


def test_the_count_is_shared_by_every_web_process(limited: Limited) -> None:
    (other,) = limited.webs
    token = limited.token("dave")
    for i in range(REQUESTS):
        assert api(limited.service.base if i % 2 else other, "GET", "/me", token).status_code == 200
    assert_limited(api(other, "GET", "/me", token))
    assert_limited(api(limited.service.base, "GET", "/me", token))


def log_in(base: str, name: str) -> tuple[requests.Session, str]:
    s = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(f"{base}/login", timeout=30).text)
    assert token
    r = s.post(
        f"{base}/login",
        data={"csrf_token": token.group(1), "name": name, "password": f"{name}-password"},
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code == 302, r.text
    return s, token.group(1)


def test_the_form_and_the_api_share_a_users_submissions(limited: Limited) -> None:
    svc = limited.service
    problem = _problem(svc)
    for _ in range(SUBMITS - 1):
        assert svc.call("POST", "/submissions", as_="carol", json=AD_HOC).status_code == 201
    session, csrf = log_in(svc.base, "carol")
    form = {"csrf_token": csrf, "language": "python3", "source": "print(2)"}
    url = f"{svc.base}/problems/{problem}/submit"
    assert session.post(url, data=form, allow_redirects=False, timeout=30).status_code == 302
    r = session.post(url, data=form, allow_redirects=False, timeout=30)
    assert_limited(r, json=False)
    assert r.headers["Content-Type"].startswith("text/html") and "try again in" in r.text


def _problem(svc: Service) -> str:
    """A problem to submit to through the form: imported once, verified."""
    from service_kit import sum_package

    listed = svc.call("GET", "/problems", as_="organiser").json()["problems"]
    if listed:
        return str(listed[0]["id"])
    archive = sum_package(svc.data_dir / "sum.zip")
    with open(archive, "rb") as f:
        r = svc.call("POST", "/problems", as_="organiser", files={"package": ("sum.zip", f)})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_pages_are_counted_per_user_and_organisers_are_exempt(limited: Limited) -> None:
    base = limited.service.base
    dave, _ = log_in(base, "dave")
    for _ in range(PAGES):
        assert dave.get(f"{base}/submissions", timeout=30).status_code == 200
    assert_limited(dave.get(f"{base}/submissions", timeout=30), json=False)
    organiser, _ = log_in(base, "organiser")
    for _ in range(PAGES + 2):
        assert organiser.get(f"{base}/submissions", timeout=30).status_code == 200


def test_with_redis_away_a_web_process_fails_open_and_counts_alone(limited: Limited) -> None:
    base, token = limited.dead_redis_web, limited.token("dave")
    assert requests.get(f"{base}/login", timeout=30).status_code == 200
    for _ in range(REQUESTS):
        assert api(base, "GET", "/me", token).status_code == 200  # the database is all it needs
    assert_limited(api(base, "GET", "/me", token))  # counted in this process's memory meanwhile
    r = api(base, "POST", "/submissions", limited.token("dave"), json=AD_HOC)
    assert r.status_code == 503 and r.json()["error"]["code"] == "queue_unavailable", r.text


def test_failed_logins_are_counted_per_address(limited: Limited) -> None:
    """Last in the module: the address cannot log in for a minute afterwards."""
    base = limited.service.base
    s = requests.Session()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', s.get(f"{base}/login", timeout=30).text)
    assert csrf
    for _ in range(FAILED_LOGINS):
        r = s.post(
            f"{base}/login",
            data={"csrf_token": csrf.group(1), "name": "alice", "password": "guess"},
            timeout=30,
        )
        assert r.status_code == 401
    right = {"csrf_token": csrf.group(1), "name": "alice", "password": "alice-password"}
    r = s.post(f"{base}/login", data=right, allow_redirects=False, timeout=30)
    assert_limited(r, json=False)
    assert "try again in" in r.text and 'name="password"' in r.text  # the form again, saying why
    # the API's tokens are no password: they are not held back by failed logins
    assert limited.service.call("GET", "/me", as_="bob").status_code == 200
