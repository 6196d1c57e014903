"""judge/verdict.py: the one vocabulary, its order of severity, and a run's facts turned into a verdict."""

import pytest

from judge.verdict import SEVERITY, Status, Verdict, verdict_of_run, worst
from sandbox import RunStatus


def test_severity_ranks_every_verdict_once() -> None:
    assert sorted(SEVERITY) == sorted(Verdict)


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        ([], Verdict.AC),
        ([Verdict.AC, Verdict.WA], Verdict.WA),
        ([Verdict.WA, Verdict.TLE, Verdict.RTE], Verdict.RTE),
        ([Verdict.CE, Verdict.WA], Verdict.WA),  # the legacy default grader's order: WA is worse than CE
        ([Verdict.RTE, Verdict.IE], Verdict.IE),
    ],
)
def test_worst_follows_severity(verdicts: list[Verdict], expected: Verdict) -> None:
    assert worst(verdicts) is expected


@pytest.mark.parametrize("status", [s for s in RunStatus if s is not RunStatus.OK])
def test_a_failed_run_gets_the_verdict_of_its_name(status: RunStatus) -> None:
    assert verdict_of_run(status) is Verdict(status.value)
    assert verdict_of_run(Status(status.value)) is Verdict(status.value)


def test_a_clean_run_has_no_verdict_of_its_own() -> None:
    with pytest.raises(ValueError):
        verdict_of_run(RunStatus.OK)
