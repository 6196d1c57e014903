"""Checkers: whether a program's output is right.

* default.py    the format's default output validator (problemtools' default_validator.cc,
                DOMjudge's compare.cc): a pure function over bytes, no box.
* validator.py  the package's own output validator, compiled once and run in a box per
                check, in the Kattis protocol (42/43 and a feedback directory) or testlib's
                (0/1/2/3/7 and a message on stderr).

Both answer with a CheckResult. A wrong answer is a value (`accepted=False`); a checker that
itself failed is a value too (`judge_error`, verdict IE), since grading must record it per test
case. Exceptions are kept for what stops grading altogether: a validator that does not compile
(JudgeError), a box that cannot be made (SandboxError), flags the default validator does not
know (ValueError).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What a checker said about one output."""

    accepted: bool
    message: str = ""  # judgemessage.txt (or testlib's stderr): for the organiser
    team_message: str = ""  # teammessage.txt, if the validator wrote one
    score: float | None = None  # score.txt, or testlib's points
    judge_error: str | None = None  # the checker itself failed: verdict IE; why, for the organiser
    next_pass_input: bytes | None = None  # multi-pass: nextpass.in, written with an accept
    # every regular file left in the feedback directory but nextpass.in, (name, content) sorted
    # by name: a multi-pass caller seeds the next pass with them (they persist between passes)
    feedback_files: tuple[tuple[str, bytes], ...] = ()


__all__ = ["CheckResult"]
