"""web/api/openapi.yaml: a valid OpenAPI 3.1 document, in step with the routes, true about answers.

No Redis and no worker: the app is made with a broker URL nobody listens on, and only answers
that need neither are asked for. Each real answer is checked against what the document says
for its path, method and status, so a view that changes its shape fails here.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from judge.storage import repo
from judge.storage.models import Role
from judge.verdict import Verdict
from web.context import context

PREFIX = "/api/v1"
METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, Any]:
    doc = client.get(f"{PREFIX}/openapi.json").get_json()
    assert isinstance(doc, dict)
    return doc


def _token(app: Flask, name: str, role: Role) -> dict[str, str]:
    with app.app_context(), context().sessions.begin() as session:
        user = repo.create_user(session, name, "pw", role=role)
        _, secret = repo.create_token(session, user)
    return {"Authorization": f"Bearer {secret}"}


def _stored(app: Flask) -> dict[str, int]:
    """A verified problem, a graded batch submission with a webhook log, and a finished ad hoc run."""
    report = {"problem": "sum", "ok": True, "time_limit": 1.0, "submissions": [], "warnings": []}
    with app.app_context(), context().sessions.begin() as session:
        repo.put_problem(
            session, problem_id="sum", name="Sum", path="problems/sum/1", time_limit_s=1.0, memory_mib=256
        )
        repo.set_verify_report(session, "sum", report=json.dumps(report), ok=True)
        batch = repo.add_batch(session, problem_id="sum", user_id=None, name="round 1")
        graded = repo.add_submission(
            session,
            language="python3",
            source=b"print(3)",
            problem_id="sum",
            batch_id=batch.id,
            label="ann",
            callback_url="http://hooks.example/j",
        )
        repo.record_result(
            session,
            graded.id,
            verdict=Verdict.WA,
            time_s=0.0123,
            memory_bytes=1 << 20,
            tests=[
                repo.TestOutcome(
                    index=0,
                    name="1",
                    verdict=Verdict.WA,
                    time_s=0.0123,
                    wall_s=0.02,
                    memory_bytes=1 << 20,
                    message="3 != 4",
                )
            ],
        )
        repo.log_delivery(
            session,
            graded.id,
            url="http://hooks.example/j",
            attempt=1,
            ok=False,
            status_code=None,
            error="ConnectionRefusedError: refused",
            duration_s=0.01,
        )
        ad_hoc = repo.add_submission(
            session, language="c", source=b"int main(){}", stdin=b"", time_limit_s=2.0, memory_mib=256
        )
        repo.record_result(
            session,
            ad_hoc.id,
            verdict=Verdict.AC,
            time_s=0.001,
            memory_bytes=4096,
            tests=[
                repo.TestOutcome(
                    index=0, name="stdin", verdict=Verdict.AC, time_s=0.001, wall_s=0.002, memory_bytes=4096
                )
            ],
            run=repo.RunOutput(stdout=b"\xff", stderr=b"", exit_code=0, signal=None),
        )
        return {"batch": batch.id, "graded": graded.id, "ad_hoc": ad_hoc.id}


def _check(spec: dict[str, Any], where: list[str], instance: Any) -> None:
    """Validate `instance` against the schema at `where` in the document; its refs resolve there."""
    pointer = "/".join(part.replace("~", "~0").replace("/", "~1") for part in where)
    registry: Registry[Any] = Registry().with_resource(
        "urn:openapi", Resource.from_contents(spec, default_specification=DRAFT202012)
    )
    Draft202012Validator({"$ref": f"urn:openapi#/{pointer}"}, registry=registry).validate(instance)


ERROR = ["components", "schemas", "Error"]


def _routes(app: Flask) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX + "/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            found |= {(path, m.lower()) for m in rule.methods or () if m not in ("HEAD", "OPTIONS")}
    return found


def _documented(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, m) for path, item in spec["paths"].items() for m in item if m in METHODS}


def test_document_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_every_route_is_documented_and_every_documented_path_is_a_route(
    app: Flask, spec: dict[str, Any]
) -> None:
    routes, documented = _routes(app), _documented(spec)
    missing = sorted(routes - documented)
    invented = sorted(documented - routes)
    assert not missing and not invented, (
        f"routes not in openapi.yaml: {missing}; documented but not routes: {invented}"
    )


def test_openapi_json_is_served_without_a_token(client: FlaskClient) -> None:
    response = client.get(f"{PREFIX}/openapi.json", base_url="https://judge.example:8443")
    assert response.status_code == 200
    assert response.is_json
    doc = response.get_json()
    assert doc["openapi"].startswith("3.1")
    assert doc["servers"] == [{"url": "https://judge.example:8443"}]


def test_unauthenticated_is_401_in_the_error_shape(client: FlaskClient, spec: dict[str, Any]) -> None:
    response = client.get(f"{PREFIX}/problems")
    assert response.status_code == 401
    _check(spec, ERROR, response.get_json())
    assert response.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", f"{PREFIX}/no-such-thing", 404, "not_found"),
        ("GET", f"{PREFIX}/submissions/not-a-number", 404, "not_found"),
        ("DELETE", f"{PREFIX}/problems", 405, "method_not_allowed"),
    ],
)
def test_routing_errors_under_the_prefix_are_json(
    client: FlaskClient, spec: dict[str, Any], method: str, path: str, status: int, code: str
) -> None:
    response = client.open(path, method=method)
    assert response.status_code == status
    assert response.is_json, response.data[:200]
    _check(spec, ERROR, response.get_json())
    assert response.get_json()["error"]["code"] == code


def test_routing_errors_elsewhere_stay_flasks_own(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert not response.is_json


@pytest.mark.parametrize(
    ("who", "method", "path", "template", "body", "status"),
    [
        ("contestant", "GET", "/me", "/me", None, 200),
        ("contestant", "GET", "/problems", "/problems", None, 200),
        ("contestant", "GET", "/problems/nope", "/problems/{problem_id}", None, 404),
        ("contestant", "GET", "/submissions?limit=5", "/submissions", None, 200),
        ("contestant", "GET", "/submissions?limit=many", "/submissions", None, 400),
        ("contestant", "GET", "/submissions/99", "/submissions/{submission_id}", None, 404),
        (
            "contestant",
            "GET",
            "/submissions/99/deliveries",
            "/submissions/{submission_id}/deliveries",
            None,
            404,
        ),
        ("contestant", "POST", "/submissions", "/submissions", "not json", 400),
        ("contestant", "POST", "/submissions", "/submissions", {"language": "c"}, 422),
        ("contestant", "POST", "/submissions", "/submissions", {"language": "swift", "source": ""}, 422),
        (
            "contestant",
            "POST",
            "/submissions",
            "/submissions",
            {"language": "c", "source": "", "problem": "nope"},
            404,
        ),
        (
            "contestant",
            "POST",
            "/submissions",
            "/submissions",
            {"language": "c", "source": "x" * (256 * 1024 + 1), "stdin": ""},
            413,
        ),
        ("contestant", "POST", "/submissions/batch", "/submissions/batch", {"submissions": []}, 422),
        ("contestant", "GET", "/batches/1", "/batches/{batch_id}", None, 403),
        ("contestant", "POST", "/submissions/1/rejudge", "/submissions/{submission_id}/rejudge", None, 403),
        ("organiser", "GET", "/batches/1", "/batches/{batch_id}", None, 404),
        ("organiser", "GET", "/batches/1/results", "/batches/{batch_id}/results", None, 404),
        ("organiser", "POST", "/problems", "/problems", {}, 422),
        ("organiser", "POST", "/problems/nope/rejudge", "/problems/{problem_id}/rejudge", None, 404),
        (
            "organiser",
            "POST",
            "/batches",
            "/batches",
            {"problem": "nope", "submissions": [{"label": "ann", "language": "c", "source": ""}]},
            404,
        ),
    ],
)
def test_answers_are_as_documented(
    app: Flask,
    client: FlaskClient,
    spec: dict[str, Any],
    who: str,
    method: str,
    path: str,
    template: str,
    body: Any,
    status: int,
) -> None:
    headers = _token(app, who, Role(who))
    if isinstance(body, str):
        response = client.open(PREFIX + path, method=method, data=body, headers=headers)
    else:
        response = client.open(PREFIX + path, method=method, json=body, headers=headers)
    assert response.status_code == status, response.get_json()
    responses = spec["paths"][PREFIX + template][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {template} answers {status}, which is not documented"
    documented = responses[str(status)]
    where = (
        documented["$ref"].removeprefix("#/").split("/")
        if "$ref" in documented
        else ["paths", PREFIX + template, method.lower(), "responses", str(status)]
    )
    _check(spec, [*where, "content", "application/json", "schema"], response.get_json())


def test_stored_documents_read_back_as_documented(
    app: Flask, client: FlaskClient, spec: dict[str, Any]
) -> None:
    ids = _stored(app)
    headers = _token(app, "olga", Role.ORGANISER)
    reads = [
        (f"/submissions/{ids['graded']}", "/submissions/{submission_id}"),
        (f"/submissions/{ids['ad_hoc']}", "/submissions/{submission_id}"),
        ("/submissions", "/submissions"),
        (f"/submissions/{ids['graded']}/deliveries", "/submissions/{submission_id}/deliveries"),
        ("/problems", "/problems"),
        ("/problems/sum", "/problems/{problem_id}"),
        (f"/batches/{ids['batch']}", "/batches/{batch_id}"),
        (f"/batches/{ids['batch']}/results", "/batches/{batch_id}/results"),
    ]
    for path, template in reads:
        response = client.get(PREFIX + path, headers=headers)
        assert response.status_code == 200, (path, response.get_json())
        _check(
            spec,
            ["paths", PREFIX + template, "get", "responses", "200", "content", "application/json", "schema"],
            response.get_json(),
        )
    csv = client.get(f"{PREFIX}/batches/{ids['batch']}/results?format=csv", headers=headers)
    assert csv.mimetype == "text/csv"
    assert csv.text.splitlines()[0] == "label,submission,language,state,verdict,score,time,memory"
