"""Interactive and multi-pass problems (judge/interactive.py) with real boxes and real validators.

The conformance corpus (../shared/conformance, next to the repository) supplies validators and
submissions written by problemtools', BAPCtools' and DOMjudge's authors, with the verdict each
expects (its folder): each submission runs on the package's secret cases in order, ICPC style
(the first case that is not AC decides), and must get that verdict. Without the corpus those
tests are skipped. Small Python programs of our own test what the corpus does not pin down:
the order of a rejection and a crash, a validator that never answers, feedback files, passes.

Submissions get a 1 s time limit (2 s wall), except pseudointeraction's, which read 10^6 lines
through Python's input() (4 s); validators get 10 s. All of them times JUDGE_TEST_SLOWNESS
(tests/allowance.py) on a slow machine, for runs that must finish; a corpus submission that
must end TLE keeps the real limits (one sleeps 10 s: a wall limit scaled past that is no TLE).
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import allowance
import pytest

import sandbox
from judge import execution, images, interactive, languages, submission
from judge.errors import UnknownImage
from judge.interactive import InteractiveOutcome
from sandbox import Image, Limits, MiB, RunResult, RunStatus

pytestmark = pytest.mark.sandbox

CONFORMANCE = Path(__file__).parents[3] / "shared" / "conformance"
SUBMISSION = Limits(cpu_time_ms=1000, wall_time_ms=2000, memory_bytes=256 * MiB)
LIMITS = allowance.limits(SUBMISSION)
VALIDATOR_LIMITS = allowance.limits(Limits(cpu_time_ms=10_000, wall_time_ms=20_000, memory_bytes=512 * MiB))

Built = tuple[execution.Compiled, Image]
Build = Callable[..., Built]


@pytest.fixture(scope="module")
def build(sb: sandbox.Sandbox) -> Build:
    """Compile a file or folder of the corpus, or Python source text, once per module."""
    cache: dict[object, Built] = {}

    def compile_(what: Path | str, main: str | None = None) -> Built:
        key = (what, main)
        if key not in cache:
            if isinstance(what, Path):
                source = submission.load(what)
                lang = languages.for_submission(source.names, main=main)
            else:
                source = submission.Source.single("main.py", textwrap.dedent(what).encode())
                lang = languages.by_id("python3")
            try:
                image = images.get(lang.image)
            except UnknownImage as e:
                pytest.skip(f"no {lang.image} image here: {e}")
            program = execution.compile_source(sb, lang, source, image=image, main=main)
            assert isinstance(program, execution.Compiled), program
            cache[key] = (program, image)
        return cache[key]

    return compile_


def package(rel: str) -> Path:
    root = CONFORMANCE / rel
    if not root.is_dir():
        pytest.skip(f"no conformance corpus at {CONFORMANCE}")
    return root


def cases(root: Path) -> Iterator[tuple[Path, Path | None]]:
    for inp in sorted((root / "data" / "secret").rglob("*.in")):
        ans = inp.with_suffix(".ans")
        yield inp, ans if ans.exists() else None


def pair(
    sb: sandbox.Sandbox,
    sub: Built,
    val: Built,
    *,
    input: Path | bytes,
    answer: Path | None = None,
    args: tuple[str, ...] = (),
    limits: Limits = LIMITS,
    validator_limits: Limits = VALIDATOR_LIMITS,
    passes: int = 0,
    interactive_: bool = True,
    **kw: object,
) -> InteractiveOutcome:
    """One test: run_interactive, or run_multi_pass when `passes` is given."""
    common: dict[str, object] = {
        "answer": answer,
        "args": args,
        "limits": limits,
        "validator_limits": validator_limits,
        "images": (sub[1], val[1]),
        **kw,
    }
    if passes:
        assert isinstance(input, Path)
        return interactive.run_multi_pass(
            sb, sub[0], val[0], input=input, passes=passes, interactive=interactive_, **common
        )  # type: ignore[arg-type]
    return interactive.run_interactive(sb, sub[0], val[0], input=input, **common)  # type: ignore[arg-type]


def grade(sb: sandbox.Sandbox, sub: Built, val: Built, root: Path, **kw: object) -> InteractiveOutcome:
    """The package's secret cases in order until the first that is not AC; that outcome, or the last."""
    out: InteractiveOutcome | None = None
    for inp, ans in cases(root):
        out = pair(sb, sub, val, input=inp, answer=ans, **kw)  # type: ignore[arg-type]
        if out.verdict_hint != "AC":
            return replace(out, reason=f"{inp.name}: {out.reason}")
    assert out is not None, f"no secret cases in {root}"
    return out


