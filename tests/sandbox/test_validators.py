"""Custom output validators in real boxes (judge/checkers/validator.py).

The validators here are the conformance corpus's own (problemtools' `different` in C++ with
validate.h beside it, DOMjudge's multi-pass `jumble` and `hangman` in Python) and small ones
written inline, each for one rule of the Kattis or the testlib protocol. They need the `gcc`
and `python3` images (`judge images build gcc python3`); a test whose image is not built is
skipped with that command, except under CI=true.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

import sandbox
from judge import images
from judge.checkers import CheckResult
from judge.checkers.validator import (
    ValidatorBuildError,
    ValidatorProgram,
    compile_validator,
    run_kattis,
    run_testlib,
)
from judge.errors import UnknownImage
from judge.problems import model
from sandbox import Limits, MiB

pytestmark = pytest.mark.sandbox

CONFORMANCE = Path(__file__).parents[3] / "shared" / "conformance"
DIFFERENT = CONFORMANCE / "problemtools" / "different"
JUMBLE = CONFORMANCE / "domjudge" / "jumble"
HANGMAN = CONFORMANCE / "domjudge" / "hangman"

LIMITS = Limits(
    cpu_time_ms=5000, wall_time_ms=10_000, memory_bytes=256 * MiB, output_bytes=1 * MiB, processes=4
)


def need_images(*names: str) -> None:
    for name in names:
        try:
            images.get(name)
        except UnknownImage as e:
            if os.environ.get("CI") == "true":
                raise
            pytest.skip(f"image {name} is not built here ({e})")


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"the conformance corpus is not here: {path}")
    return path


def compile_file(
    sb: sandbox.Sandbox, directory: Path, name: str, source: str, language: str
) -> ValidatorProgram:
    path = directory / name
    path.write_text(source)
    return compile_validator(sb, model.Program(path=path, language=language))


def kattis(
    sb: sandbox.Sandbox,
    vp: ValidatorProgram,
    output: bytes | int,
    *,
    input: bytes | Path = b"1\n",
    answer: bytes | Path = b"1\n",
    args: tuple[str, ...] = (),
    limits: Limits = LIMITS,
    feedback: dict[str, bytes] | None = None,
) -> CheckResult:
    return run_kattis(
        sb, vp, input=input, answer=answer, output=output, args=args, limits=limits, feedback=feedback
    )


# -- problemtools' `different`: C++, validate.h included from beside it ------------------------


@pytest.fixture(scope="module")
def different(sb: sandbox.Sandbox) -> ValidatorProgram:
    need_images("gcc")
    path = need(DIFFERENT / "output_validators" / "different_validator")
    return compile_validator(sb, model.Program(path=path, language="cpp"))


def test_different_accepts_the_answers_of_its_data(sb: sandbox.Sandbox, different: ValidatorProgram) -> None:
    cases = sorted((DIFFERENT / "data").glob("*/*.in"))
    assert cases
    for case in cases:
        answer = case.with_suffix(".ans")
        r = kattis(sb, different, answer.read_bytes(), input=case, answer=answer)
        assert r == CheckResult(accepted=True), case


def test_different_rejects_a_wrong_number_and_says_why(
    sb: sandbox.Sandbox, different: ValidatorProgram
) -> None:
    case = DIFFERENT / "data" / "sample" / "1.in"
    answer = case.with_suffix(".ans")
    lines = answer.read_bytes().splitlines()
    lines[1] = b"%d" % (int(lines[1]) + 1)
    r = kattis(sb, different, b"\n".join(lines) + b"\n", input=case, answer=answer)
    assert not r.accepted and r.judge_error is None
    assert r.message.startswith("judge answer = ") and "but submission output = " in r.message
    assert dict(r.feedback_files) == {"judgemessage.txt": r.message.encode()}


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda out: out + b"99\n", "Trailing output"),
        (lambda out: b"\n".join(out.splitlines()[:-1]), "EOF or next token is not an integer"),
        (lambda out: b"", "EOF or next token is not an integer"),
    ],
)
def test_different_rejects_trailing_and_missing_output(
    sb: sandbox.Sandbox, different: ValidatorProgram, change: object, says: str
) -> None:
    case = DIFFERENT / "data" / "sample" / "1.in"
    answer = case.with_suffix(".ans")
    r = kattis(sb, different, change(answer.read_bytes()), input=case, answer=answer)  # type: ignore[operator]
    assert (r.accepted, r.message, r.judge_error) == (False, says, None)


def test_the_team_output_may_be_a_descriptor(sb: sandbox.Sandbox, different: ValidatorProgram) -> None:
    case = DIFFERENT / "data" / "sample" / "1.in"
    answer = case.with_suffix(".ans")
    with tempfile.TemporaryFile() as f:
        f.write(answer.read_bytes())
        f.seek(0)
        assert kattis(sb, different, f.fileno(), input=case, answer=answer).accepted


# -- the Kattis protocol, rule by rule ---------------------------------------------------------


@pytest.fixture(scope="module")
def python_ok(sb: sandbox.Sandbox) -> None:
    need_images("python3")


FEEDBACK = """\
import os, sys
inp, ans, fb = sys.argv[1:4]
team = sys.stdin.read()
def write(name, text):
    with open(os.path.join(fb, name), "a") as f:
        f.write(text)
