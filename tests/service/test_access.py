"""Access control against the real service: every route of the app, held to a table of who gets what.

`ROUTES` names every (method, rule) of `web.app.create_app()`'s url_map; a route added without
a line here fails `test_every_route_has_a_rule`. Each line says the status each caller gets:

* the JSON API and the Judge0 API, with tokens: nobody (`anon`), `alice` (whose submission the
  route names), `bob` (another contestant), `organiser`, alice's token limited to `read`, her
  token limited to `submit`, the organiser's token limited to `organise`, and alice's `revoked`
  token;
* the pages, with a logged-in session: `anon`, `alice`, `bob`, `organiser`. A page that needs an
  account sends a visitor to the login page (302, the pages' 401); organisers' pages answer 403
  to contestants. Every POST here carries the session's CSRF token; the CSRF tests below take
  it away.

Beside the table: a contestant sees only the problems that are open (a contest's only once it
has started), never a verification report, never another's submission or source, and of a
problem's tests only what the checker said about the samples; a secret test's input or answer
is nowhere in what a contestant can read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import requests
from service_kit import SUM_PY, Service, sum_package

from judge.service.settings import Settings
from judge.storage import connect, session_factory
from judge.storage.models import ApiToken, Contest, Problem, User
from judge.storage.repo import create_token, revoke_token
from web.api import ID

pytestmark = pytest.mark.sandbox

TOKEN_ROLES = ("anon", "alice", "bob", "organiser", "read", "submit", "organise", "revoked")
PAGE_ROLES = ("anon", "alice", "bob", "organiser")
SECRET_ANSWER = "2000000000"  # secret/3's answer in service_kit.sum_package; never shown to contestants
SECRET_INPUT = "1000000000 1000000000"
MARKER = "# alice-own-words-7f3a"


# -- the table ------------------------------------------------------------------------------------


def reader(ok: int = 200) -> dict[str, int]:
    """Any account's token that may read."""
    return {
        "anon": 401,
        "alice": ok,
        "bob": ok,
        "organiser": ok,
        "read": ok,
        "submit": 403,
        "organise": 403,
        "revoked": 401,
    }


def owner(ok: int = 200) -> dict[str, int]:
    """Alice's thing: hers and the organisers'; another contestant's 404, as if it did not exist."""
    return reader(ok) | {"bob": 404}


def submitter(ok: int = 201) -> dict[str, int]:
    return {
        "anon": 401,
        "alice": ok,
        "bob": ok,
        "organiser": ok,
        "read": 403,
        "submit": ok,
        "organise": 403,
        "revoked": 401,
    }


def organiser_only(ok: int) -> dict[str, int]:
    return {
        "anon": 401,
        "alice": 403,
        "bob": 403,
        "organiser": ok,
        "read": 403,
        "submit": 403,
        "organise": ok,
        "revoked": 401,
    }


def judge0_admin() -> dict[str, int]:
    """X-Auth-User carries the caller's own token: an organiser's, whose X-Auth-Token may also read."""
    return organiser_only(200) | {"organise": 403}


def everyone(ok: int, roles: tuple[str, ...] = TOKEN_ROLES) -> dict[str, int]:
    return dict.fromkeys(roles, ok)


def page(ok: int = 200) -> dict[str, int]:
    return {"anon": 302, "alice": ok, "bob": ok, "organiser": ok}


def own_page() -> dict[str, int]:
    return {"anon": 302, "alice": 200, "bob": 404, "organiser": 200}


def organiser_page(ok: int = 200) -> dict[str, int]:
    return {"anon": 302, "alice": 403, "bob": 403, "organiser": ok}


@dataclass(frozen=True)
class Rule:
    kind: str  # "api" (Bearer), "judge0" (X-Auth-Token), "page" (session), "open" (no credentials)
    expect: dict[str, int]
    request: dict[str, Any] = field(default_factory=dict)  # json, data, params for requests
    stream: bool = False  # server-sent events: the status, then hang up
    fresh: bool = False  # a session of its own (logging out must not end the shared ones)
    admin: bool = False  # Judge0: the caller's token in X-Auth-User too


