"""A submission's tests on two boxes at once (judge/parallel.py) judge as one at a time does.

Each submission is graded twice by one Grader in real boxes: sequentially, and with a second
lane (judge/cores.py) whose lock files are the test's own, so no judge running on this machine
can keep the core from it. The verdict, the tests kept (names, verdicts, in order) and the
order of the progress events must be the same; the second lane must have run tests.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import sandbox
from judge.cores import Lanes
from judge.grading import GradedTest, Grader, GradeResult
from judge.problems import package
from judge.submission import Source
from judge.verdict import Verdict

pytestmark = pytest.mark.sandbox

TESTS = 16
# reads n, prints 2n; on test K (n == K) it is wrong, or loops until the CPU limit
PROGRAM = (
    b'#include <stdio.h>\nint main(void){long n;scanf("%ld",&n);\n'
    b'if(n==@K){@DO}\nprintf("%ld\\n",2*n);return 0;}\n'
)
AC = PROGRAM.replace(b"@K", b"-1").replace(b"@DO", b"")
WA_AT_5 = PROGRAM.replace(b"@K", b"5").replace(b"@DO", b'printf("0\\n");return 0;')
TLE_AT_3 = PROGRAM.replace(b"@K", b"3").replace(b"@DO", b"for(volatile long i=0;;i++);")


@pytest.fixture
def grader(sandbox_ready: None, tmp_path: Path) -> Grader:
    root = tmp_path / "double"
    (root / "data" / "secret").mkdir(parents=True)
    (root / "problem.yaml").write_text("name: Double\n")
    for i in range(TESTS):
        (root / "data" / "secret" / f"{i:02}.in").write_text(f"{i}\n")
        (root / "data" / "secret" / f"{i:02}.ans").write_text(f"{2 * i}\n")
    return Grader(package.load(root), time_limit_s=0.5)


@pytest.fixture
def lanes(tmp_path: Path) -> Lanes:
    """Two boxes at once: this process's, and one more on a core this test lends itself."""
    cpu = str(min(os.sched_getaffinity(0)))
    return Lanes(sandbox.default(), [cpu], width=2, own=None, directory=str(tmp_path / "cores"))


def graded(grader: Grader, source: bytes, lanes: Lanes | None) -> tuple[GradeResult, list[str]]:
    """The result, and the events as the service hears them: `before NAME`, `after I NAME`."""
    events: list[str] = []

    def after(index: int, t: GradedTest) -> None:
        events.append(f"after {index} {t.name} {t.verdict}")

    result = grader.grade(
        Source.single("double.c", source),
        "c",
        lanes=lanes,
        progress=lambda name: events.append(f"before {name}"),
        on_test=after,
    )
    return result, events


def kept(result: GradeResult) -> list[tuple[str, Verdict]]:
    return [(t.name, t.verdict) for t in result.tests]


def test_an_accepted_submission_keeps_every_test_in_order(grader: Grader, lanes: Lanes) -> None:
    alone, alone_events = graded(grader, AC, None)
    both, both_events = graded(grader, AC, lanes)
    assert (
        (both.verdict, kept(both))
        == (alone.verdict, kept(alone))
        == (Verdict.AC, [(f"secret/{i:02}", Verdict.AC) for i in range(TESTS)])
    )
    assert both_events == alone_events
    assert lanes.borrowed_tests > 0


def test_a_wrong_answer_on_test_5_ends_the_tests_there(grader: Grader, lanes: Lanes) -> None:
    alone, alone_events = graded(grader, WA_AT_5, None)
    both, both_events = graded(grader, WA_AT_5, lanes)
    assert (both.verdict, kept(both)) == (alone.verdict, kept(alone))
    assert both.verdict is Verdict.WA and len(both.tests) == 6
    assert both_events == alone_events
    assert both_events[-1] == "after 5 secret/05 WA"


def test_a_time_limit_on_test_3_is_the_verdict_though_later_tests_end_first(
    grader: Grader, lanes: Lanes, boxes: list[float]
) -> None:
    alone, alone_events = graded(grader, TLE_AT_3, None)
    boxes_alone = len(boxes)
    both, both_events = graded(grader, TLE_AT_3, lanes)
    assert (both.verdict, kept(both)) == (alone.verdict, kept(alone))
    assert both.verdict is Verdict.TLE and [t.name for t in both.tests][-1] == "secret/03"
    assert both_events == alone_events
    # while test 3 spun, the other lane ran tests after it: judged, then dropped
    assert len(boxes) - boxes_alone > len(both.tests) + 1  # more boxes than its tests and a compile
    assert lanes.borrowed_tests > 0


