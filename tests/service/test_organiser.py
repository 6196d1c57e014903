"""Organisers through the JSON API: packages, batches and their results, rejudging, the queue."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from kit import wait_until
from service_kit import SUM_C, SUM_PY, WRONG_C, Service, sum_package, zip_of

pytestmark = pytest.mark.sandbox


def test_import_answers_with_the_verification_report(service: Service, sum_problem: str) -> None:
    r = service.call("GET", f"/problems/{sum_problem}", as_="organiser")  # the report is organisers' alone
    assert r.status_code == 200
    doc = r.json()
    assert doc["name"] == "Sum sum"
    assert doc["time_limit"] > 0  # computed from the accepted submissions: the package states none
    report = doc["verification"]["report"]
    assert report["ok"] is True
    assert report["time_limit_source"].startswith("computed")
    got = {s["path"]: s["verdict"] for s in report["submissions"]}
    assert got == {
        "submissions/accepted/sum.c": "AC",
        "submissions/accepted/sum.py": "AC",
        "submissions/wrong_answer/minus.c": "WA",
    }
    listed = service.call("GET", "/problems").json()["problems"]
    assert sum_problem in [p["id"] for p in listed]


def test_import_under_a_chosen_id_and_again_replaces_it(service: Service, tmp_path: Path) -> None:
    archive = sum_package(tmp_path / "pkg.zip", name="plus")
    for _ in range(2):
        with open(archive, "rb") as f:
            r = service.call(
                "POST", "/problems", as_="organiser", files={"package": ("pkg.zip", f)}, data={"id": "plus-2"}
            )
        assert r.status_code == 201, r.text
        assert r.json()["id"] == "plus-2"
    assert [p["id"] for p in service.call("GET", "/problems").json()["problems"]].count("plus-2") == 1


def test_a_problem_that_could_outlast_one_grading_is_flagged(service: Service) -> None:
    """9 tests at a 60 s limit: 60 + 9 x 2 x 91 s at worst, over the default JUDGE_MAX_JOB_S (1200)."""
    files = {
        "long/problem.yaml": b"name: Long\n",
        "long/.timelimit": b"60\n",
        "long/submissions/accepted/sum.c": SUM_C,
    }
    for i in range(9):
        files[f"long/data/secret/{i}.in"] = f"{i} 1\n".encode()
        files[f"long/data/secret/{i}.ans"] = f"{i + 1}\n".encode()
    r = service.call("POST", "/problems", as_="organiser", files={"package": ("long.zip", zip_of(files))})
    assert r.status_code == 201, r.text
    report = r.json()["verification"]
    assert report["ok"] is True
    warnings = report["report"]["warnings"]
    assert any("JUDGE_MAX_JOB_S=1200" in w and "1698 s" in w for w in warnings), warnings


def test_a_broken_package_is_refused_and_leaves_nothing(service: Service, tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("bad/problem.yaml", "name: [unclosed\n")
    with open(bad, "rb") as f:
        r = service.call("POST", "/problems", as_="organiser", files={"package": ("bad.zip", f)})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "bad_package"
    assert "problem.yaml" in r.json()["error"]["message"]
    assert "bad" not in [p["id"] for p in service.call("GET", "/problems").json()["problems"]]
    assert not list((service.data_dir / "problems" / ".incoming").iterdir())

    r = service.call("POST", "/problems", as_="organiser", files={"package": ("x.zip", b"not a zip")})
    assert r.status_code == 422
    r = service.call("POST", "/problems", as_="organiser", data={"id": "x"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_field"


def _batch_zip() -> bytes:
    return zip_of({"contest/ada.c": SUM_C, "contest/grace.py": SUM_PY, "contest/linus.c": WRONG_C})


def _wait_batch(service: Service, batch_id: int, count: int) -> None:
    wait_until(
        lambda: service.call("GET", f"/batches/{batch_id}", as_="organiser").json(),
        until=lambda doc: doc["states"].get("done") == count,
        what=f"batch {batch_id} to be done",
        timeout_s=90,
        every_s=0.2,
    )


def test_batch_from_a_zip_with_csv_and_json_results(service: Service, sum_problem: str) -> None:
    r = service.call(
        "POST",
        "/batches",
        as_="organiser",
        data={"problem": sum_problem, "name": "round 1"},
        files={"archive": ("round1.zip", _batch_zip())},
    )
    assert r.status_code == 201, r.text
    batch = r.json()
    assert batch["count"] == 3
    assert sorted((s["label"], s["language"]) for s in batch["submissions"]) == [
        ("ada", "c"),
        ("grace", "python3"),
        ("linus", "c"),
    ]
    _wait_batch(service, batch["id"], 3)
    summary = service.call("GET", f"/batches/{batch['id']}", as_="organiser").json()
    assert summary["verdicts"] == {"AC": 2, "WA": 1}

    r = service.call("GET", f"/batches/{batch['id']}/results", as_="organiser", params={"format": "csv"})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {row["label"]: row["verdict"] for row in rows} == {"ada": "AC", "grace": "AC", "linus": "WA"}
    assert list(rows[0]) == ["label", "submission", "language", "state", "verdict", "score", "time", "memory"]

    results = service.call("GET", f"/batches/{batch['id']}/results", as_="organiser").json()["results"]
    assert {x["label"]: len(x["tests"]) for x in results} == {"ada": 4, "grace": 4, "linus": 1}

    # rejudge the batch: every submission goes back to the queue and comes out the same
    old = {x["submission"]: x for x in results}
    r = service.call("POST", f"/batches/{batch['id']}/rejudge", as_="organiser")
    assert r.status_code == 202
    assert sorted(r.json()["rejudged"]) == sorted(old)
    _wait_batch(service, batch["id"], 3)
    again = service.call("GET", f"/batches/{batch['id']}/results", as_="organiser").json()["results"]
    assert {x["label"]: x["verdict"] for x in again} == {"ada": "AC", "grace": "AC", "linus": "WA"}


def test_batch_from_json_and_its_errors(service: Service, sum_problem: str) -> None:
    body = {
        "problem": sum_problem,
        "submissions": [{"label": "team1", "language": "c", "source": SUM_C.decode()}],
    }
    r = service.call("POST", "/batches", as_="organiser", json=body)
    assert r.status_code == 201, r.text
    _wait_batch(service, r.json()["id"], 1)

    r = service.call("POST", "/batches", as_="organiser", json={**body, "problem": "nope"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_problem"
    r = service.call(
        "POST",
        "/batches",
        as_="organiser",
        data={"problem": sum_problem},
        files={"archive": ("a.zip", zip_of({"x.swift": b"x"}))},
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_language"
    assert service.call("GET", "/batches/999999", as_="organiser").status_code == 404
    r = service.call(
        "POST",
        "/batches",
        as_="organiser",
        data={"problem": sum_problem},
        files={"archive": ("a.zip", zip_of({"a.c": SUM_C, "a.py": SUM_PY}))},
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "duplicate_label"
    r = service.call("POST", "/batches", as_="organiser", json=[1, 2])
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request"


def test_rejudge_a_submission_and_a_problem(service: Service, sum_problem: str) -> None:
    doc = service.submit({"language": "c", "problem": sum_problem, "source": SUM_C.decode()})
    r = service.call("POST", f"/submissions/{doc['id']}/rejudge", as_="organiser")
    assert r.status_code == 202
    assert r.json()["verdict"] is None or r.json()["state"] != "queued"  # cleared when queued again
    done = service.wait_done(doc["id"])
    assert done["verdict"] == "AC" and done["finished_at"] != doc["finished_at"]

    r = service.call("POST", f"/problems/{sum_problem}/rejudge", as_="organiser")
    assert r.status_code == 202
    assert doc["id"] in r.json()["rejudged"]
    assert service.wait_done(doc["id"])["verdict"] == "AC"
    assert service.call("POST", "/problems/nope/rejudge", as_="organiser").status_code == 404


def test_queue_and_workers(service: Service) -> None:
    queue = service.call("GET", "/queue", as_="organiser").json()
    assert set(queue["submissions"]) == {"queued", "compiling", "running", "done"}
    assert queue["submissions"]["done"] > 0
    assert isinstance(queue["queues"], dict)
    (worker,) = service.call("GET", "/workers", as_="organiser").json()["workers"]
    assert worker["languages"] == ["c", "python3"]
    assert worker["concurrency"] == 2
    assert worker["refused"] == {}