AD_HOC = {"language": "python3", "source": "print(1)", "stdin": ""}
JUDGE0_RUN = {"language_id": 71, "source_code": "print(1)"}

ROUTES: dict[tuple[str, str], Rule] = {
    # the JSON API
    ("GET", "/api/v1/openapi.json"): Rule("api", everyone(200)),
    ("GET", "/api/v1/languages"): Rule("api", reader()),
    ("GET", "/api/v1/problems"): Rule("api", reader()),
    ("GET", "/api/v1/problems/<problem_id>"): Rule("api", reader()),
    ("GET", "/api/v1/problems/<problem_id>/statement"): Rule("api", reader()),
    ("GET", "/api/v1/problems/<problem_id>/statement.pdf"): Rule("api", reader(404)),  # sum has no PDF
    ("GET", "/api/v1/problems/<problem_id>/images/<name>"): Rule("api", reader(404)),  # nor images
    ("POST", "/api/v1/problems"): Rule("api", organiser_only(422)),  # no package: past the door, refused
    ("DELETE", "/api/v1/problems/<problem_id>"): Rule("api", organiser_only(404)),  # aimed at no problem
    ("GET", "/api/v1/me"): Rule("api", reader()),
    ("POST", "/api/v1/submissions"): Rule("api", submitter(), {"json": AD_HOC}),
    ("POST", "/api/v1/submissions/batch"): Rule("api", submitter(), {"json": {"submissions": [AD_HOC]}}),
    ("GET", "/api/v1/submissions"): Rule("api", reader()),
    ("GET", f"/api/v1/submissions/<{ID}:submission_id>"): Rule("api", owner()),
    ("GET", f"/api/v1/submissions/<{ID}:submission_id>/events"): Rule("api", owner(), stream=True),
    ("GET", f"/api/v1/submissions/<{ID}:submission_id>/deliveries"): Rule("api", owner()),
    ("POST", f"/api/v1/submissions/<{ID}:submission_id>/rejudge"): Rule("api", organiser_only(202)),
    ("POST", "/api/v1/problems/<problem_id>/rejudge"): Rule("api", organiser_only(202)),
    ("POST", "/api/v1/batches"): Rule("api", organiser_only(422), {"json": {}}),
    ("GET", f"/api/v1/batches/<{ID}:batch_id>"): Rule("api", organiser_only(200)),
    ("GET", f"/api/v1/batches/<{ID}:batch_id>/results"): Rule("api", organiser_only(200)),
    ("POST", f"/api/v1/batches/<{ID}:batch_id>/rejudge"): Rule("api", organiser_only(202)),
    ("GET", "/api/v1/queue"): Rule("api", organiser_only(200)),
    ("GET", "/api/v1/workers"): Rule("api", organiser_only(200)),
    # the Judge0 API: a Judge0 with authentication on asks every request for X-Auth-Token
    ("POST", "/judge0/submissions"): Rule("judge0", submitter(), {"json": JUDGE0_RUN}),
    ("POST", "/judge0/submissions/batch"): Rule(
        "judge0", submitter(), {"json": {"submissions": [JUDGE0_RUN]}}
    ),
    ("GET", "/judge0/submissions/<token>"): Rule("judge0", owner()),
    ("DELETE", "/judge0/submissions/<token>"): Rule("judge0", reader(400)),  # Judge0's default: kept
    ("GET", "/judge0/submissions/batch"): Rule("judge0", reader()),  # another's token reads as null
    ("GET", "/judge0/submissions"): Rule("judge0", judge0_admin(), admin=True),
    ("POST", "/judge0/authenticate"): Rule("judge0", reader()),
    ("POST", "/judge0/authorize"): Rule("judge0", judge0_admin(), admin=True),
    ("GET", "/judge0/languages"): Rule("judge0", reader()),
    ("GET", "/judge0/languages/all"): Rule("judge0", reader()),
    ("GET", "/judge0/languages/<int:language_id>"): Rule("judge0", reader()),
    ("GET", "/judge0/statuses"): Rule("judge0", reader()),
    ("GET", "/judge0/about"): Rule("judge0", reader()),
    ("GET", "/judge0/version"): Rule("judge0", reader()),
    ("GET", "/judge0/isolate"): Rule("judge0", reader()),
    ("GET", "/judge0/license"): Rule("judge0", reader()),
    ("GET", "/judge0/system_info"): Rule("judge0", reader()),
    ("GET", "/judge0/config_info"): Rule("judge0", reader()),
    ("GET", "/judge0/statistics"): Rule("judge0", reader()),
    ("GET", "/judge0/workers"): Rule("judge0", reader()),
    # for Prometheus: open unless JUDGE_METRICS_TOKEN is set (web/metrics.py; the fixture sets none)
    ("GET", "/metrics"): Rule("open", everyone(200)),
    ("GET", "/static/<path:filename>"): Rule("open", everyone(200)),
    # the pages
    ("GET", "/"): Rule("page", everyone(302, PAGE_ROLES)),
    ("GET", "/login"): Rule("page", everyone(200, PAGE_ROLES)),
    ("POST", "/login"): Rule(
        "page", everyone(401, PAGE_ROLES), {"data": {"name": "alice", "password": "wrong"}}
    ),
    ("POST", "/logout"): Rule("page", everyone(302, PAGE_ROLES), fresh=True),
    ("GET", "/password"): Rule("page", page()),
    ("POST", "/password"): Rule(  # a wrong current password: refused, nothing changed
        "page",
        page(400),
        {"data": {"password": "wrong", "new_password": "new-secret-1", "new_password_again": "new-secret-1"}},
    ),
    ("GET", "/problems"): Rule("page", page()),
    ("GET", "/problems/<problem_id>"): Rule("page", page()),
    ("GET", "/problems/<problem_id>/statement.pdf"): Rule("page", page(404)),  # sum has no PDF
    ("GET", "/problems/<problem_id>/images/<name>"): Rule("page", page(404)),  # nor images
    ("POST", "/problems/<problem_id>/submit"): Rule(
        "page", page(302), {"data": {"language": "python3", "source": SUM_PY.decode()}}
    ),
    ("GET", "/submissions"): Rule("page", page()),
    ("GET", "/submissions/<int:submission_id>"): Rule("page", own_page()),
    ("GET", "/submissions/<int:submission_id>.json"): Rule("page", own_page()),
    ("GET", "/submissions/<int:submission_id>/events"): Rule("page", own_page(), stream=True),
    ("GET", "/contests"): Rule("page", page()),
    ("GET", "/contests/<int:contest_id>"): Rule("page", page()),
    ("GET", "/organiser"): Rule("page", organiser_page()),
    ("GET", "/organiser/problems"): Rule("page", organiser_page()),
    ("POST", "/organiser/problems"): Rule("page", organiser_page(422)),  # no package
    ("GET", "/organiser/problems/<problem_id>"): Rule("page", organiser_page()),
    ("GET", "/organiser/problems/<problem_id>.json"): Rule("page", organiser_page()),
    ("POST", "/organiser/problems/<problem_id>/rejudge"): Rule("page", organiser_page(302)),
    ("POST", "/organiser/submissions/<int:submission_id>/rejudge"): Rule("page", organiser_page(302)),
    ("GET", "/organiser/batches"): Rule("page", organiser_page()),
    ("POST", "/organiser/batches"): Rule("page", organiser_page(422)),  # no problem chosen
    ("GET", "/organiser/batches/<int:batch_id>"): Rule("page", organiser_page()),
    ("GET", "/organiser/batches/<int:batch_id>.json"): Rule("page", organiser_page()),
    ("GET", "/organiser/batches/<int:batch_id>/results.csv"): Rule("page", organiser_page()),
    ("GET", "/organiser/batches/<int:batch_id>/results.json"): Rule("page", organiser_page()),
    ("POST", "/organiser/batches/<int:batch_id>/rejudge"): Rule("page", organiser_page(302)),
    ("GET", "/organiser/contests"): Rule("page", organiser_page()),
    ("POST", "/organiser/contests"): Rule("page", organiser_page(422)),  # no name
    ("GET", "/organiser/users"): Rule("page", organiser_page()),
    ("POST", "/organiser/users"): Rule("page", organiser_page(422)),  # no name
}