def expect(out: InteractiveOutcome, verdict: str) -> None:
    val_err = out.validator.stderr[-500:] if out.validator is not None else b""
    assert out.verdict_hint == verdict, (
        out.reason,
        out.submission.message,
        out.judge_message,
        out.submission.stderr[-500:],
        val_err,
    )


# -- the corpus ---------------------------------------------------------------------------------------

# 10^6 lines through input()
SLOW_PYTHON = Limits(cpu_time_ms=4000, wall_time_ms=10_000, memory_bytes=256 * MiB)
PACKAGES = {
    "problemtools/guess": (
        "output_validator/guess_validator",
        SUBMISSION,
        [
            ("accepted/guess.cc", "AC"),
            ("accepted/guess.java", "AC"),
            ("wrong_answer/guess.py", "WA"),
            ("wrong_answer/guess_0.cc", "WA"),
            (
                "wrong_answer/guess_tle.cc",
                "WA",
            ),  # rejected first, then spins: WA, and not after the time limit
            ("wrong_answer/GuessCrash.java", "WA"),  # rejected first, then crashes on EOF
            ("run_time_error/guess_rte.c", "RTE"),  # exits before its first guess; the validator then rejects
            ("run_time_error/guess_rte_after_correct.cc", "RTE"),
            (
                "time_limit_exceeded/guess_tle_after_correct.cc",
                "TLE",
            ),  # after an accept, its end still counts
            ("time_limit_exceeded/guess_no_flush.cc", "TLE"),  # deadlock: wall time
        ],
    ),
    "bapctools/guess": (
        "output_validator",
        SUBMISSION,
        [
            ("accepted/guess.cc", "AC"),
            ("wrong_answer/guess_extra_output.cc", "WA"),
            ("run_time_error/guess_assert_failure.py", "RTE"),
            ("run_time_error/guess_bad_exit.py", "RTE"),
            ("run_time_error/guess_exit_1.cpp", "RTE"),
            ("run_time_error/guess_close_stdout.cpp", "RTE"),  # closing stdout early is not an end
            ("run_time_error/guess_close_stdout_1.cpp", "RTE"),
            ("run_time_error/guess_close_stdout_2.cpp", "RTE"),
            ("time_limit_exceeded/guess_close_stdout_1.cpp", "TLE"),
        ],
    ),
    "domjudge/boolfind": (
        "output_validators/boolfind_run",
        SUBMISSION,
        [
            ("accepted/boolfind-test-correct.c", "AC"),
            ("accepted/boolfind-test-correct.cc", "AC"),
            ("accepted/boolfind-test-correct.java", "AC"),
            ("accepted/boolfind-test-correct.py", "AC"),
            ("wrong_answer/boolfind-test-double.py", "WA"),
            ("wrong_answer/boolfind-test-extradata.cc", "WA"),
            ("wrong_answer/boolfind-test-no-output.c", "WA"),
            ("time_limit_exceeded/boolfind-test-loop.cc", "TLE"),  # its validator, with a backlog, is stopped
            ("time_limit_exceeded/boolfind-test-timelimit.c", "TLE"),
            ("time_limit_exceeded/boolfind-test-extra-testcase.py", "TLE"),
        ],
    ),
    "bapctools/pseudointeraction": (
        "output_validator/interactor.py",
        SLOW_PYTHON,
        [
            (
                "accepted/eof.py",
                "AC",
            ),  # reads to EOF: the validator closes its stdout early, and that reaches it
            ("accepted/read.py", "AC"),
            ("wrong_answer/trailing.py", "WA"),
        ],
    ),
}
INTERACTIVE_CASES = [
    (pkg, validator, limits, sub, verdict)
    for pkg, (validator, limits, subs) in PACKAGES.items()
    for sub, verdict in subs
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("pkg", "validator", "limits", "sub", "verdict"),
    INTERACTIVE_CASES,
    ids=[f"{p}/{s}" for p, _, _, s, _ in INTERACTIVE_CASES],
)
def test_interactive_corpus(
    sb: sandbox.Sandbox, build: Build, pkg: str, validator: str, limits: Limits, sub: str, verdict: str
) -> None:
    root = package(pkg)
    limits = limits if verdict == "TLE" else allowance.limits(limits)  # a limit to be hit is not scaled
    out = grade(sb, build(root / "submissions" / sub), build(root / validator), root, limits=limits)
    expect(out, verdict)


