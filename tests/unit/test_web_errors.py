"""The web's answers when the database is away (pages and the Judge0 API; the JSON API's are in
tests/service/test_faults.py, on a real locked and a real stopped database), for ids past
the database's integers, and for the service's refusals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, request
from sqlalchemy.exc import OperationalError

from judge.errors import Refusal, Refused
from judge.storage import repo
from judge.storage.models import Role
from web.api.errors import STATUS, refusal
from web.context import context


@pytest.fixture
def app(make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setenv("JUDGE_RATE_LIMIT_API", "off")
    return make_app()


def test_the_judge0_api_answers_503_json_when_the_database_is_away(app: Flask) -> None:
    ctx = app.extensions["judge"]

    class Away:
        def __call__(self, *_: Any, **__: Any) -> Any:
            raise OperationalError("SELECT 1", {}, Exception("database is locked"))

        begin = __call__

    object.__setattr__(ctx, "sessions", Away())
    r = app.test_client().get("/judge0/languages", headers={"X-Auth-Token": "jdg_whatever"})
    assert r.status_code == 503
    assert r.headers["Retry-After"] == "5"
    assert "database is unavailable" in r.get_json()["error"]  # Judge0's shape: {"error": text}


def test_a_page_answers_503_when_the_database_is_away(app: Flask) -> None:
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1"  # flask-login then loads the user: from the database, away

    class Away:
        def __call__(self, *_: Any, **__: Any) -> Any:
            raise OperationalError("SELECT 1", {}, Exception("database is locked"))

        begin = __call__

    object.__setattr__(app.extensions["judge"], "sessions", Away())
    r = client.get("/problems")
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    assert "database is unavailable" in r.get_data(as_text=True)


def test_a_page_with_an_id_past_the_databases_integers_is_404(app: Flask) -> None:
    client = app.test_client()
    for path in ("/submissions/99999999999999999999", "/organiser/batches/2147483648"):
        assert client.get(path).status_code == 404, path
    assert client.get("/submissions/2147483647").status_code in (302, 401, 404)  # in range: routed


@pytest.mark.parametrize(("hops", "seen"), [("", "127.0.0.1"), ("1", "203.0.113.9")])
def test_behind_a_proxy_the_client_address_is_the_forwarded_one(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch, hops: str, seen: str
) -> None:
    """Per-address rate limits (failed logins) must count clients, not the proxy in front."""
    monkeypatch.setenv("JUDGE_PROXY_HOPS", hops)
    app = make_app()
    app.add_url_rule("/_address", "address", lambda: request.remote_addr or "")
    r = app.test_client().get(
        "/_address", headers={"X-Forwarded-For": "203.0.113.9"}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    )
    assert r.get_data(as_text=True) == seen


def test_a_bad_proxy_hop_count_is_refused_at_start(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUDGE_PROXY_HOPS", "one")
    with pytest.raises(ValueError, match="JUDGE_PROXY_HOPS must be a whole number"):
        make_app()


def test_every_refusal_of_the_service_has_an_http_status_and_keeps_its_error_code() -> None:
    assert set(STATUS) == set(Refusal)
    error = refusal(Refused(Refusal.PROBLEM_NOT_READY, "no time limit yet"))
    assert (error.status, error.code, error.message) == (409, "problem_not_ready", "no time limit yet")
    assert refusal(Refused(Refusal.TOO_LARGE, "big"), "submissions[3]: big").message == "submissions[3]: big"


def test_a_refusal_of_the_service_is_the_apis_error_document(app: Flask) -> None:
    """Rejudging a problem that does not exist: judge/service/submissions.py refuses, the API answers."""
    with app.app_context(), context().sessions.begin() as session:
        user = repo.create_user(session, "organiser", "long enough", Role.ORGANISER)
        secret = repo.create_token(session, user)[1]
    r = app.test_client().post("/api/v1/problems/nope/rejudge", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 404
    assert r.get_json() == {"error": {"code": "unknown_problem", "message": "no problem 'nope'"}}