def _app_routes(tmp_path: Path) -> set[tuple[str, str]]:
    from web.app import create_app

    app = create_app(
        Settings(
            data_dir=tmp_path,
            database_url=f"sqlite:///{tmp_path}/routes.db",
            redis_url="redis://127.0.0.1:1/0",
        )
    )
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def test_every_route_has_a_rule(tmp_path: Path) -> None:
    routes = _app_routes(tmp_path)
    missing = sorted(routes - set(ROUTES))
    stale = sorted(set(ROUTES) - routes)
    assert not missing, f"routes without a line in ROUTES (who may call them?): {missing}"
    assert not stale, f"lines in ROUTES for routes that are gone: {stale}"
    for (method, rule), line in ROUTES.items():
        roles = PAGE_ROLES if line.kind == "page" else TOKEN_ROLES
        assert set(line.expect) == set(roles), (method, rule)


# -- the world the table is played in -------------------------------------------------------------


@dataclass
class World:
    service: Service
    secrets: dict[str, str]  # token role -> secret
    sessions: dict[str, tuple[requests.Session, str]]  # page role -> (session, its CSRF token)
    args: dict[str, str]  # a value for each path argument
    hidden: str  # a problem of a contest that starts tomorrow
    submission: int  # alice's: passes the sample, fails secret/3
    sample_miss: int  # alice's: fails the sample
    rejudged: int  # alice's ad hoc run, which the rejudge routes send back to the queue
    judge0_token: str  # alice's Judge0 submission

    def url(self, rule: str, **override: str) -> str:
        values = self.args | override
        return self.service.base + re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values[m.group(1)], rule)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no csrf_token in the page"
    return found.group(1)


