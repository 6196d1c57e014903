"""The judge's two vocabularies of outcomes, their order, and how a run's facts become them.

Everything that says what happened to a program names it from here (docs/contracts.md's "Verdicts"
and "Run statuses"):

* `Verdict`: the judgement on a test or a submission; stored, shown and returned.
* `Status`: what one run of `judge run` / `judge exec` did: the sandbox's RunStatus, plus CE
  when compiling failed. IE is not a member: only the command line (judge/cli/) reports IE,
  when a SandboxError reached it.

The sandbox reports facts (sandbox.RunStatus) and never judges; `verdict_of_run` is the one
place a run that did not end cleanly becomes a verdict (grading, interactive problems and ad
hoc runs all call it). A clean run (OK) has no verdict of its own: its output is checked.
`SEVERITY` ranks the verdicts worst first, as the legacy default grader ranks errors (JE, IF,
RTE, MLE, TLE, OLE, WA); `worst` picks a group's verdict by it.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from sandbox import RunStatus


class Verdict(StrEnum):
    """docs/contracts.md's verdicts. Declared in the order they are listed; SEVERITY is their rank."""

    AC = "AC"
    WA = "WA"
    TLE = "TLE"
    MLE = "MLE"
    OLE = "OLE"
    RTE = "RTE"
    CE = "CE"
    IE = "IE"


SEVERITY: tuple[Verdict, ...] = (
    Verdict.IE,
    Verdict.RTE,
    Verdict.MLE,
    Verdict.TLE,
    Verdict.OLE,
    Verdict.WA,
    Verdict.CE,
    Verdict.AC,
)  # worst first


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    """The worst of `verdicts` by SEVERITY; AC when there are none."""
    return min(verdicts, key=SEVERITY.index, default=Verdict.AC)


class Status(StrEnum):
    """The run statuses of docs/contracts.md, less IE: that one is only ever made by judge/cli/__init__.py."""

    OK = "OK"
    TLE = "TLE"
    MLE = "MLE"
    OLE = "OLE"
    RTE = "RTE"
    CE = "CE"


def verdict_of_run(status: RunStatus | Status) -> Verdict:
    """The verdict of a run that did not end cleanly: the same name (TLE, MLE, OLE, RTE; CE).

    OK raises ValueError: a clean run's output is checked, it has no verdict of its own.
    """
    if status.value == Status.OK:
        raise ValueError("a run that ended cleanly (OK) is judged by its output, not its status")
    return Verdict(status.value)