MULTI_PASS = [
    ("domjudge/jumble", 2, "accepted/decrease_char.py", None, "AC"),
    ("domjudge/jumble", 2, "accepted/number_alphabet.py", None, "AC"),
    ("domjudge/jumble", 2, "wrong_answer/reverse.py", None, "WA"),  # fails on palindromes, in pass 2
    ("domjudge/jumble", 2, "wrong_answer/appendchar.py", None, "WA"),
    ("domjudge/jumble", 2, "wrong_answer/uppercase.py", None, "WA"),
    ("domjudge/hangman", 26, "wrong_answer/domjudge.py", None, "WA"),
    ("domjudge/hangman", 26, "time_limit_exceeded/run_frequency", "main.py", "TLE"),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("pkg", "passes", "sub", "main", "verdict"), MULTI_PASS, ids=[f"{p}/{s}" for p, _, s, _, _ in MULTI_PASS]
)
def test_multi_pass_corpus(
    sb: sandbox.Sandbox, build: Build, pkg: str, passes: int, sub: str, main: str | None, verdict: str
) -> None:
    """DOMjudge's multi-pass problems are not interactive: each pass, the validator reads the output."""
    root = package(pkg)
    validator = build(root / "output_validator" / "validator.py")
    program = build(root / "submissions" / sub, main)
    out = grade(sb, program, validator, root, passes=passes, interactive_=False)
    expect(out, verdict)


@pytest.mark.slow
def test_hangman_takes_many_passes(sb: sandbox.Sandbox, build: Build) -> None:
    root = package("domjudge/hangman")
    inp = root / "data" / "sample" / "1.in"
    sub = build(root / "submissions" / "accepted" / "frequency.py")
    out = pair(
        sb,
        sub,
        build(root / "output_validator" / "validator.py"),
        input=inp,
        answer=inp.with_suffix(".ans"),
        passes=26,
        interactive_=False,
    )
    expect(out, "AC")
    assert out.passes > 2 and out.next_pass_input is None


def test_more_passes_than_allowed_is_a_judge_error(sb: sandbox.Sandbox, build: Build) -> None:
    root = package("domjudge/jumble")
    inp = root / "data" / "sample" / "1.in"
    sub = build(root / "submissions" / "accepted" / "decrease_char.py")
    out = pair(
        sb,
        sub,
        build(root / "output_validator" / "validator.py"),
        input=inp,
        answer=inp.with_suffix(".ans"),
        passes=1,
        interactive_=False,
    )
    expect(out, "IE")
    assert out.passes == 1 and "validation_passes" in out.reason


# -- our own programs ---------------------------------------------------------------------------------