def log_in(service: Service, name: str | None) -> tuple[requests.Session, str]:
    """A session (logged in as `name`, or nobody's) and its CSRF token."""
    s = requests.Session()
    token = csrf_of(s.get(f"{service.base}/login", timeout=30).text)
    if name is None:
        return s, token
    r = s.post(
        f"{service.base}/login",
        data={"csrf_token": token, "name": name, "password": f"{name}-password"},
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code == 302, r.text
    return s, csrf_of(s.get(f"{service.base}/problems", timeout=30).text)


def _done(service: Service, doc: dict[str, Any]) -> int:
    sid = int(doc["id"])
    assert service.wait_done(sid)["state"] == "done"
    return sid


@pytest.fixture(scope="module")
def world(service: Service, sum_problem: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    archive = sum_package(tmp_path_factory.mktemp("hidden") / "later.zip", name="later")
    with open(archive, "rb") as f:
        r = service.call("POST", "/problems", as_="organiser", files={"package": ("later.zip", f)})
    assert r.status_code == 201 and r.json()["verification"]["ok"], r.text
    hidden = r.json()["id"]

    engine = connect(service.env["JUDGE_DATABASE_URL"])
    with session_factory(engine).begin() as session:

        def user(name: str) -> User:
            return session.query(User).filter_by(name=name).one()

        alice, organiser = user("alice"), user("organiser")
        secrets = {
            "alice": service.tokens["alice"],
            "bob": service.tokens["bob"],
            "organiser": service.tokens["organiser"],
            "read": create_token(session, alice, ["read"])[1],
            "submit": create_token(session, alice, ["submit"])[1],
            "organise": create_token(session, organiser, ["organise"])[1],
        }
        revoked, secrets["revoked"] = create_token(session, alice)
        session.flush()
        assert revoke_token(session, revoked.id)
        tomorrow = datetime.now(UTC) + timedelta(days=1)
        contest = Contest(
            name="Tomorrow",
            starts_at=tomorrow,
            ends_at=tomorrow + timedelta(hours=5),
            kind="icpc",
            problems=[session.get(Problem, hidden)],
        )
        session.add(contest)
        session.flush()
        contest_id = contest.id
    engine.dispose()

    off_on_secret = f"{MARKER}\na, b = map(int, input().split())\nprint(a + b if a < 10**9 else 0)\n"
    submission = _done(
        service,
        service.submit({"language": "python3", "problem": sum_problem, "source": off_on_secret}, wait=False),
    )
    sample_miss = _done(
        service,
        service.submit(
            {
                "language": "python3",
                "problem": sum_problem,
                "source": "a, b = map(int, input().split())\nprint(a + b + 1)\n",
            },
            wait=False,
        ),
    )
    rejudged = _done(service, service.submit(AD_HOC, wait=False))  # the rejudge routes' target
    r = requests.post(
        f"{service.base}/judge0/submissions",
        params={"wait": "true"},
        json=JUDGE0_RUN,
        headers={"X-Auth-Token": secrets["alice"]},
        timeout=90,
    )
    assert r.status_code == 201, r.text
    judge0_token = r.json()["token"]
    r = service.call(
        "POST",
        "/batches",
        as_="organiser",
        json={
            "problem": hidden,
            "submissions": [{"label": "ann", "language": "python3", "source": SUM_PY.decode()}],
        },
    )
    assert r.status_code == 201, r.text
    batch = r.json()["id"]

    args = {
        "problem_id": sum_problem,
        "submission_id": str(submission),
        "batch_id": str(batch),
        "token": judge0_token,
        "language_id": "71",
        "name": "figure.png",
        "filename": "style.css",
        "contest_id": str(contest_id),
    }
    sessions = {role: log_in(service, None if role == "anon" else role) for role in PAGE_ROLES}
    yield World(service, secrets, sessions, args, hidden, submission, sample_miss, rejudged, judge0_token)
    for s, _ in sessions.values():
        s.close()


def _overrides(method: str, rule: str, world: World) -> dict[str, str]:
    """Path arguments a route takes other than the shared ones: what it changes must not disturb
    other tests (rejudging is aimed at the hidden problem and at an ad hoc run of alice's)."""
    if rule.endswith("/rejudge") and "problem_id" in rule:
        return {"problem_id": world.hidden}
    if rule.endswith("/rejudge") and "submission_id" in rule:
        return {"submission_id": str(world.rejudged)}
    if rule.startswith("/organiser/problems/"):
        return {"problem_id": world.hidden}
    if method == "DELETE" and rule == "/api/v1/problems/<problem_id>":
        return {"problem_id": "no-such-problem"}  # past the door, nothing to delete
    return {}


def call(world: World, method: str, rule: str, line: Rule, role: str) -> requests.Response:
    url = world.url(rule, **_overrides(method, rule, world))
    kwargs: dict[str, Any] = {"timeout": 90, "allow_redirects": False, "stream": line.stream, **line.request}
    if rule == "/judge0/submissions/batch" and method == "GET":
        kwargs["params"] = {"tokens": world.judge0_token}
    if line.kind in ("api", "judge0", "open"):
        headers: dict[str, str] = {}
        if role != "anon":
            secret = world.secrets[role]
            if line.kind == "api":
                headers["Authorization"] = f"Bearer {secret}"
            elif line.kind == "judge0":
                headers["X-Auth-Token"] = secret
                if line.admin:
                    headers["X-Auth-User"] = secret
        return requests.request(method, url, headers=headers, **kwargs)
    session, token = (
        log_in(world.service, None if role == "anon" else role) if line.fresh else world.sessions[role]
    )
    if method == "POST":
        kwargs["data"] = {"csrf_token": token, **kwargs.get("data", {})}
    return session.request(method, url, **kwargs)


CASES = [
    (method, rule, role)
    for (method, rule), line in ROUTES.items()
    for role in (PAGE_ROLES if line.kind == "page" else TOKEN_ROLES)
]


@pytest.mark.parametrize(("method", "rule", "role"), CASES, ids=[f"{m} {r} {who}" for m, r, who in CASES])
def test_route_answers_each_caller_as_the_table_says(world: World, method: str, rule: str, role: str) -> None:
    line = ROUTES[(method, rule)]
    r = call(world, method, rule, line, role)
    try:
        assert r.status_code == line.expect[role], (method, rule, role, r.status_code, r.text[:500])
        if (
            line.expect[role] == 302
            and line.kind == "page"
            and role == "anon"
            and rule not in ("/", "/logout")
        ):
            assert "/login" in r.headers["Location"]
        if line.kind in ("api", "judge0") and r.status_code >= 400:
            assert r.headers["Content-Type"].startswith("application/json")
    finally:
        r.close()


# -- what a contestant may see --------------------------------------------------------------------


def test_a_contests_problem_is_hidden_from_contestants_until_it_starts(world: World) -> None:
    svc, hidden = world.service, world.hidden
    assert hidden not in [p["id"] for p in svc.call("GET", "/problems", as_="alice").json()["problems"]]
    assert hidden in [p["id"] for p in svc.call("GET", "/problems", as_="organiser").json()["problems"]]
    assert svc.call("GET", f"/problems/{hidden}", as_="alice").status_code == 404
    assert svc.call("GET", f"/problems/{hidden}", as_="organiser").status_code == 200
    for path, body in (
        ("/submissions", {"language": "python3", "problem": hidden, "source": "print(0)"}),
        (
            "/submissions/batch",
            {"submissions": [{"language": "python3", "problem": hidden, "source": "print(0)"}]},
        ),
    ):
        r = svc.call("POST", path, as_="alice", json=body)
        assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_problem", r.text
    session, token = world.sessions["alice"]
    assert session.get(f"{svc.base}/problems/{hidden}", timeout=30).status_code == 404
    assert f"/problems/{hidden}" not in session.get(f"{svc.base}/problems", timeout=30).text
    r = session.post(
        f"{svc.base}/problems/{hidden}/submit",
        timeout=30,
        allow_redirects=False,
        data={"csrf_token": token, "language": "python3", "source": "print(0)"},
    )
    assert r.status_code == 404
    organiser, _ = world.sessions["organiser"]
    assert organiser.get(f"{svc.base}/problems/{hidden}", timeout=30).status_code == 200


def test_only_organisers_read_the_verification_report(world: World) -> None:
    problem = world.args["problem_id"]
    mine = world.service.call("GET", f"/problems/{problem}", as_="alice").json()
    assert "report" not in mine["verification"] and mine["verification"]["ok"] is True
    theirs = world.service.call("GET", f"/problems/{problem}", as_="organiser").json()
    assert theirs["verification"]["report"]["ok"] is True


def test_a_problem_shows_contestants_its_samples_and_nothing_of_its_secret_tests(world: World) -> None:
    problem = world.args["problem_id"]
    session, _ = world.sessions["alice"]
    html = session.get(f"{world.service.base}/problems/{problem}", timeout=30).text
    assert "1 2" in html  # the sample
    for api in ("/problems", f"/problems/{problem}"):
        text = world.service.call("GET", api, as_="alice").text
        assert SECRET_ANSWER not in text and SECRET_INPUT not in text
    assert SECRET_ANSWER not in html and SECRET_INPUT not in html


def test_a_contestant_hears_nothing_the_checker_said_about_a_secret_test(world: World) -> None:
    svc = world.service
    mine = svc.call("GET", f"/submissions/{world.submission}", as_="alice").json()
    assert mine["verdict"] == "WA"
    tests = {t["name"]: t for t in mine["tests"]}
    assert tests["secret/3"]["verdict"] == "WA" and tests["secret/3"]["message"] is None
    assert all(t["message"] is None for name, t in tests.items() if not name.startswith("sample"))
    theirs = svc.call("GET", f"/submissions/{world.submission}", as_="organiser").json()
    assert SECRET_ANSWER in {t["name"]: t for t in theirs["tests"]}["secret/3"]["message"]

    session, _ = world.sessions["alice"]
    texts = [
        svc.call("GET", f"/submissions/{world.submission}", as_="alice").text,
        svc.call("GET", "/submissions", as_="alice").text,
        session.get(f"{svc.base}/submissions/{world.submission}", timeout=30).text,
        session.get(f"{svc.base}/submissions/{world.submission}.json", timeout=30).text,
    ]
    with svc.call("GET", f"/submissions/{world.submission}/events", as_="alice", stream=True) as r:
        texts.append(r.text)  # a finished submission's stream ends after `done`
    with session.get(f"{svc.base}/submissions/{world.submission}/events", timeout=30, stream=True) as r:
        texts.append(r.text)
    for text in texts:
        assert SECRET_ANSWER not in text and SECRET_INPUT not in text

    # a sample is in the statement, so what the checker said about it is no secret
    missed = svc.call("GET", f"/submissions/{world.sample_miss}", as_="alice").json()
    (first,) = [t for t in missed["tests"] if t["name"] == "sample/1"]
    assert first["verdict"] == "WA" and first["message"]


def test_a_contestant_cannot_read_anothers_submission_or_its_source(world: World) -> None:
    svc, sid = world.service, world.submission
    session, _ = world.sessions["bob"]
    for path in (f"/submissions/{sid}", f"/submissions/{sid}/deliveries", f"/submissions/{sid}/events"):
        r = svc.call("GET", path, as_="bob")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", path
    assert sid not in [s["id"] for s in svc.call("GET", "/submissions", as_="bob").json()["submissions"]]
    for path in (f"/submissions/{sid}", f"/submissions/{sid}.json", f"/submissions/{sid}/events"):
        r = session.get(svc.base + path, timeout=30)
        assert r.status_code == 404 and MARKER not in r.text, path
    assert f'/submissions/{sid}"' not in session.get(f"{svc.base}/submissions", timeout=30).text
    own, _ = world.sessions["alice"]
    assert MARKER in own.get(f"{svc.base}/submissions/{sid}", timeout=30).text  # the owner reads it

    def judge0(who: str, path: str, **params: str) -> requests.Response:
        return requests.get(
            f"{svc.base}/judge0{path}",
            headers={"X-Auth-Token": world.secrets[who]},
            params=params,
            timeout=30,
        )

    fields = "source_code,stdin,stdout"
    assert judge0("bob", f"/submissions/{world.judge0_token}", fields=fields).status_code == 404
    assert judge0("bob", "/submissions/batch", tokens=world.judge0_token, fields=fields).json() == {
        "submissions": [None]
    }
    assert (
        judge0("alice", f"/submissions/{world.judge0_token}", fields=fields).json()["source_code"]
        == "print(1)"
    )
    assert judge0("organiser", f"/submissions/{world.judge0_token}").status_code == 200


def test_scopes_and_revocation_hold_on_both_apis(world: World) -> None:
    svc = world.service
    r = requests.post(
        svc.url("/submissions"),
        json=AD_HOC,
        headers={"Authorization": f"Bearer {world.secrets['read']}"},
        timeout=30,
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "insufficient_scope"
    r = requests.post(
        f"{svc.base}/judge0/submissions",
        json=JUDGE0_RUN,
        headers={"X-Auth-Token": world.secrets["read"]},
        timeout=30,
    )
    assert r.status_code == 403 and "submit" in r.json()["error"]
    for url, header in ((svc.url("/me"), "Authorization"), (f"{svc.base}/judge0/statuses", "X-Auth-Token")):
        value = (
            f"Bearer {world.secrets['revoked']}" if header == "Authorization" else world.secrets["revoked"]
        )
        assert requests.get(url, headers={header: value}, timeout=30).status_code == 401
    engine = connect(svc.env["JUDGE_DATABASE_URL"])
    with session_factory(engine)() as session:  # revoked, not deleted: `judge token ls` still lists it
        token = session.query(ApiToken).filter(ApiToken.revoked_at.is_not(None)).first()
        assert token is not None
    engine.dispose()


# -- CSRF -----------------------------------------------------------------------------------------


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append(
                {"method": (a.get("method") or "get").lower(), "action": a.get("action"), "csrf": None}
            )
        elif tag == "input" and a.get("name") == "csrf_token" and self.forms:
            self.forms[-1]["csrf"] = a.get("value")


TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"


def test_every_form_in_the_templates_carries_a_csrf_token() -> None:
    forms = 0
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text()
        for form in re.findall(r"<form\b.*?</form>", text, flags=re.S):
            forms += 1
            assert 'method="post"' in form, f"{template.name}: a form that is not a POST: {form[:80]}"
            assert 'name="csrf_token" value="{{ csrf_token() }}"' in form, f"{template.name}: {form[:80]}"
    assert forms >= 10


def test_every_rendered_form_carries_the_sessions_csrf_token(world: World) -> None:
    seen = 0
    for role in ("alice", "organiser"):
        session, _ = world.sessions[role]
        for (method, rule), line in ROUTES.items():
            if method != "GET" or line.kind != "page" or line.stream or line.expect[role] != 200:
                continue
            r = session.get(world.url(rule, **_overrides(method, rule, world)), timeout=30)
            if not r.headers["Content-Type"].startswith("text/html"):
                continue
            parser = _Forms()
            parser.feed(r.text)
            for form in parser.forms:
                seen += 1
                assert form["method"] == "post" and form["csrf"], (role, rule, form)
    assert seen >= 15


POST_PAGES = [rule for (method, rule), line in ROUTES.items() if method == "POST" and line.kind == "page"]


@pytest.mark.parametrize("rule", POST_PAGES)
@pytest.mark.parametrize("token", [None, "not-the-token"])
def test_a_page_post_without_the_csrf_token_is_refused(world: World, rule: str, token: str | None) -> None:
    session, _ = world.sessions["organiser"]
    data = {**ROUTES[("POST", rule)].request.get("data", {})} | ({"csrf_token": token} if token else {})
    if rule == "/logout":
        session, _ = log_in(world.service, "organiser")
    r = session.post(
        world.url(rule, **_overrides("POST", rule, world)), data=data, timeout=30, allow_redirects=False
    )
    assert r.status_code == 400, (rule, r.status_code)
    assert "CSRF" in r.text
    anon, _ = world.sessions["anon"]
    r = anon.post(
        world.url(rule, **_overrides("POST", rule, world)), data=data, timeout=30, allow_redirects=False
    )
    assert r.status_code == 400, (rule, r.status_code)


def test_a_csrf_token_is_bound_to_its_session(world: World) -> None:
    """A token is bound to its session: bob's cannot be replayed in alice's session."""
    alice, _ = world.sessions["alice"]
    _, bobs = world.sessions["bob"]
    r = alice.post(
        f"{world.service.base}/organiser/users", data={"csrf_token": bobs}, timeout=30, allow_redirects=False
    )
    assert r.status_code == 400