if team.strip() == open(ans).read().strip():
    write("score.txt", "%s\\n" % (len(sys.argv[4:]) + 0.5))
    write("teammessage.txt", "well done")
    sys.exit(42)
write("judgemessage.txt", "expected %r, got %r; input %r; args %r"
      % (open(ans).read(), team, open(inp).read(), sys.argv[4:]))
write("teammessage.txt", "try again")
sys.exit(43)
"""


@pytest.fixture(scope="module")
def feedback_validator(
    sb: sandbox.Sandbox, python_ok: None, tmp_path_factory: pytest.TempPathFactory
) -> ValidatorProgram:
    return compile_file(sb, tmp_path_factory.mktemp("feedback"), "validate.py", FEEDBACK, "python3")


def test_score_and_team_message_come_back(sb: sandbox.Sandbox, feedback_validator: ValidatorProgram) -> None:
    r = kattis(sb, feedback_validator, b"7\n", answer=b"7\n", args=("a", "b"))
    assert (r.accepted, r.score, r.team_message, r.judge_error) == (True, 2.5, "well done", None)
    assert dict(r.feedback_files) == {"score.txt": b"2.5\n", "teammessage.txt": b"well done"}


def test_the_judge_message_sees_input_answer_and_args(
    sb: sandbox.Sandbox, feedback_validator: ValidatorProgram
) -> None:
    r = kattis(sb, feedback_validator, b"8\n", input=b"the input\n", answer=b"7\n", args=("x",))
    assert not r.accepted and r.judge_error is None and r.score is None
    assert r.message == "expected '7\\n', got '8\\n'; input 'the input\\n'; args ['x']"
    assert r.team_message == "try again"


def test_host_paths_are_read(
    sb: sandbox.Sandbox, feedback_validator: ValidatorProgram, tmp_path: Path
) -> None:
    (tmp_path / "t.in").write_bytes(b"in\n")
    (tmp_path / "t.ans").write_bytes(b"42\n")
    r = kattis(sb, feedback_validator, b"42", input=tmp_path / "t.in", answer=tmp_path / "t.ans")
    assert r.accepted


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("sys.exit(0)", "exited with code 0; 42 accepts, 43 rejects"),
        ("sys.exit(1)", "exited with code 1"),
        ("raise RuntimeError('validator bug')", "RuntimeError: validator bug"),
        ("import os; os.kill(os.getpid(), 11)", "SIGSEGV"),
    ],
)
def test_any_other_ending_is_a_judge_error(
    sb: sandbox.Sandbox, python_ok: None, tmp_path: Path, code: str, says: str
) -> None:
    vp = compile_file(
        sb,
        tmp_path,
        "v.py",
        f"import sys\nopen(sys.argv[3] + 'judgemessage.txt', 'w').write('before the end')\n{code}\n",
        "python3",
    )
    r = kattis(sb, vp, b"1\n")
    assert not r.accepted
    assert r.judge_error is not None and says in r.judge_error, r.judge_error
    assert r.message == "before the end"


def test_a_validator_that_loops_is_stopped_at_its_time_limit(
    sb: sandbox.Sandbox, python_ok: None, tmp_path: Path
) -> None:
    vp = compile_file(sb, tmp_path, "v.py", "while True:\n    pass\n", "python3")
    start = time.monotonic()
    r = kattis(
        sb, vp, b"1\n", limits=Limits(cpu_time_ms=500, wall_time_ms=2000, memory_bytes=256 * MiB, processes=4)
    )
    assert time.monotonic() - start < 60  # stopped, not left looping (generous: noisy machines)
    assert not r.accepted
    assert r.judge_error is not None and "went over its limits" in r.judge_error
    assert "time limit" in r.judge_error


def test_a_validator_over_its_memory_is_a_judge_error(
    sb: sandbox.Sandbox, python_ok: None, tmp_path: Path
) -> None:
    vp = compile_file(
        sb,
        tmp_path,
        "v.py",
        "x = bytearray(200 * 2**20)\nx[::4096] = b'1' * len(x[::4096])\nraise SystemExit(42)\n",
        "python3",
    )
    r = kattis(
        sb,
        vp,
        b"1\n",
        limits=Limits(cpu_time_ms=5000, wall_time_ms=10_000, memory_bytes=64 * MiB, processes=4),
    )
    assert r.judge_error is not None and "memory limit" in r.judge_error, r.judge_error


def test_a_bad_score_is_a_judge_error(sb: sandbox.Sandbox, python_ok: None, tmp_path: Path) -> None:
    vp = compile_file(
        sb,
        tmp_path,
        "v.py",
        "import sys\nopen(sys.argv[3] + 'score.txt', 'w').write('lots')\nsys.exit(42)\n",
        "python3",
    )
    r = kattis(sb, vp, b"1\n")
    assert r.judge_error is not None and "score.txt without a number" in r.judge_error


def test_a_symlinked_judge_message_is_refused(sb: sandbox.Sandbox, python_ok: None, tmp_path: Path) -> None:
    vp = compile_file(
        sb,
        tmp_path,
        "v.py",
        "import os, sys\nos.symlink('/etc/shadow', sys.argv[3] + 'judgemessage.txt')\nsys.exit(43)\n",
        "python3",
    )
    r = kattis(sb, vp, b"1\n")
    assert r.judge_error is not None and "judgemessage.txt" in r.judge_error
    assert r.message == ""


def test_the_feedback_directory_holds_nothing_of_ours_but_the_hidden_judge_dir(
    sb: sandbox.Sandbox, python_ok: None, tmp_path: Path
) -> None:
    vp = compile_file(
        sb,
        tmp_path,
        "v.py",
        "import os, sys\nfb = sys.argv[3]\n"
        "listing = repr(sorted(os.listdir(fb))) + ' ' + os.getcwd()\n"
        "open(fb + 'judgemessage.txt', 'w').write(listing)\n"
        "sys.exit(43)\n",
        "python3",
    )
    r = kattis(sb, vp, b"1\n", feedback={"seed.txt": b"s"})
    assert r.message == "['.judge', 'seed.txt'] /box/.judge/prog"


def test_input_bigger_than_the_default_scratch_space(
    sb: sandbox.Sandbox, python_ok: None, tmp_path: Path
) -> None:
    vp = compile_file(
        sb,
        tmp_path,
        "v.py",
        "import os, sys\nn = os.path.getsize(sys.argv[1])\n"
        "sys.exit(42 if n == int(sys.stdin.read()) else 43)\n",
        "python3",
    )
    big = b"7" * (Limits().tmp_bytes + 5 * MiB)
    assert kattis(sb, vp, b"%d" % len(big), input=big).accepted


# -- multi-pass --------------------------------------------------------------------------------

PASSES = """\
import os, sys
inp, ans, fb = sys.argv[1:4]
n = int(open(inp).read())
team = sys.stdin.read().strip()
with open(os.path.join(fb, "judgemessage.txt"), "a") as f:
    f.write("pass %d: %s\\n" % (n, team))