@pytest.fixture
def scoring(sandbox_ready: None, tmp_path: Path) -> Grader:
    """Double as a scoring problem, as problemtools' oddecho is laid out: samples worth nothing,
    two subtasks of 50 points, each stopping at its first failure (on_reject: break)."""
    root = tmp_path / "double-scoring"
    data = root / "data"
    (root / "problem.yaml").parent.mkdir(parents=True)
    (root / "problem.yaml").write_text("problem_format_version: 2023-07-draft\nname: Double\ntype: scoring\n")
    groups = {
        "": "on_reject: continue\nrange: 0 100\ngrader_flags: ignore_sample\n",
        "sample": "on_reject: continue\nrange: 0 0\naccept_score: 0\ngrader_flags: first_error\n",
        "secret": "on_reject: continue\nrange: 0 100\ngrader_flags: first_error accept_if_any_accepted\n",
        "secret/subtask1": "on_reject: break\naccept_score: 50\nrange: 0 50\ngrader_flags: min\n",
        "secret/subtask2": "on_reject: break\naccept_score: 50\nrange: 0 50\ngrader_flags: min\n",
    }
    for folder, flags in groups.items():
        (data / folder).mkdir(parents=True, exist_ok=True)
        (data / folder / "testdata.yaml").write_text(flags)
    numbers = {"sample": [1], "secret/subtask1": range(0, 8), "secret/subtask2": range(8, 16)}
    for folder, ns in numbers.items():
        for n in ns:
            (data / folder / f"{n:02}.in").write_text(f"{n}\n")
            (data / folder / f"{n:02}.ans").write_text(f"{2 * n}\n")
    grader = Grader(package.load(root), time_limit_s=0.5)
    assert grader.problem.scoring
    return grader


@pytest.mark.parametrize(
    ("source", "score", "last"),
    [
        (AC, 100, "secret/subtask2/15"),
        (TLE_AT_3, 50, "secret/subtask2/15"),  # subtask 1 stops at its test 3; subtask 2 runs whole
        (
            PROGRAM.replace(b"@K", b"10").replace(b"@DO", b'printf("0\\n");return 0;'),
            50,
            "secret/subtask2/10",
        ),
    ],
    ids=["accepted", "time-limit-in-subtask-1", "wrong-answer-in-subtask-2"],
)
def test_a_scoring_problem_keeps_each_groups_tests_and_score(
    scoring: Grader, lanes: Lanes, source: bytes, score: int, last: str
) -> None:
    alone, alone_events = graded(scoring, source, None)
    both, both_events = graded(scoring, source, lanes)
    assert (both.verdict, both.score, kept(both)) == (alone.verdict, alone.score, kept(alone))
    assert both.score == score and both.tests[-1].name == last
    assert both_events == alone_events
    assert lanes.borrowed_tests > 0


VALIDATOR = b"""#include <stdio.h>
int main(int argc, char **argv) {  /* input answer feedback_dir < submission's output */
    long n, got;
    FILE *in = fopen(argv[1], "r");
    if (in == NULL || fscanf(in, "%ld", &n) != 1) return 1;
    printf("%ld\\n", n);
    fflush(stdout);
    if (scanf("%ld", &got) != 1) return 43;
    return got == 2 * n ? 42 : 43;
}
"""


@pytest.fixture
def interactive(sandbox_ready: None, tmp_path: Path) -> Grader:
    """Double, interactive: the validator tells the submission n and waits for 2n."""
    root = tmp_path / "double-interactive"
    (root / "data" / "secret").mkdir(parents=True)
    (root / "output_validators" / "check").mkdir(parents=True)
    (root / "problem.yaml").write_text("name: Double\nvalidation: custom interactive\n")
    (root / "output_validators" / "check" / "check.c").write_bytes(VALIDATOR)
    for i in range(TESTS):
        (root / "data" / "secret" / f"{i:02}.in").write_text(f"{i}\n")
        (root / "data" / "secret" / f"{i:02}.ans").write_text(f"{2 * i}\n")
    grader = Grader(package.load(root), time_limit_s=0.5)
    assert grader.problem.interactive
    return grader


@pytest.mark.parametrize(
    ("source", "verdict", "last"),
    [
        (AC, Verdict.AC, "secret/15"),
        (WA_AT_5, Verdict.WA, "secret/05"),
        (TLE_AT_3, Verdict.TLE, "secret/03"),
    ],
    ids=["accepted", "wrong-answer-on-test-5", "time-limit-on-test-3"],
)
def test_an_interactive_problem_keeps_the_sequential_verdict_and_tests(
    interactive: Grader, lanes: Lanes, source: bytes, verdict: Verdict, last: str
) -> None:
    alone, alone_events = graded(interactive, source, None)
    both, both_events = graded(interactive, source, lanes)
    assert (both.verdict, kept(both)) == (alone.verdict, kept(alone))
    assert both.verdict is verdict and both.tests[-1].name == last
    assert both_events == alone_events
    assert lanes.borrowed_tests > 0
