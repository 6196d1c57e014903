"""A problem's tests on the worker's idle cores (judge/cores.py, judge/parallel.py), through the
whole service: the verdict and the stored tests are those of a sequential grading, in test order,
and the worker says its tests ran on a borrowed core.

The service here is one of its own, whose workers keep their core locks in its data directory
(JUDGE_CORES_DIR): no other judge on this machine can keep a core from it, so a grading here
always finds the other core idle.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import pytest
from service_kit import Service, run_service

pytestmark = pytest.mark.sandbox

TESTS = 24
PROGRAM = (
    '#include <stdio.h>\nint main(void){long n;if(scanf("%ld",&n)!=1)return 1;\n'
    'if(n==@K){@DO}\nprintf("%ld\\n",2*n);return 0;}\n'
)
AC = PROGRAM.replace("@K", "-1").replace("@DO", "")
WA_AT_5 = PROGRAM.replace("@K", "5").replace("@DO", 'printf("0\\n");return 0;')
TLE_AT_3 = PROGRAM.replace("@K", "3").replace("@DO", "for(volatile long i=0;;i++);")


@pytest.fixture(scope="module")
def lending(tmp_path_factory: pytest.TempPathFactory, sandbox_ready: None) -> Iterator[Service]:
    data_dir = tmp_path_factory.mktemp("service-lending")
    yield from run_service(
        data_dir, f"sqlite:///{data_dir / 'judge.db'}", extra_env={"JUDGE_CORES_DIR": str(data_dir / "cores")}
    )


@pytest.fixture(scope="module")
def double(lending: Service) -> str:
    """The id of an imported `double` problem: n in, 2n out, TESTS tests."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("double/problem.yaml", "name: Double\n")
        for i in range(TESTS):
            zf.writestr(f"double/data/secret/{i:02}.in", f"{i}\n")
            zf.writestr(f"double/data/secret/{i:02}.ans", f"{2 * i}\n")
        zf.writestr("double/submissions/accepted/double.c", AC)
    r = lending.call("POST", "/problems", as_="organiser", files={"package": ("double.zip", buf.getvalue())})
    assert r.status_code == 201, r.text
    assert r.json()["verification"]["ok"] is True, r.json()
    return str(r.json()["id"])


def graded(service: Service, problem: str, source: str) -> tuple[str, list[tuple[str, str]]]:
    doc = service.submit({"problem": problem, "language": "c", "source": source})
    if doc["state"] != "done":
        doc = service.wait_done(doc["id"])
    return doc["verdict"], [(t["name"], t["verdict"]) for t in doc["tests"]]


def secret(verdicts: list[str]) -> list[tuple[str, str]]:
    return [(f"secret/{i:02}", v) for i, v in enumerate(verdicts)]


@pytest.mark.parametrize(
    ("source", "verdict", "tests"),
    [
        (AC, "AC", ["AC"] * TESTS),
        (WA_AT_5, "WA", ["AC"] * 5 + ["WA"]),
        (TLE_AT_3, "TLE", ["AC"] * 3 + ["TLE"]),  # the tests after it, faster, finish first: dropped
    ],
    ids=["accepted", "wrong-answer-on-test-5", "time-limit-on-test-3"],
)
def test_a_grading_on_two_cores_keeps_the_sequential_verdict_and_tests(
    lending: Service, double: str, source: str, verdict: str, tests: list[str]
) -> None:
    assert graded(lending, double, source) == (verdict, secret(tests))


def test_the_worker_ran_tests_on_a_borrowed_core(lending: Service, double: str) -> None:
    graded(lending, double, AC)
    log = (lending.data_dir / "worker.log").read_text(errors="replace")
    assert "tests ran on borrowed cores" in log
