"""How test results combine into a submission's verdict and score, without running anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from judge.grading import GradedTest, Grader, round_time_limit
from judge.problems.model import Grading, ProblemLimits, ProblemPackage, TestCase, TestGroup
from judge.verdict import Verdict


def case(name: str) -> TestCase:
    return TestCase(name=name, input=Path(f"/x/{name}.in"), answer=Path(f"/x/{name}.ans"))


def problem(data: TestGroup) -> ProblemPackage:
    return ProblemPackage(
        id="p",
        name="p",
        root=Path("/x"),
        format="legacy",
        scoring=True,
        interactive=False,
        multi_pass=False,
        limits=ProblemLimits(time_limit_s=1.0, time_limit_source="test"),
        data=data,
        output_validator=None,
    )


def oddecho_like() -> TestGroup:
    """problemtools' oddecho: samples ignored, two subtasks of 50 points, each all-or-nothing."""
    subtask = Grading(on_reject="break", aggregation="min", accept_score=50)
    return TestGroup(
        name="",
        cases=(),
        grading=Grading(on_reject="continue", ignore_sample=True),
        groups=(
            TestGroup(
                name="sample",
                cases=(case("sample/1"),),
                groups=(),
                grading=Grading(on_reject="continue", accept_score=0, verdict_mode="first_error"),
            ),
            TestGroup(
                name="secret",
                cases=(),
                grading=Grading(
                    on_reject="continue", verdict_mode="first_error", accept_if_any_accepted=True
                ),
                groups=(
                    TestGroup(
                        name="secret/s1",
                        cases=(case("secret/s1/a"), case("secret/s1/b")),
                        groups=(),
                        grading=subtask,
                    ),
                    TestGroup(
                        name="secret/s2",
                        cases=(case("secret/s2/a"), case("secret/s2/b")),
                        groups=(),
                        grading=subtask,
                    ),
                ),
            ),
        ),
    )


def combine(data: TestGroup, verdicts: dict[str, Verdict]) -> tuple[Verdict, float, list[str]]:
    grader = Grader(problem(data), time_limit_s=1.0, sb=object())  # type: ignore[arg-type]
    ran: list[str] = []

    def run_case(c: TestCase) -> GradedTest:
        ran.append(c.name)
        return GradedTest(name=c.name, verdict=verdicts.get(c.name, Verdict.AC))

    verdict, score, _ = grader.judge_groups(run_case)
    return verdict, score, ran


def test_every_subtask_passed_is_the_full_score() -> None:
    assert combine(oddecho_like(), {})[:2] == (Verdict.AC, 100)


def test_a_failed_subtask_loses_its_points_and_stops_there() -> None:
    verdict, score, ran = combine(oddecho_like(), {"secret/s2/a": Verdict.WA})
    assert (verdict, score) == (Verdict.AC, 50), "accept_if_any_accepted keeps AC with a partial score"
    assert "secret/s2/b" not in ran, "on_reject: break stops the subtask at its first failure"


def test_a_failed_sample_does_not_count_when_samples_are_ignored() -> None:
    assert combine(oddecho_like(), {"sample/1": Verdict.WA})[:2] == (Verdict.AC, 100)


def test_worst_error_first_error_and_aggregations() -> None:
    flat = TestGroup(
        name="", groups=(), cases=(case("a"), case("b"), case("c")), grading=Grading(on_reject="continue")
    )
    verdicts = {"a": Verdict.WA, "b": Verdict.TLE}
    assert combine(flat, verdicts)[:2] == (Verdict.TLE, 1.0), "worst error: TLE is worse than WA; sum"
    first = TestGroup(
        name="",
        groups=(),
        cases=flat.cases,
        grading=Grading(on_reject="continue", verdict_mode="first_error", aggregation="min"),
    )
    assert combine(first, verdicts)[:2] == (Verdict.WA, 0.0)
    capped = TestGroup(
        name="", groups=(), cases=flat.cases, grading=Grading(on_reject="continue", max_score=2)
    )
    assert combine(capped, {})[1] == 2


@pytest.mark.parametrize(
    ("slowest", "multiplier", "resolution", "limit"),
    [
        (0.01, 5, 1.0, 1.0),
        (0.3, 5, 1.0, 2.0),
        (0.4, 5, 1.0, 2.0),
        (0.41, 5, 1.0, 3.0),
        (0.26, 2, 0.5, 1.0),
        (0.0, 2, 1.0, 1.0),
    ],
)
def test_the_computed_time_limit_rounds_up_to_the_resolution(
    slowest: float, multiplier: float, resolution: float, limit: float
) -> None:
    assert round_time_limit(slowest, multiplier, resolution) == limit


def test_a_group_that_requires_another_is_not_judged_when_that_one_failed() -> None:
    first = TestGroup(
        name="secret/a",
        cases=(case("secret/a/1"),),
        groups=(),
        grading=Grading(accept_score=10, aggregation="min"),
    )
    second = TestGroup(
        name="secret/b",
        cases=(case("secret/b/1"),),
        groups=(),
        grading=Grading(accept_score=20, aggregation="min", require_pass=("a",)),
    )
    data = TestGroup(name="", cases=(), groups=(first, second), grading=Grading(on_reject="continue"))
    assert combine(data, {})[:2] == (Verdict.AC, 30)
    verdict, score, ran = combine(data, {"secret/a/1": Verdict.WA})
    assert (verdict, score) == (Verdict.WA, 0) and "secret/b/1" not in ran
