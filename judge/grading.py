"""Grading one submission against one problem: compile once, run every test in a fresh box, check, score.

Theory of operation:

1. Compile the submission once (judge/execution.py), in the language's image, under the
   language's compile limits. A compile error ends it: verdict CE, with the compiler's output.
2. Run each test case in a fresh box made from the compiled files: stdin is the case's .in
   (a descriptor, no copy), limits are the problem's (CPU time limit, memory, output) plus the
   language's written allowance. The wall clock is 1.5 times the CPU limit plus a second, so a
   program that sleeps is stopped too. Output over the limit is cut and the program runs on, as
   DOMjudge does (it ends TLE if it never stops, else OLE); DMOJ packages kill at the limit
   (OLE at once) and give C and C++ an address-space limit equal to the memory limit, as
   DMOJ does.
3. Check. A run that ended OK goes to the checker: the format's default output validator
   (judge/checkers/default.py) or the package's own, compiled once and run in boxes of its
   own (judge/checkers/validator.py). Interactive and multi-pass problems run the
   submission and the validator together instead (judge/interactive.py). A run that did not
   end OK keeps its status as the verdict: TLE, MLE, OLE, RTE.
4. Combine. Pass-fail problems stop at the first test that is not AC, ICPC style, and take
   its verdict (unless `run_all`). Scoring problems combine per test group as the package
   says (judge/problems/model.py `Grading`): on_reject break or continue; the verdict of a
   group is its worst error, first error, or always accept, or AC if any item is AC with
   accept_if_any_accepted; its score is the sum, average, min or max of its items' scores
   (a test's score is the validator's score.txt, else accept_score or reject_score).

Our own failures (a checker that does not compile or exits with neither 42 nor 43, a box that
cannot be made) make the test IE, never the contestant's fault; the submission is then IE.
"""

from __future__ import annotations

import contextlib
import io
import math
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import BinaryIO

import sandbox
from sandbox import Limits, MiB, SandboxError

from . import execution, images, languages, parallel
from . import submission as submission_mod
from .checkers import CheckResult
from .checkers import default as default_checker
from .checkers import validator as custom
from .checkers.validator import ValidatorProgram
from .cores import Boxes, Lanes
from .errors import JudgeError
from .problems.model import Grading, ProblemPackage, TestCase, TestGroup
from .submission import Source
from .verdict import Status, Verdict, verdict_of_run, worst

Progress = Callable[[str], None]  # called with a test's name before it runs
TestDone = Callable[[int, "GradedTest"], None]  # called with its index and result after it ran
# a group's cases, run up to and with the first failure when the flag says stop; in test order
RunCases = Callable[[Sequence[TestCase], bool], list["GradedTest"]]
DMOJ_ADDRESS_SPACE = ("c", "cpp")  # the languages DMOJ limits by address space


@dataclass(frozen=True, slots=True, kw_only=True)
class GradedTest:
    __test__ = False  # not a pytest class, whatever its name

    name: str
    verdict: Verdict
    time_s: float = 0.0  # CPU time
    wall_s: float = 0.0
    memory: int = 0  # peak bytes
    message: str = ""  # the checker's message, or why it is IE
    score: float | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "verdict": self.verdict.value,
            "time": round(self.time_s, 3),
            "wall_time": round(self.wall_s, 3),
            "memory": self.memory,
            "message": self.message,
            "score": self.score,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class GradeResult:
    verdict: Verdict
    score: float | None
    tests: tuple[GradedTest, ...]
    compile_output: str = ""
    message: str = ""
    language: str | None = None

    @property
    def max_time(self) -> float:
        return max((t.time_s for t in self.tests), default=0.0)

    @property
    def max_memory(self) -> int:
        return max((t.memory for t in self.tests), default=0)

    def to_json(self) -> dict[str, object]:
        return {
            "language": self.language,
            "verdict": self.verdict.value,
            "score": self.score,
            "max_time": round(self.max_time, 3),
            "max_memory": self.max_memory,
            "compile_output": self.compile_output,
            "message": self.message,
            "tests": [t.to_json() for t in self.tests],
        }


@dataclass(slots=True)
class _Group:
    verdict: Verdict
    score: float
    tests: list[GradedTest] = field(default_factory=list)