REJECT_AT_ONCE = """
    import sys
    open(sys.argv[3] + "judgemessage.txt", "w").write("no thanks\\n")
    sys.exit(43)
"""
SPIN = "while True:\n    pass\n"
READ_THEN_CRASH = "input()\n"  # EOFError once the validator has gone
CRASH_AT_ONCE = "raise SystemExit(3)\n"
REJECT_ON_EOF = """
    import sys
    data = sys.stdin.read()
    open(sys.argv[3] + "judgemessage.txt", "w").write(f"got {data!r}\\n")
    sys.exit(43)
"""


def play(sb: sandbox.Sandbox, build: Build, sub: str, val: str, **kw: object) -> InteractiveOutcome:
    return pair(sb, build(sub), build(val), **{"input": b"", **kw})  # type: ignore[arg-type]


def test_a_rejection_first_stops_a_spinning_submission(sb: sandbox.Sandbox, build: Build) -> None:
    out = play(sb, build, SPIN, REJECT_AT_ONCE)
    expect(out, "WA")
    assert out.validator_exit == 43 and out.judge_message == "no thanks\n"
    assert out.submission.signal == 9 and "stopped by the judge" in out.submission.message
    # killed by the judge (above), not left to reach its own limit
    assert out.submission.status is not RunStatus.TLE and out.submission.cpu_time_ms < LIMITS.cpu_time_ms


@pytest.mark.parametrize("attempt", range(5))
def test_a_rejection_wins_over_the_crash_it_causes(sb: sandbox.Sandbox, build: Build, attempt: int) -> None:
    out = play(sb, build, READ_THEN_CRASH, REJECT_AT_ONCE)
    expect(out, "WA")


@pytest.mark.parametrize("attempt", range(5))
def test_a_crash_before_reading_is_rte_though_the_validator_rejects_after(
    sb: sandbox.Sandbox, build: Build, attempt: int
) -> None:
    out = play(sb, build, CRASH_AT_ONCE, REJECT_ON_EOF)
    expect(out, "RTE")
    assert out.submission.exit_code == 3 and out.validator_exit == 43


def test_a_validator_that_never_answers_is_the_submissions_tle(sb: sandbox.Sandbox, build: Build) -> None:
    start = time.monotonic()
    out = play(sb, build, "input()\n", REJECT_ON_EOF)  # both read; nobody writes
    expect(out, "TLE")
    assert out.submission.status is RunStatus.TLE
    assert time.monotonic() - start < LIMITS.wall_time_ms / 1000 + 20  # ended, not hung


def test_a_validator_that_never_ends_is_a_judge_error_not_a_hang(sb: sandbox.Sandbox, build: Build) -> None:
    start = time.monotonic()
    short = Limits(cpu_time_ms=1000, wall_time_ms=3000, memory_bytes=256 * MiB)
    out = play(sb, build, "input()\n", "import time\ntime.sleep(60)\n", validator_limits=short)
    assert out.verdict_hint in ("IE", "TLE"), out.reason
    assert out.validator is not None and out.validator.status is RunStatus.TLE
    assert time.monotonic() - start < 30  # the validator sleeps 60 s: it was ended, not waited for


def test_a_box_that_cannot_run_the_submission_raises_and_ends_the_validator(
    sb: sandbox.Sandbox, build: Build
) -> None:
    val = build("import time\ntime.sleep(60)\n")
    lang = replace(languages.by_id("python3"), run=("/no/such/interpreter",))
    broken = (execution.Compiled(lang, "main.py", (), ""), val[1])
    start = time.monotonic()
    with pytest.raises(sandbox.ExecFailed):
        pair(sb, broken, val, input=b"")
    assert time.monotonic() - start < 30  # the validator sleeps 60 s: it was ended, not waited for


