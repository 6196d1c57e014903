"""`judge verify PROBLEM`: judge every submission a package ships and compare with what its authors expect.

The package self-test that problemtools' verifyproblem and DOMjudge's import run:

1. Load the package (judge/problems/package.py); a broken one is a PackageError.
2. The time limit: the package's where it states one (2025-09 `limits.time_limit`, DOMjudge
   `.timelimit` or `domjudge-problem.ini`, DMOJ `init.yml`); otherwise computed as
   problemtools does: the accepted submissions run first under a generous limit
   (PROVISIONAL_S), and the limit is the slowest one's CPU time times the multiplier
   (legacy `time_multiplier` 5, 2025-09 `ac_to_time_limit` 2), rounded up to the time
   resolution (1 s). The report says which (`time_limit_source`).
3. Every submission is graded (judge/grading.py) under that limit, `jobs` at a time, and
   compared with its expected verdicts (folder, @EXPECTED_RESULTS@, submissions.json). A
   partially accepted submission (scoring) must be AC with a score below the best score.
   A submission in a language the judge does not have is reported as not judged, with the
   reason (what it is written in, as far as its name and first line tell). A submission that
   cannot be read (a link leaving the package, a special file, too big) is not judged either
   and fails verification, naming the fault: it is the package's, never a compile error.
   Links inside the package are followed (judge/submission.py `within`).
4. Every input validator on every test input (`validate_inputs`).

Where the time goes is in the report (`timings`, seconds): the wall time of each phase (the
time limit search, judging, input validation) and, summed over submissions (so more than
the wall time when `jobs` run at once), compiling, the programs' own runs (the tests' wall
time) and the rest of grading: making boxes, copying files, output checking.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import sandbox

from . import submission as submissions_mod
from .checkers import validator as custom
from .errors import JudgeError
from .grading import Grader, GradeResult, round_time_limit
from .problems import package
from .problems.model import PackageSubmission, ProblemPackage, TestCase
from .verdict import Verdict

PROVISIONAL_S = 10.0
MIN_MEMORY_BYTES = 4 * 1024 * 1024  # the sandbox's smallest memory limit; DMOJ's 1 KiB tests get this
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Checked:
    sub: PackageSubmission
    result: GradeResult | None  # None: skipped
    ok: bool | None  # None: skipped
    note: str = ""

    def to_json(self) -> dict[str, object]:
        r = self.result
        return {
            "path": self.sub.rel,
            "language": self.sub.language,
            "expected": [v.value for v in self.sub.expected],
            "verdict": r.verdict.value if r else None,
            "score": r.score if r else None,
            "max_time": round(r.max_time, 3) if r else None,
            "max_memory": r.max_memory if r else None,
            "ok": self.ok,
            "note": self.note,
            "compile_output": r.compile_output if r and r.verdict is Verdict.CE else None,
            "tests": [
                {
                    "name": t.name,
                    "verdict": t.verdict.value,
                    "time": round(t.time_s, 3),
                    "memory": t.memory,
                    "message": t.message,
                }
                for t in r.tests
            ]
            if r
            else [],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyReport:
    problem: ProblemPackage
    time_limit_s: float
    time_limit_source: str
    checked: tuple[Checked, ...]
    input_checks: int = 0  # (validator, case) pairs run
    invalid_inputs: tuple[str, ...] = ()  # what the input validators refused, and why
    validators_not_run: tuple[str, ...] = ()  # input validators this judge cannot run (VIVA), and why
    timings: dict[str, float] = field(default_factory=dict)  # seconds; the module docstring says which

    @property
    def ok(self) -> bool:
        return all(c.ok is not False for c in self.checked) and not self.invalid_inputs

    def to_json(self) -> dict[str, object]:
        return {
            "problem": self.problem.id,
            "name": self.problem.name,
            "time_limit": self.time_limit_s,
            "time_limit_source": self.time_limit_source,
            "ok": self.ok,
            "input_validation": {
                "checks": self.input_checks,
                "invalid": list(self.invalid_inputs),
                "not_run": list(self.validators_not_run),
            },
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
            "warnings": list(self.problem.warnings),
            "submissions": [c.to_json() for c in self.checked],
        }


class _Clock:
    """Seconds spent per kind of work, added up from the threads that grade at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.total: dict[str, float] = {"compile_s": 0.0, "program_runs_s": 0.0, "boxes_and_checking_s": 0.0}

    def add(self, key: str, seconds: float) -> None:
        with self.lock:
            self.total[key] = self.total.get(key, 0.0) + seconds