state = os.path.join(fb, "state.txt")
seen = (open(state).read() if os.path.exists(state) else "") + team + ","
with open(state, "w") as f:
    f.write(seen)
if n < 3:
    with open(os.path.join(fb, "nextpass.in"), "w") as f:
        f.write(str(n + 1))
    sys.exit(42)
sys.exit(42 if seen == open(ans).read().strip() else 43)
"""


def test_multi_pass_feedback_persists_between_passes(
    sb: sandbox.Sandbox, python_ok: None, tmp_path: Path
) -> None:
    vp = compile_file(sb, tmp_path, "v.py", PASSES, "python3")
    next_input: bytes | None = b"1"
    feedback: dict[str, bytes] = {}
    results = []
    while next_input is not None:
        r = kattis(sb, vp, next_input, input=next_input, answer=b"1,2,3,\n", feedback=feedback)
        assert r.accepted and r.judge_error is None, r
        results.append(r)
        next_input, feedback = r.next_pass_input, dict(r.feedback_files)
        assert "nextpass.in" not in feedback
    assert [r.next_pass_input for r in results] == [b"2", b"3", None]
    assert results[-1].message == "pass 1: 1\npass 2: 2\npass 3: 3\n"
    assert feedback["state.txt"] == b"1,2,3,"


def test_a_next_pass_with_a_reject_is_a_judge_error(
    sb: sandbox.Sandbox, python_ok: None, tmp_path: Path
) -> None:
    vp = compile_file(
        sb,
        tmp_path,
        "v.py",
        "import sys\nopen(sys.argv[3] + 'nextpass.in', 'w').write('2')\nsys.exit(43)\n",
        "python3",
    )
    r = kattis(sb, vp, b"1\n")
    assert r.judge_error is not None and "nextpass.in but rejected" in r.judge_error


def test_a_seeded_nextpass_is_dropped(sb: sandbox.Sandbox, python_ok: None, tmp_path: Path) -> None:
    vp = compile_file(
        sb,
        tmp_path,
        "v.py",
        "import os, sys\nsys.exit(43 if os.path.exists(sys.argv[3] + 'nextpass.in') else 42)\n",
        "python3",
    )
    assert kattis(sb, vp, b"1\n", feedback={"nextpass.in": b"old"}).accepted


def test_jumble_in_two_passes(sb: sandbox.Sandbox, python_ok: None) -> None:
    path = need(JUMBLE / "output_validator" / "validator.py")
    vp = compile_validator(sb, model.Program(path=path, language="python3"))
    case = JUMBLE / "data" / "sample" / "1.in"
    answer = case.with_suffix(".ans")
    first = kattis(sb, vp, b"tqppo\n", input=case, answer=answer)  # every letter moved one on
    assert first.accepted and first.next_pass_input == b"unjumble tqppo\n"
    second = kattis(
        sb,
        vp,
        answer.read_bytes(),
        input=first.next_pass_input,
        answer=answer,
        feedback=dict(first.feedback_files),
    )
    assert second == CheckResult(accepted=True)
    wrong = kattis(sb, vp, b"spoons\n", input=first.next_pass_input, answer=answer)
    assert not wrong.accepted and "not original input" in wrong.message
    leaked = kattis(sb, vp, b"xspoonx\n", input=case, answer=answer)
    assert not leaked.accepted and "original input was found" in leaked.message


def test_hangman_asks_for_another_pass_until_the_word_is_out(sb: sandbox.Sandbox, python_ok: None) -> None:
    path = need(HANGMAN / "output_validator" / "validator.py")
    vp = compile_validator(sb, model.Program(path=path, language="python3"))
    case = HANGMAN / "data" / "sample" / "1.in"
    answer = case.with_suffix(".ans")
    word = answer.read_text().strip()
    next_input: bytes | None = case.read_bytes()
    feedback: dict[str, bytes] = {}
    for letter in sorted(set(word)):
        assert next_input is not None
        r = kattis(sb, vp, letter.encode() + b"\n", input=next_input, answer=answer, feedback=feedback)
        assert r.accepted and r.judge_error is None, r
        next_input, feedback = r.next_pass_input, dict(r.feedback_files)
    assert next_input is None  # the word is guessed: no further pass
    again = kattis(sb, vp, b"d\n", input=b"d\nd_______\n", answer=answer)
    assert not again.accepted and "same letter" in again.message


# -- compiling ---------------------------------------------------------------------------------

VALIDATORS = [
    ("problemtools/different/output_validators/different_validator", "cpp"),
    ("problemtools/guess/output_validator/guess_validator", "cpp"),
    ("bapctools/guess/output_validator", "cpp"),
    ("domjudge/boolfind/output_validators/boolfind_run", "cpp"),
    ("domjudge/jumble/output_validator/validator.py", "python3"),
    ("domjudge/hangman/output_validator/validator.py", "python3"),
    ("bapctools/pseudointeraction/output_validator/interactor.py", "python3"),
]


@pytest.mark.parametrize(("rel", "language"), VALIDATORS)
def test_every_validator_of_the_corpus_compiles(sb: sandbox.Sandbox, rel: str, language: str) -> None:
    need_images("gcc" if language == "cpp" else "python3")
    path = need(CONFORMANCE / rel)
    vp = compile_validator(sb, model.Program(path=path, language=language))
    assert vp.program.language.id == language
    if language == "cpp":
        assert "main" in [name for name, _, _ in vp.program.files]


def test_the_language_is_told_from_the_extension(
    sb: sandbox.Sandbox, python_ok: None, tmp_path: Path
) -> None:
    (tmp_path / "v.py").write_text("raise SystemExit(42)\n")
    vp = compile_validator(sb, model.Program(path=tmp_path / "v.py", language=None))
    assert vp.program.language.id == "python3"
    assert kattis(sb, vp, b"").accepted


def test_a_python_package_starts_at_main(sb: sandbox.Sandbox, python_ok: None, tmp_path: Path) -> None:
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "rules.py").write_text("VERDICT = 42\n")
    (tmp_path / "__main__.py").write_text("import rules\nraise SystemExit(rules.VERDICT)\n")
    vp = compile_validator(sb, model.Program(path=tmp_path, language="python3"))
    assert kattis(sb, vp, b"").accepted


def test_a_validator_that_does_not_compile_is_a_build_error(sb: sandbox.Sandbox, tmp_path: Path) -> None:
    need_images("gcc")
    (tmp_path / "v.cpp").write_text("int main() { return 42 }\n")
    says = r"(?s)does not compile as C\+\+.*error: expected .;. before"
    with pytest.raises(ValidatorBuildError, match=says):
        compile_validator(sb, model.Program(path=tmp_path / "v.cpp", language="cpp"))


def test_build_run_validators_are_refused_clearly(sb: sandbox.Sandbox, tmp_path: Path) -> None:
    with pytest.raises(ValidatorBuildError, match="build/run scripts are not supported"):
        compile_validator(sb, model.Program(path=tmp_path, language=None, build_run=True))


def test_an_unknown_language_is_a_build_error(sb: sandbox.Sandbox, tmp_path: Path) -> None:
    (tmp_path / "v.xyz").write_text("?")
    with pytest.raises(ValidatorBuildError, match="cannot tell the language of v.xyz"):
        compile_validator(sb, model.Program(path=tmp_path / "v.xyz", language=None))


# -- testlib -----------------------------------------------------------------------------------

TESTLIB_LIKE = r"""
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