def test_a_sigpipe_after_the_validator_accepted_is_not_held_against_the_submission(
    sb: sandbox.Sandbox, build: Build
) -> None:
    writer = (
        "import signal, sys\nsignal.signal(signal.SIGPIPE, signal.SIG_DFL)\nwhile True:\n"
        "    sys.stdout.write('x' * 4096)\n    sys.stdout.flush()\n"
    )
    out = play(sb, build, writer, "import sys\nsys.exit(42)\n")
    assert out.submission.signal == 13, out.submission  # it did die of SIGPIPE
    expect(out, "AC")


def test_the_validator_sees_input_answer_args_and_feedback(
    sb: sandbox.Sandbox, build: Build, tmp_path: Path
) -> None:
    validator = """
        import sys
        inp, ans, fb = sys.argv[1:4]
        assert fb.endswith("/"), fb
        print(open(inp).read().strip(), flush=True)
        reply = sys.stdin.readline().strip()
        with open(fb + "judgemessage.txt", "a") as f:
            f.write(f"args {sys.argv[4:]} reply {reply}\\n")
        open(fb + "teammessage.txt", "w").write("well done\\n")
        open(fb + "score.txt", "w").write("17.5\\n")
        sys.exit(42 if reply == open(ans).read().strip() else 43)
    """
    answer = tmp_path / "t.ans"
    answer.write_bytes(b"42\n")
    out = play(
        sb,
        build,
        "print(int(input()) * 2)\n",
        validator,
        input=b"21\n",
        answer=answer,
        args=("-x", "y"),
        feedback={"judgemessage.txt": b"earlier\n"},
    )
    expect(out, "AC")
    assert out.judge_message == "earlier\nargs ['-x', 'y'] reply 42\n"
    assert out.team_message == "well done\n" and out.score == 17.5
    assert set(out.feedback) == {"judgemessage.txt", "teammessage.txt", "score.txt"}
    assert out.next_pass_input is None and out.validator_exit == 42


@pytest.mark.parametrize(
    ("validator", "why"),
    [
        ("import sys\nsys.exit(0)\n", "exited with code 0"),
        ("raise ValueError('bug')\n", "exited with code 1"),
        ("import os\nos.kill(os.getpid(), 9)\n", "did not exit normally"),
        ("import sys\nopen(sys.argv[3] + 'score.txt', 'w').write('lots')\nsys.exit(42)\n", "score.txt"),
    ],
)
def test_a_validator_that_fails_is_a_judge_error(
    sb: sandbox.Sandbox, build: Build, validator: str, why: str
) -> None:
    out = play(sb, build, "print(1)\n", validator)
    expect(out, "IE")
    assert why in out.reason


PASSES = """
    import os, sys
    inp, ans, fb = sys.argv[1:4]
    n = int(open(inp).read())
    assert not os.path.exists(fb + "nextpass.in"), "nextpass.in must be gone before the next pass"
    print(n, flush=True)
    got = sys.stdin.readline().strip()
    with open(fb + "judgemessage.txt", "a") as f:
        f.write(f"pass {n}: {got}\\n")
    if got != str(n + 1):
        sys.exit(43)
    if n < int(sys.argv[4]):
        open(fb + "nextpass.in", "w").write(str(n + 1))
    sys.exit(42)
"""


def multi(
    sb: sandbox.Sandbox,
    build: Build,
    sub: str,
    last: int,
    passes: int,
    tmp_path: Path,
    validator: str = PASSES,
) -> InteractiveOutcome:
    inp = tmp_path / "t.in"
    inp.write_bytes(b"1")
    return pair(sb, build(sub), build(validator), input=inp, args=(str(last),), passes=passes)


def test_interactive_passes_carry_the_feedback_directory(
    sb: sandbox.Sandbox, build: Build, tmp_path: Path
) -> None:
    out = multi(sb, build, "print(int(input()) + 1)\n", 3, 5, tmp_path)
    expect(out, "AC")
    assert out.passes == 3
    assert out.judge_message == "pass 1: 2\npass 2: 3\npass 3: 4\n"


