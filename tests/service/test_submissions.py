"""Submitting through the JSON API to the real service: ad hoc runs, problems, waits, streams."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from kit import wait_until
from service_kit import SUM_C, SUM_PY, WRONG_C, Service

pytestmark = pytest.mark.sandbox


def test_ad_hoc_run_waits_for_its_verdict_and_output(service: Service) -> None:
    doc = service.submit(
        {
            "language": "python3",
            "source": "print(input()[::-1])",
            "stdin": "judge\n",
            "expected_output": "egduj\n",
        }
    )
    assert doc["state"] == "done"
    assert doc["verdict"] == "AC"
    assert doc["stdout"] == "egduj\n"
    assert doc["exit_code"] == 0
    assert doc["problem"] is None
    assert doc["time_limit"] == 2.0 and doc["memory_limit"] == 256
    assert [t["verdict"] for t in doc["tests"]] == ["AC"]


@pytest.mark.parametrize(
    ("source", "extra", "verdict"),
    [
        ("print(1)", {"expected_output": "2\n"}, "WA"),
        ("import sys; sys.exit(3)", {}, "RTE"),
        ("while True: pass", {"time_limit": 0.3}, "TLE"),
        ("x = bytearray(300 * 1024 * 1024); print(len(x))", {"memory_limit": 64}, "MLE"),
        ("def f(:", {}, "CE"),  # Python 3 is byte-compiled first: a syntax error is a compile error
    ],
)
def test_ad_hoc_verdicts(service: Service, source: str, extra: dict[str, object], verdict: str) -> None:
    doc = service.submit({"language": "python3", "source": source, "stdin": "", **extra})
    assert doc["verdict"] == verdict, doc


def test_compile_error_keeps_the_compiler_output(service: Service) -> None:
    doc = service.submit({"language": "c", "source": "int main( {", "stdin": ""})
    assert doc["verdict"] == "CE"
    assert "error" in doc["compile_output"]
    assert doc["tests"] == []


def test_submit_then_poll(service: Service) -> None:
    doc = service.submit({"language": "c", "source": SUM_C.decode(), "stdin": "2 3\n"}, wait=False)
    assert doc["state"] in ("queued", "compiling", "running", "done")
    sid = doc["id"]

    def poll() -> dict[str, Any]:
        r = service.call("GET", f"/submissions/{sid}")
        assert r.status_code == 200
        answer: dict[str, Any] = r.json()
        return answer

    doc = wait_until(
        poll, until=lambda d: d["state"] == "done", what="the submission to be graded", timeout_s=60
    )
    assert doc["verdict"] == "AC" and doc["stdout"] == "5\n"


def test_problem_submission_has_every_test(service: Service, sum_problem: str) -> None:
    doc = service.submit({"language": "c", "problem": sum_problem, "source": SUM_C.decode()})
    assert doc["verdict"] == "AC"
    assert [t["name"] for t in doc["tests"]] == ["sample/1", "secret/1", "secret/2", "secret/3"]
    assert all(t["verdict"] == "AC" and t["memory"] > 0 for t in doc["tests"])
    assert doc["time"] == max(t["time"] for t in doc["tests"])
    assert "stdout" not in doc  # a problem's tests keep no output


def test_problem_wrong_answer_stops_at_the_first_failure(service: Service, sum_problem: str) -> None:
    doc = service.submit({"language": "c", "problem": sum_problem, "source": WRONG_C.decode()})
    assert doc["verdict"] == "WA"
    assert [t["verdict"] for t in doc["tests"]] == ["WA"]


def test_events_stream_test_by_test(service: Service, sum_problem: str) -> None:
    doc = service.submit(
        {"language": "python3", "problem": sum_problem, "source": SUM_PY.decode()}, wait=False
    )
    r = service.call("GET", f"/submissions/{doc['id']}/events", stream=True)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/event-stream")
    events = []
    name = None
    for line in r.iter_lines(decode_unicode=True):
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: "):
            events.append((name, json.loads(line[len("data: ") :])))
            if name == "done":
                break
    r.close()
    names = [n for n, _ in events]
    assert names[0] == "submission"
    assert names[-1] == "done"
    assert events[-1][1]["submission"]["verdict"] == "AC"
    if events[0][1]["state"] != "done":  # we subscribed before it finished: every test was streamed
        tests = [e for n, e in events if n == "test"]
        assert [t["name"] for t in tests][-4:] == ["sample/1", "secret/1", "secret/2", "secret/3"]
        assert [t["index"] for t in tests][-4:] == [0, 1, 2, 3]


def test_batch_submit_many_in_one_request(service: Service, sum_problem: str) -> None:
    r = service.call(
        "POST",
        "/submissions/batch",
        json={
            "submissions": [
                {"language": "c", "problem": sum_problem, "source": SUM_C.decode()},
                {"language": "python3", "source": "print(6 * 7)", "stdin": ""},
            ]
        },
    )
    assert r.status_code == 201, r.text
    ids = [s["id"] for s in r.json()["submissions"]]
    assert len(ids) == 2
    done = [service.wait_done(i) for i in ids]
    assert [d["verdict"] for d in done] == ["AC", "AC"]
    assert done[1]["stdout"] == "42\n"


def test_batch_submit_is_all_or_nothing(service: Service) -> None:
    before = service.call("GET", "/submissions", params={"limit": 1}).json()["submissions"]
    r = service.call(
        "POST",
        "/submissions/batch",
        json={
            "submissions": [
                {"language": "python3", "source": "print(1)", "stdin": ""},
                {"language": "swift", "source": "x", "stdin": ""},
            ]
        },
    )
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "unknown_language"
    assert "submissions[1]" in r.json()["error"]["message"]
    after = service.call("GET", "/submissions", params={"limit": 1}).json()["submissions"]
    assert after == before  # the good first one was not stored either


def test_list_shows_only_your_own(service: Service) -> None:
    mine = service.submit({"language": "python3", "source": "print(1)", "stdin": ""}, as_="bob")
    listed = service.call("GET", "/submissions", as_="bob").json()["submissions"]
    assert mine["id"] in [s["id"] for s in listed]
    alice = service.call("GET", "/submissions", as_="alice").json()["submissions"]
    assert mine["id"] not in [s["id"] for s in alice]
    everyone = service.call("GET", "/submissions", as_="organiser", params={"limit": 500}).json()[
        "submissions"
    ]
    assert mine["id"] in [s["id"] for s in everyone]


def test_someone_elses_submission_is_not_found(service: Service) -> None:
    doc = service.submit({"language": "python3", "source": "print(1)", "stdin": ""}, as_="alice")
    r = service.call("GET", f"/submissions/{doc['id']}", as_="bob")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert service.call("GET", f"/submissions/{doc['id']}", as_="organiser").status_code == 200


def test_a_task_delivered_again_changes_nothing(service: Service, sum_problem: str) -> None:
    """Redis hands a task out again when its worker is lost before acknowledging it; the
    submission is graded already, so the second delivery (and one from before generations,
    with no generation) does nothing: one submission, one result."""
    from judge.service import queue

    doc = service.submit({"language": "c", "problem": sum_problem, "source": SUM_C.decode()})
    app = queue.client(service.redis_url)
    queue.enqueue_grade(app, doc["id"], "c", 0)  # as if Redis delivered the task a second time
    app.send_task(queue.GRADE_TASK, args=[doc["id"]], queue=queue.language_queue("c"))
    later = service.submit({"language": "c", "problem": sum_problem, "source": SUM_C.decode()})
    assert later["verdict"] == "AC"
    # the two deliveries were taken before `later` finished: wait until the worker turned both down
    nothing = f"submission {doc['id']} generation 0: already graded or queued again"
    wait_until(
        lambda: (service.data_dir / "worker.log").read_text().count(nothing) >= 2,
        what="the worker to turn both deliveries down",
        timeout_s=30,
    )
    again = service.call("GET", f"/submissions/{doc['id']}", as_="alice").json()
    assert (again["state"], again["verdict"], again["finished_at"]) == ("done", "AC", doc["finished_at"])
    assert again["tests"] == doc["tests"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"language": "swift", "source": "x", "stdin": ""}, 422, "unknown_language"),
        ({"language": "c", "source": "x"}, 422, "invalid_field"),
        ({"language": "c", "stdin": ""}, 422, "invalid_field"),
        ({"language": "c", "source": "x", "stdin": "", "time_limit": 99}, 422, "invalid_field"),
        ({"language": "c", "source": "x", "stdin": "", "memory_limit": 1}, 422, "invalid_field"),
        ({"language": "c", "source": "x", "problem": "no-such-problem"}, 404, "unknown_problem"),
        ({"language": "c", "source": "x", "stdin": "", "callback_url": "ftp://x"}, 422, "invalid_field"),
        ({"language": "c", "source": "x" * (300 * 1024), "stdin": ""}, 413, "too_large"),
    ],
)
def test_bad_submissions_are_refused_with_a_json_error(
    service: Service, body: dict[str, object], status: int, code: str
) -> None:
    r = service.call("POST", "/submissions", json=body)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert r.json()["error"]["message"]


def test_not_json_is_a_bad_request(service: Service) -> None:
    r = service.call("POST", "/submissions", data="language=c", headers={"Content-Type": "text/plain"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer jdg_not-a-token", "Basic YWxpY2U6eA=="])
def test_without_a_good_token_is_unauthorized(service: Service, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    r = requests.get(service.url("/submissions"), headers=headers, timeout=10)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_stops_working(service: Service) -> None:
    from sqlalchemy import select

    from judge.storage import connect, session_factory
    from judge.storage.models import ApiToken, User
    from judge.storage.repo import create_token, revoke_token

    engine = connect(service.env["JUDGE_DATABASE_URL"])
    with session_factory(engine).begin() as session:
        user = session.scalars(select(User).where(User.name == "bob")).one()
        token, secret = create_token(session, user)
        token_id = token.id
    assert (
        requests.get(service.url("/me"), headers={"Authorization": f"Bearer {secret}"}, timeout=10).json()[
            "name"
        ]
        == "bob"
    )
    with session_factory(engine).begin() as session:
        assert revoke_token(session, token_id)
        assert session.get(ApiToken, token_id) is not None
    engine.dispose()
    r = requests.get(service.url("/me"), headers={"Authorization": f"Bearer {secret}"}, timeout=10)
    assert r.status_code == 401


def test_contestants_cannot_use_organiser_endpoints(service: Service) -> None:
    for method, path in (
        ("GET", "/queue"),
        ("GET", "/workers"),
        ("POST", "/problems"),
        ("POST", "/batches"),
        ("POST", "/submissions/1/rejudge"),
    ):
        r = service.call(method, path, as_="alice")
        assert r.status_code == 403, (method, path, r.text)
        assert r.json()["error"]["code"] == "forbidden"


def test_languages_say_which_a_worker_takes(service: Service) -> None:
    langs = {lang["id"]: lang for lang in service.call("GET", "/languages").json()["languages"]}
    assert langs["c"]["available"] is True and langs["c"]["version"]
    assert langs["python3"]["available"] is True
    assert langs["rust"]["available"] is False  # this worker offers only C and Python 3


def test_each_box_runs_on_one_cpu_of_its_own(service: Service) -> None:
    source = "print(open('/proc/self/status').read().split('Cpus_allowed_list:')[1].split()[0])"
    cpus = {
        service.submit({"language": "python3", "source": source, "stdin": ""})["stdout"].strip()
        for _ in range(6)
    }
    assert all(c.isdigit() for c in cpus), cpus  # one CPU each, never a range like 0-1


def test_a_token_limited_to_reading_cannot_submit(service: Service) -> None:
    from sqlalchemy import select

    from judge.storage import connect, session_factory
    from judge.storage.models import User
    from judge.storage.repo import create_token

    engine = connect(service.env["JUDGE_DATABASE_URL"])
    with session_factory(engine).begin() as session:
        organiser = session.scalars(select(User).where(User.name == "organiser")).one()
        read_only = create_token(session, organiser, ["read"])[1]
        submit_only = create_token(session, organiser, ["submit"])[1]
    engine.dispose()

    def call(token: str, method: str, path: str, **kw: object) -> requests.Response:
        return requests.request(
            method, service.url(path), headers={"Authorization": f"Bearer {token}"}, timeout=30, **kw
        )  # type: ignore[arg-type]

    assert call(read_only, "GET", "/problems").status_code == 200
    r = call(
        read_only, "POST", "/submissions", json={"language": "python3", "source": "print(1)", "stdin": ""}
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "insufficient_scope"
    assert call(read_only, "GET", "/queue").status_code == 403  # organising is a scope of its own
    r = call(
        submit_only, "POST", "/submissions", json={"language": "python3", "source": "print(1)", "stdin": ""}
    )
    assert r.status_code == 201
    assert call(submit_only, "GET", "/problems").json()["error"]["code"] == "insufficient_scope"