// testlib's calling convention and exit codes, without testlib.h
int main(int argc, char **argv) {
    if (argc < 4) { std::fprintf(stderr, "FAIL usage: check input output answer\n"); return 3; }
    std::ifstream inf(argv[1]), ouf(argv[2]), ans(argv[3]);
    std::string in, out, expected;
    inf >> in;
    ouf >> out;
    ans >> expected;
    if (out == expected) { std::fprintf(stderr, "ok %s\n", in.c_str()); return 0; }
    if (out == "pe") { std::fprintf(stderr, "wrong output format Expected integer\n"); return 2; }
    if (out == "dirt") { std::fprintf(stderr, "wrong output format Extra information\n"); return 4; }
    if (out == "fail") { std::fprintf(stderr, "FAIL the answer is broken\n"); return 3; }
    if (out == "half") { std::fprintf(stderr, "points 0.5 half of it\n"); return 7; }
    if (out == "seven") return 7;
    if (out == "five") return 5;
    if (out == "crash") std::abort();
    std::fprintf(stderr, "wrong answer expected '%s', found '%s'\n", expected.c_str(), out.c_str());
    return 1;
}
"""


@pytest.fixture(scope="module")
def testlib_checker(sb: sandbox.Sandbox, tmp_path_factory: pytest.TempPathFactory) -> ValidatorProgram:
    need_images("gcc")
    return compile_file(sb, tmp_path_factory.mktemp("testlib"), "check.cpp", TESTLIB_LIKE, "cpp")


@pytest.mark.parametrize(
    ("output", "accepted", "score", "message", "error"),
    [
        (b"7\n", True, None, "ok case-one", None),
        (b"8\n", False, None, "wrong answer expected '7', found '8'", None),
        (b"pe\n", False, None, "wrong output format Expected integer", None),
        (b"dirt\n", False, None, "wrong output format Extra information", None),
        (b"half\n", True, 0.5, "points 0.5 half of it", None),
        (b"fail\n", False, None, "FAIL the answer is broken", "failed (testlib exit code 3, FAIL)"),
        (b"seven\n", False, None, "", 'exited with code 7 (points) without "points N"'),
        (b"five\n", False, None, "", "exited with code 5, which testlib does not use"),
        (b"crash\n", False, None, "", "SIGABRT"),
    ],
)
def test_testlib_exit_codes(
    sb: sandbox.Sandbox,
    testlib_checker: ValidatorProgram,
    output: bytes,
    accepted: bool,
    score: float | None,
    message: str,
    error: str | None,
) -> None:
    r = run_testlib(sb, testlib_checker, input=b"case-one\n", output=output, answer=b"7\n", limits=LIMITS)
    assert (r.accepted, r.score, r.message) == (accepted, score, message)
    if error is None:
        assert r.judge_error is None
    else:
        assert r.judge_error is not None and error in r.judge_error, r.judge_error