def test_a_failed_pass_ends_the_test(sb: sandbox.Sandbox, build: Build, tmp_path: Path) -> None:
    out = multi(sb, build, "n = int(input())\nprint(n + 1 if n < 2 else n)\n", 3, 5, tmp_path)
    expect(out, "WA")
    assert out.passes == 2 and out.judge_message.endswith("pass 2: 2\n")


def test_asking_for_a_pass_too_many_is_a_judge_error(
    sb: sandbox.Sandbox, build: Build, tmp_path: Path
) -> None:
    out = multi(sb, build, "print(int(input()) + 1)\n", 9, 2, tmp_path)
    expect(out, "IE")
    assert out.passes == 2 and "pass 3" in out.reason


def test_nextpass_with_a_rejection_is_a_judge_error(
    sb: sandbox.Sandbox, build: Build, tmp_path: Path
) -> None:
    validator = "import sys\nopen(sys.argv[3] + 'nextpass.in', 'w').write('2')\nsys.exit(43)\n"
    out = multi(sb, build, "print(1)\n", 3, 3, tmp_path, validator=validator)
    expect(out, "IE")
    assert "nextpass.in" in out.reason


# -- the rule on its own ------------------------------------------------------------------------------


def fact(
    status: RunStatus = RunStatus.OK, *, exit_code: int | None = 0, signal: int | None = None
) -> RunResult:
    return RunResult(
        status=status,
        exit_code=exit_code,
        signal=signal,
        cpu_time_ms=1,
        wall_time_ms=1,
        memory_bytes=1,
        stdout=b"",
        stderr=b"",
        message=status.value,
    )


RTE, TLE = RunStatus.RTE, RunStatus.TLE


@pytest.mark.parametrize(
    ("sub", "val", "validator_first", "verdict"),
    [
        (fact(), fact(RTE, exit_code=42), False, "AC"),
        (fact(), fact(RTE, exit_code=43), False, "WA"),
        (fact(RTE, exit_code=1), fact(RTE, exit_code=43), True, "WA"),  # a rejection first wins over a crash
        (fact(TLE, exit_code=None, signal=9), fact(RTE, exit_code=43), True, "WA"),
        (fact(RTE, exit_code=1), fact(RTE, exit_code=43), False, "RTE"),  # the crash came first
        (fact(TLE, exit_code=None, signal=9), fact(RTE, exit_code=43), False, "TLE"),
        (
            fact(RTE, exit_code=1),
            fact(RTE, exit_code=42),
            True,
            "RTE",
        ),  # after an accept, the end still counts
        (
            fact(RTE, exit_code=None, signal=13),
            fact(RTE, exit_code=42),
            True,
            "AC",
        ),  # SIGPIPE: validator decides
        (fact(RTE, exit_code=None, signal=13), fact(RTE, exit_code=43), False, "WA"),
        (fact(RunStatus.MLE, exit_code=None, signal=9), fact(RTE, exit_code=42), False, "MLE"),
        (fact(RTE, exit_code=1), fact(), True, "IE"),  # exit 0 is no verdict
        (fact(), fact(RTE, exit_code=None, signal=11), False, "IE"),
        (fact(), fact(TLE, exit_code=None, signal=9), False, "IE"),
    ],
)
def test_the_verdict_rule(sub: RunResult, val: RunResult, validator_first: bool, verdict: str) -> None:
    assert interactive.judge(sub, val, validator_first=validator_first)[0] == verdict


def test_a_validator_we_stopped_after_the_submission_failed_is_no_judge_error() -> None:
    stopped = fact(RTE, exit_code=None, signal=9)
    assert (
        interactive.judge(
            fact(TLE, exit_code=None, signal=9), stopped, validator_first=False, validator_stopped=True
        )[0]
        == "TLE"
    )
