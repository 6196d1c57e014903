"""What a problem is to the judge, whatever package format it came in.

The loaders (judge/problems/package.py: Kattis/ICPC legacy, 2023-07 and 2025-09, with
DOMjudge's additions; DMOJ's init.yml) turn a package into these frozen values; grading
(judge/grading.py) and the checkers (judge/checkers/) only ever read them. Paths are absolute
paths on the host, inside the package's directory (a zip is unpacked into a private
directory first, by the loader, with its own checks).

Units live in names: seconds as floats where the format speaks seconds (time limits are
`time_limit_s`), MiB where it speaks MiB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..verdict import Verdict


@dataclass(frozen=True, slots=True, kw_only=True)
class Program:
    """A program of the package (validator, grader): one file, or a directory of files.

    `language` is a judge language id when it can be told (extension, or a shebang for a
    script), else None; a directory with `build`/`run` scripts has language None and
    `build_run` True.
    """

    path: Path
    language: str | None
    build_run: bool = False
    kind: str = "program"  # "program", or "checktestdata": a .ctd script (path is the .ctd file)


@dataclass(frozen=True, slots=True, kw_only=True)
class TestCase:
    __test__ = False  # not a pytest class, whatever its name

    name: str  # relative to data/, without extension: "secret/group1/01"
    input: Path
    answer: Path | None  # None only for interactive problems that have no .ans
    interaction: Path | None = None  # data/sample/*.interaction
    is_sample: bool = False
    # the settings of the group the case is in (inherited down the tree)
    output_validator_args: tuple[str, ...] = ()
    input_validator_args: tuple[str, ...] = ()
    points: float | None = None  # DMOJ: this case's points


@dataclass(frozen=True, slots=True, kw_only=True)
class Grading:
    """How a group's result is made from its cases' and subgroups' (legacy testdata.yaml, 2025-09)."""

    on_reject: str = "break"  # "break" | "continue"
    aggregation: str = "sum"  # "sum" | "min" | "avg" | "max"
    verdict_mode: str = "worst_error"  # "worst_error" | "first_error" | "always_accept"
    accept_score: float = 1.0
    reject_score: float = 0.0
    max_score: float | None = None  # 2025-09 `max_score`; None: unbounded
    require_pass: tuple[str, ...] = ()  # 2025-09: group names that must pass first
    ignore_sample: bool = False
    accept_if_any_accepted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TestGroup:
    __test__ = False

    name: str  # relative to data/: "sample", "secret", "secret/group1"
    cases: tuple[TestCase, ...]  # this group's own cases, lexicographic
    groups: tuple[TestGroup, ...]  # subgroups, lexicographic
    grading: Grading = field(default_factory=Grading)

    def all_cases(self) -> list[TestCase]:
        """Every case of the group and its subgroups, in judging order (own cases, then subgroups)."""
        out = list(self.cases)
        for g in self.groups:
            out += g.all_cases()
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class ProblemLimits:
    """A problem's limits as its package states them (seconds, MiB); grading turns them into
    sandbox.Limits for each box."""

    time_limit_s: float | None  # None: to be computed from the accepted submissions
    time_limit_source: str  # "problem.yaml", ".timelimit", "domjudge-problem.ini", "init.yml", "computed"
    time_multiplier: float = 5.0  # legacy `time_multiplier`; 2025-09 `ac_to_time_limit` (2.0)
    time_safety_margin: float = 2.0  # legacy; 2025-09 `time_limit_to_tle` (1.5)
    time_resolution_s: float = 1.0
    memory_mib: int = 1024
    output_mib: int = 8
    compilation_time_s: float = 60.0
    compilation_memory_mib: int = 1024
    validation_time_s: float = 60.0
    validation_memory_mib: int = 1024
    validation_output_mib: int = 8
    validation_passes: int = 2  # multi-pass: at most this many passes


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageSubmission:
    """A submission shipped with the package, with what its authors expect."""

    path: Path  # a file, or a directory for a submission of several files
    rel: str  # relative to the problem: "submissions/accepted/sum.c"
    language: str | None  # a judge language id, None when none fits
    expected: tuple[Verdict, ...]  # any is right: folder, @EXPECTED_RESULTS@, submissions.json
    entry_point: str | None = None  # DOMjudge submissions.json `entry_point`
    folder: str = ""  # "accepted", "wrong_answer", ...
    expected_score: float | None = None
    # DMOJ's test.yml gives each submission its own limits; None: the problem's
    time_limit_s: float | None = None
    memory_limit_kib: int | None = None
    not_judged: str = ""  # why, when language is None: what the file is written in, as far as known


@dataclass(frozen=True, slots=True, kw_only=True)
class ProblemPackage:
    id: str  # the package directory's (or zip's) name
    name: str
    root: Path
    format: str  # "legacy", "2023-07", "2025-09", "dmoj"
    scoring: bool  # type scoring (or DMOJ points)
    interactive: bool
    multi_pass: bool
    limits: ProblemLimits
    data: TestGroup  # name "", groups: sample, secret (and, 2025-09, invalid_* are not judged)
    output_validator: Program | None  # None: the default output validator
    output_validator_args: tuple[str, ...] = ()  # problem-wide (legacy `validator_flags`)
    input_validators: tuple[Program, ...] = ()
    include: Path | None = None  # include/ (legacy: include/<language>/ copied into submissions)
    checker_protocol: str = "kattis"  # "kattis" | "testlib" (DMOJ bridged checkers)
    submissions: tuple[PackageSubmission, ...] = ()
    warnings: tuple[str, ...] = ()  # what the loader tolerated, to show the organiser

    def cases(self) -> list[TestCase]:
        """Every case in judging order: sample first, then secret, groups lexicographic."""
        return self.data.all_cases()