def _grade_one(grader: Grader, sub: PackageSubmission, clock: _Clock | None = None) -> Checked:
    if sub.language is None:
        return Checked(
            sub=sub, result=None, ok=None, note=f"not judged: {sub.not_judged or 'no language here fits it'}"
        )
    try:
        source = submissions_mod.load(sub.path, within=grader.problem.root)
    except JudgeError as e:  # the package's fault: never the contestant's compile error
        return Checked(sub=sub, result=None, ok=False, note=f"not judged: cannot read it: {e}")
    try:
        limits = None
        if sub.time_limit_s is not None or sub.memory_limit_kib is not None:
            memory = (sub.memory_limit_kib or 0) * 1024 or None
            if memory is not None:
                memory = max(memory, MIN_MEMORY_BYTES)
            limits = grader.run_limits(sub.time_limit_s, memory)
        start = time.perf_counter()
        first_test: list[float] = []

        def tested(_name: str) -> None:
            if not first_test:
                first_test.append(time.perf_counter())

        result = grader.grade(source, sub.language, main=sub.entry_point, limits=limits, progress=tested)
        end = time.perf_counter()
        if clock is not None:  # compiling is everything before the first test
            compiled = (first_test[0] if first_test else end) - start
            runs = sum(t.wall_s for t in result.tests)
            clock.add("compile_s", compiled)
            clock.add("program_runs_s", runs)
            clock.add("boxes_and_checking_s", max(0.0, end - start - compiled - runs))
    except JudgeError as e:
        result = GradeResult(verdict=Verdict.CE, score=None, tests=(), message=str(e), language=sub.language)
    return Checked(sub=sub, result=result, ok=agrees(grader.problem, result.verdict, sub.expected))


def agrees(problem: ProblemPackage, verdict: Verdict, expected: tuple[Verdict, ...]) -> bool:
    """Whether a verdict is one the authors expect. The ICPC formats have no memory verdict:
    their run_time_error covers a program that ran out of memory, so there MLE counts as RTE."""
    if verdict is Verdict.MLE and problem.format != "dmoj" and Verdict.RTE in expected:
        return True
    return verdict in expected


def verify(
    path: Path, *, sb: sandbox.Sandbox | None = None, jobs: int = 2, progress: Progress | None = None
) -> VerifyReport:
    with package.opened(path) as problem:
        return verify_problem(problem, sb=sb or sandbox.default(), jobs=jobs, progress=progress)


def verify_problem(
    problem: ProblemPackage, *, sb: sandbox.Sandbox, jobs: int = 2, progress: Progress | None = None
) -> VerifyReport:
    """verify() of a loaded package (whose files must stay there until it returns)."""
    done: dict[str, Checked] = {}
    lock = threading.Lock()
    clock = _Clock()
    phases: dict[str, float] = {}

    def run_all(grader: Grader, subs: list[PackageSubmission]) -> None:
        def one(sub: PackageSubmission) -> None:
            c = _grade_one(grader, sub, clock)
            with lock:
                done[sub.rel] = c
            if progress is not None:
                progress(sub.rel)

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            list(pool.map(one, subs))

    limit, source = problem.limits.time_limit_s, problem.limits.time_limit_source
    own = [s.time_limit_s for s in problem.submissions if s.time_limit_s is not None]
    if limit is None and own and len(own) == len(problem.submissions):
        limit, source = max(own), "each submission's own (DMOJ test.yml); the largest shown"
    if limit is None:
        accepted = [s for s in problem.submissions if s.expected == (Verdict.AC,) and s.language is not None]
        if not accepted:
            raise JudgeError(f"{problem.id}: no time limit is stated and no accepted submission can set one")
        t0 = time.perf_counter()
        run_all(Grader(problem, time_limit_s=PROVISIONAL_S, sb=sb), accepted)
        phases["time_limit_search_s"] = time.perf_counter() - t0
        slowest = max(
            (
                done[s.rel].result.max_time  # type: ignore[union-attr]
                for s in accepted
                if done[s.rel].ok
            ),
            default=0.0,
        )
        limit = round_time_limit(slowest, problem.limits.time_multiplier, problem.limits.time_resolution_s)
        source = f"computed: slowest accepted {slowest:.3f} s x {problem.limits.time_multiplier:g}"
        # the accepted ones that passed stand: each ran under the limit, within it
        for s in accepted:
            if not done[s.rel].ok:
                del done[s.rel]
    grader = Grader(problem, time_limit_s=limit, sb=sb)
    t0 = time.perf_counter()
    run_all(grader, [s for s in problem.submissions if s.rel not in done])
    phases["judging_s"] = time.perf_counter() - t0
    checked = [done[s.rel] for s in problem.submissions]
    checked = _partial_scores(checked)
    t0 = time.perf_counter()
    count, invalid = validate_inputs(problem, grader, jobs)
    phases["input_validation_s"] = time.perf_counter() - t0
    return VerifyReport(
        problem=problem,
        time_limit_s=limit,
        time_limit_source=source,
        checked=tuple(checked),
        input_checks=count,
        invalid_inputs=tuple(invalid),
        timings={**phases, **clock.total},
        validators_not_run=tuple(_not_run(problem)),
    )