class Grader:
    """Grades submissions of one problem. Compiles the problem's validator once, on first use."""

    def __init__(
        self,
        problem: ProblemPackage,
        *,
        time_limit_s: float,
        sb: sandbox.Sandbox | None = None,
        run_all: bool = False,
    ) -> None:
        self.problem = problem
        self.time_limit_s = time_limit_s
        self.sb = sb or sandbox.default()
        self.run_all = run_all
        self._validator: ValidatorProgram | None = None
        self._validator_error: str | None = None
        self._lock = threading.Lock()

    # -- limits ------------------------------------------------------------------------------

    def run_limits(self, time_limit_s: float | None = None, memory_bytes: int | None = None) -> Limits:
        """The problem's limits for one run; a submission may bring its own (DMOJ's per-test limits)."""
        lim = self.problem.limits
        cpu_ms = max(1, round((time_limit_s or self.time_limit_s) * 1000))
        return Limits(
            cpu_time_ms=cpu_ms,
            wall_time_ms=cpu_ms * 3 // 2 + 1000,
            memory_bytes=memory_bytes or lim.memory_mib * MiB,
            output_bytes=lim.output_mib * MiB,
            output_limit_kills=self.problem.format == "dmoj",
        )

    def validator_limits(self) -> Limits:
        lim = self.problem.limits
        ms = round(lim.validation_time_s * 1000)
        return Limits(
            cpu_time_ms=ms,
            wall_time_ms=2 * ms,
            memory_bytes=lim.validation_memory_mib * MiB,
            output_bytes=lim.validation_output_mib * MiB,
            processes=4,
        )

    # -- the validator -----------------------------------------------------------------------

    def validator(self) -> ValidatorProgram:
        """The package's output validator, compiled once; JudgeError if it cannot be."""
        with self._lock:
            if self._validator is None and self._validator_error is None:
                assert self.problem.output_validator is not None
                try:
                    self._validator = custom.compile_validator(self.sb, self.problem.output_validator)
                except (JudgeError, SandboxError) as e:
                    self._validator_error = f"the output validator does not build: {e}"
            if self._validator_error is not None:
                raise JudgeError(self._validator_error)
            assert self._validator is not None
            return self._validator

    # -- grading -----------------------------------------------------------------------------

    def grade(
        self,
        source: Source,
        language: str,
        *,
        main: str | None = None,
        progress: Progress | None = None,
        limits: Limits | None = None,
        on_test: TestDone | None = None,
        lanes: Lanes | None = None,
    ) -> GradeResult:
        """Grade one submission; `limits` replace the problem's run limits (a DMOJ test's own).

        `progress` hears of each test before it runs, `on_test` after, with its result (the
        service publishes these as they happen). `lanes` (a judge worker's, judge/cores.py) lets
        the tests run on several boxes at once, on the idle cores it lends, with the same
        result, stored tests and events in the same order as one at a time (judge/parallel.py):
        a pass-fail problem's tests, a scoring problem's one group at a time (each group's
        on_reject break stops its own); an interactive test's two boxes share its lane's core.
        """
        lang = languages.by_id(language)
        source = self._with_include(source, language)
        limits = limits or self.run_limits()
        if self.problem.format == "dmoj" and language in DMOJ_ADDRESS_SPACE:
            limits = replace(limits, address_space_bytes=limits.memory_bytes)
        image = images.get(lang.image)
        compiled = execution.compile_source(self.sb, lang, source, image=image, main=main)
        if isinstance(compiled, execution.CompileFailure):
            return GradeResult(
                verdict=Verdict.CE,
                score=None,
                tests=(),
                compile_output=compiled.output,
                message=compiled.message,
                language=language,
            )
        ran = [0]

        def run_case(case: TestCase) -> GradedTest:
            if progress is not None:
                progress(case.name)
            result = self._test(compiled, image, case, limits)
            if on_test is not None:
                on_test(ran[0], result)
            ran[0] += 1
            return result

        run_cases: RunCases | None = None  # None: one test at a time, run_case after run_case
        if lanes is not None and lanes.width > 1:

            def reported(_index: int, result: GradedTest) -> None:
                if on_test is not None:
                    on_test(ran[0], result)  # numbered across the groups, as run_case numbers them
                ran[0] += 1

            def on_lanes(cases: Sequence[TestCase], stop: bool) -> list[GradedTest]:
                return parallel.run_tests(
                    cases,
                    lambda case, sb: self._test(compiled, image, case, limits, sb=sb),
                    own=self.sb,
                    lanes=lanes,
                    failed=lambda t: t.verdict is not Verdict.AC,
                    stop_at_failure=stop,
                    on_test=reported,
                    progress=(lambda case: progress(case.name)) if progress is not None else None,
                )

            run_cases = on_lanes

        if self.problem.scoring:
            verdict, score, tests = self.judge_groups(run_case, run_cases=run_cases)
        else:
            tests = (run_cases or _in_turn(run_case))(self.problem.cases(), not self.run_all)
            verdict, score = next((t.verdict for t in tests if t.verdict is not Verdict.AC), Verdict.AC), None
        return GradeResult(
            verdict=verdict,
            score=score,
            tests=tuple(tests),
            compile_output=compiled.compile_output,
            language=language,
        )

    def judge_groups(
        self, run_case: Callable[[TestCase], GradedTest], *, run_cases: RunCases | None = None
    ) -> tuple[Verdict, float, list[GradedTest]]:
        """A scoring problem's verdict, score and tests, its groups judged from the root down as
        their gradings say (step 4 above); what runs a test is the caller's: `run_cases` (several
        at once, judge/parallel.py), else `run_case`, one after another. grade() judges with it."""
        root = self._group(self.problem.data, run_case, is_root=True, done={}, run_cases=run_cases)
        return root.verdict, root.score, root.tests

    def _with_include(self, source: Source, language: str) -> Source:
        """The package's include/<language>/ files added to the submission (legacy format), where
        the submission has no file of the same name. PyPy shares Python 3's folder."""
        if self.problem.include is None:
            return source
        folder = self.problem.include / ("python3" if language == "pypy3" else language)
        if not folder.is_dir():
            return source
        extra = submission_mod.load(folder)
        have = set(source.names)
        if len(source.files) == 1:  # one file keeps its own name: recipe's renaming does not apply now
            have.add(source.files[0][0])
        files = source.files + tuple(f for f in extra.files if f[0] not in have)
        return Source(tuple(sorted(files)), source.origin)

    def _group(
        self,
        group: TestGroup,
        run_case: Callable[[TestCase], GradedTest],
        *,
        is_root: bool,
        done: dict[str, Verdict],
        run_cases: RunCases | None = None,
    ) -> _Group:
        """A group's verdict and score; `done` has the verdicts of the groups judged so far, by name.

        A group's own cases run through `run_cases` (several at once: judge/parallel.py), else
        one after another through `run_case`; on_reject break stops them at the first failure."""
        g: Grading = group.grading
        for need in g.require_pass:  # 2025-09: judged only once these groups are accepted
            failed = [
                v
                for name, v in done.items()
                if name.split("/")[-1] == need.split("/")[-1] and v is not Verdict.AC
            ]
            if failed:
                done[group.name] = failed[0]
                return _Group(failed[0], 0.0)
        items: list[tuple[Verdict, float, bool]] = []  # (verdict, score, is_sample_group)
        tests: list[GradedTest] = []
        broke = False
        for t in (run_cases or _in_turn(run_case))(group.cases, g.on_reject == "break"):
            tests.append(t)
            score = (
                t.score
                if t.score is not None and t.verdict is Verdict.AC
                else (g.accept_score if t.verdict is Verdict.AC else g.reject_score)
            )
            items.append((t.verdict, score, False))
            broke = t.verdict is not Verdict.AC and g.on_reject == "break"
        if not broke:
            for sub in group.groups:
                r = self._group(sub, run_case, is_root=False, done=done, run_cases=run_cases)
                tests += r.tests
                items.append((r.verdict, r.score, sub.name.split("/")[-1] == "sample"))
                if r.verdict is not Verdict.AC and g.on_reject == "break":
                    break
        counted = [(v, s) for v, s, sample in items if not (g.ignore_sample and sample)]
        verdicts = [v for v, _ in counted]
        errors = [v for v in verdicts if v is not Verdict.AC]
        if (
            g.verdict_mode == "always_accept"
            or not errors
            or (g.accept_if_any_accepted and Verdict.AC in verdicts)
        ):
            verdict = Verdict.AC
        elif g.verdict_mode == "first_error":
            verdict = errors[0]
        else:
            verdict = worst(errors)
        scores = [s for _, s in counted]
        if not scores:
            score = 0.0
        elif g.aggregation == "min":
            score = min(scores)
        elif g.aggregation == "max":
            score = max(scores)
        elif g.aggregation == "avg":
            score = sum(scores) / len(scores)
        else:
            score = sum(scores)
        if g.max_score is not None:
            score = min(score, g.max_score)
        done[group.name] = verdict
        return _Group(verdict, score, tests)

    def _test(
        self,
        program: execution.Compiled,
        image: sandbox.Image,
        case: TestCase,
        limits: Limits,
        *,
        sb: Boxes | None = None,
    ) -> GradedTest:
        """One test, its boxes from `sb` (a borrowed core's, judge/cores.py) or this grader's."""
        sb = sb or self.sb
        try:
            if self.problem.interactive or self.problem.multi_pass:
                return self._interactive(program, image, case, limits, sb)
            # the output goes to a file, never into memory whole: the checker streams it
            spool = None if limits.output_limit_kills else tempfile.TemporaryFile(prefix="judge-output-")
            with open(case.input, "rb") as stdin, spool or contextlib.nullcontext():
                run = execution.run_program(
                    sb, program, limits, image=image, stdin=stdin.fileno(), stdout_to=spool
                )
                common = {
                    "name": case.name,
                    "time_s": run.cpu_time_ms / 1000,
                    "wall_s": run.wall_time_ms / 1000,
                    "memory": run.memory_bytes,
                }
                if run.status is not Status.OK:
                    verdict = verdict_of_run(run.status)
                    return GradedTest(verdict=verdict, message=run.message, **common)  # type: ignore[arg-type]
                if spool is not None:
                    spool.seek(0)
                check = self._check(case, run.stdout if spool is None else spool, sb)
            return _from_check(check, common)
        except (JudgeError, SandboxError, OSError) as e:
            return GradedTest(name=case.name, verdict=Verdict.IE, message=f"internal error: {e}")

    def _check(self, case: TestCase, output: bytes | BinaryIO, sb: Boxes | None = None) -> CheckResult:
        """The checker's word on one output: bytes, or a file at its start (streamed, not read whole)."""
        args = (*self.problem.output_validator_args, *case.output_validator_args)
        if self.problem.output_validator is None:
            out = io.BytesIO(output) if isinstance(output, bytes) else output
            if case.answer is None:
                return default_checker.check_streams(io.BytesIO(), out, args)
            with open(case.answer, "rb") as answer:
                return default_checker.check_streams(answer, out, args)
        vp = self.validator()
        assert case.answer is not None
        if self.problem.checker_protocol == "testlib":  # the box is given a copy: bytes it is
            data = output if isinstance(output, bytes) else output.read()
            return custom.run_testlib(
                sb or self.sb,
                vp,
                input=case.input,
                output=data,
                answer=case.answer,
                limits=self.validator_limits(),
            )
        return custom.run_kattis(
            sb or self.sb,
            vp,
            input=case.input,
            answer=case.answer,
            output=output if isinstance(output, bytes) else output.fileno(),
            args=args,
            limits=self.validator_limits(),
        )

    def _interactive(
        self, program: execution.Compiled, image: sandbox.Image, case: TestCase, limits: Limits, sb: Boxes
    ) -> GradedTest:
        """One test of an interactive or multi-pass problem: the submission's box and the
        validator's, both from `sb` (so both on one core, this process's or a borrowed one)."""
        from . import interactive

        vp = self.validator()
        args = (*self.problem.output_validator_args, *case.output_validator_args)
        common = {
            "input": case.input,
            "answer": case.answer,
            "args": args,
            "limits": limits,
            "validator_limits": self.validator_limits(),
            "images": (image, vp.image),
        }
        if self.problem.multi_pass:
            out = interactive.run_multi_pass(
                sb,
                program,
                vp.program,
                **common,  # type: ignore[arg-type]
                passes=self.problem.limits.validation_passes,
                interactive=self.problem.interactive,
            )
        else:
            out = interactive.run_interactive(sb, program, vp.program, **common)  # type: ignore[arg-type]
        sub = out.submission
        verdict = out.verdict_hint
        message = out.judge_message or out.reason or sub.message
        return GradedTest(
            name=case.name,
            verdict=verdict,
            time_s=sub.cpu_time_ms / 1000,
            wall_s=sub.wall_time_ms / 1000,
            memory=sub.memory_bytes,
            message=message,
            score=out.score,
        )


def _in_turn(run_case: Callable[[TestCase], GradedTest]) -> RunCases:
    """Cases run one after another, up to and with the first that fails when `stop` is true."""

    def run_cases(cases: Sequence[TestCase], stop: bool) -> list[GradedTest]:
        tests = []
        for case in cases:
            tests.append(run_case(case))
            if stop and tests[-1].verdict is not Verdict.AC:
                break
        return tests

    return run_cases


def _from_check(check: CheckResult, common: dict[str, object]) -> GradedTest:
    if check.judge_error is not None:
        return GradedTest(verdict=Verdict.IE, message=check.judge_error, **common)  # type: ignore[arg-type]
    verdict = Verdict.AC if check.accepted else Verdict.WA
    return GradedTest(verdict=verdict, message=check.message, score=check.score, **common)  # type: ignore[arg-type]


def round_time_limit(slowest_s: float, multiplier: float, resolution_s: float) -> float:
    """The smallest multiple of the resolution at or above slowest x multiplier (at least one step)."""
    steps = max(1, math.ceil(round(slowest_s * multiplier / resolution_s, 9)))
    return steps * resolution_s