def _not_run(problem: ProblemPackage) -> list[str]:
    """The input validators validate_inputs skips, each with why (the loader warned too)."""
    out = []
    for program in problem.input_validators:
        if program.language is not None or program.kind == "checktestdata":
            continue
        name = program.path.relative_to(problem.root).as_posix()
        viva = program.path.suffix == ".viva" or any(f.suffix == ".viva" for f in program.path.glob("*"))
        why = (
            "VIVA, a Java program this judge does not ship"
            if viva
            else "build/run scripts, which this judge does not build yet"
            if program.build_run
            else "not in a language this judge has"
        )
        out.append(f"{name}: {why}")
    return out


def validate_inputs(problem: ProblemPackage, grader: Grader, jobs: int = 1) -> tuple[int, list[str]]:
    """Every input validator on every test's .in (exit 42: valid), with the group's arguments.

    checktestdata scripts run too (exit 0: valid; judge/checkers/validator.py), without flags.
    Validators we cannot run (.viva, a language we lack) were warned about by the loader.
    `jobs` inputs are checked at once, each in its own box: on a package of real size (42
    inputs of up to 2 MB, a Python and a checktestdata validator) this phase was a third of
    the whole verification when it ran one box at a time.
    """
    count, invalid = 0, []
    for program in problem.input_validators:
        if program.language is None and program.kind != "checktestdata":
            continue
        name = program.path.name
        try:
            if program.kind == "checktestdata":
                vp = custom.checktestdata_validator(program)
            else:
                vp = custom.compile_validator(grader.sb, program)
        except JudgeError as e:
            invalid.append(f"input validator {name} does not build: {e}")
            continue
        cases = list(problem.cases())
        count += len(cases)

        def check(case: TestCase, vp: custom.ValidatorProgram = vp) -> str | None:
            return custom.run_input_validator(
                grader.sb,
                vp,
                input=case.input,
                args=case.input_validator_args,
                limits=grader.validator_limits(),
            )

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            whys = list(pool.map(check, cases))
        invalid += [f"{case.name}.in: {why}" for case, why in zip(cases, whys, strict=True) if why]
    return count, invalid


def _partial_scores(checked: list[Checked]) -> list[Checked]:
    """partially_accepted: AC with a score below the best accepted score."""
    best = max(
        (
            c.result.score
            for c in checked
            if c.result and c.result.score is not None and c.sub.folder == "accepted"
        ),
        default=None,
    )
    out = []
    for c in checked:
        if c.sub.folder == "partially_accepted" and c.result is not None:
            ok = (
                c.result.verdict is Verdict.AC
                and c.result.score is not None
                and best is not None
                and 0 < c.result.score < best
            )
            c = replace(c, ok=ok, note=f"partially accepted: score must be in (0, {best})")
        out.append(c)
    return out
