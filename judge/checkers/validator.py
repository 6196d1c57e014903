"""A package's own output validator: compiled once, then run in a fresh box for every check.

Two protocols, as judges speak them (the judges survey's sections 8.5 and 9, docs/references.md):

* Kattis/ICPC (`run_kattis`): `validator input answer feedback_dir/ [args] < team_output`;
  exit 42 accepts, 43 rejects, anything else (0 included) is a judge error. The feedback
  directory gives back judgemessage.txt, teammessage.txt, score.txt and, for multi-pass
  problems, nextpass.in.
* testlib (`run_testlib`, DMOJ's bridged checkers): `checker input output answer`; exit 0
  accepts, 1 (wrong answer), 2 (presentation error), 4 (old testlib's "dirt") and 8
  (unexpected EOF) reject, 3 is the checker's own failure, 7 gives points ("points N" on
  stderr, as testlib's quitp prints it); the message is stderr.

Compiling. `compile_validator` reads the program (a file, or a directory of sources: C++
validators include "validate.h" from beside them) as a Source and compiles it with the
language's own recipe, image and compile limits (judge/execution.py). A validator that does
not compile is the package's fault: ValidatorBuildError (a JudgeError) with the compiler's
output, which grading turns into IE for every test and `judge verify` into an error.
Directories with `build`/`run` scripts are refused with ValidatorBuildError for now: they
need a shell, `cc`, `c++` and `python3` in one image and a build box whose result is a
directory; nothing here builds that yet.

One check, in a fresh box of the validator's image:

    /box/                 the feedback directory (argv[3] is "/box/"), writable by the validator,
                          holding only the files of `feedback` (a multi-pass caller's previous
                          pass) and our hidden .judge/
    /box/.judge/prog/     the compiled validator, and its working directory
    /box/.judge/input     the test's input        (argv[1])
    /box/.judge/answer    the test's answer       (argv[2] for Kattis, argv[3] for testlib)
    /box/.judge/output    testlib only: the team's output (argv[2]); Kattis gets it on stdin

The feedback directory is the box's top directory because that is the one directory whose
files can be listed afterwards: every regular file the validator leaves there comes back in
CheckResult.feedback_files, so that "all other files persist between passes" holds for any
name. Seeded files are mode 0666, so a validator can append to the judgemessage.txt of an
earlier pass (the files the keeper writes belong to root).

Input validators in checktestdata (`.ctd`) run with PyPI's `checktestdata`, the pure-Python
implementation problemtools itself runs (problemtools/run/checktestdata.py:
`python -m checktestdata FILE < input`): `checktestdata_validator` gives the box the script and
the package's own modules, copied from this judge's install, beside it, and the box runs them
with the python3 image's CPython (3.11, as the package requires >= 3.10), so nothing of the host
is needed inside. Exit 0 accepts, 1 rejects (its message on stderr), anything else is the
script's own fault. That implementation takes no options, so a group's input_validator_flags
are not passed to it (the report says so). VIVA (`.viva`) is not run at all.

Limits are the caller's (model.ProblemLimits validation_time_s, validation_memory_mib,
validation_output_mib, as a sandbox.Limits) plus the language's allowance; the box's tmpfs is
made big enough for the files we put there. A validator over its limits, killed by a signal
or exiting with a code the protocol does not know is a CheckResult with `judge_error` naming
what happened, never a verdict against the team. A box that cannot be made, or an image
without the interpreter, raises SandboxError as everywhere else.
"""

from __future__ import annotations

import importlib.util
import math
import re
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from sandbox import DEFAULT_ENV, FileRefused, Image, Limits, MiB, RunResult, RunStatus

from .. import execution, images, languages
from ..errors import JudgeError
from ..languages.recipe import Language, SelfTest, expand
from ..problems import model
from ..submission import load
from . import CheckResult

JUDGE_DIR = ".judge"
PROG_DIR = f"{JUDGE_DIR}/prog"
FEEDBACK_DIR = "/box/"
INPUT = f"/box/{JUDGE_DIR}/input"
ANSWER = f"/box/{JUDGE_DIR}/answer"
OUTPUT = f"/box/{JUDGE_DIR}/output"

EXIT_AC, EXIT_WA = 42, 43
SPECIAL = ("judgemessage.txt", "teammessage.txt", "score.txt", "score_multiplier.txt", "nextpass.in")
STDERR_SHOWN = 2000  # characters of a failing validator's stderr quoted in its judge error

# testlib's exit codes (testlib.h, default build)
TESTLIB_OK, TESTLIB_WA, TESTLIB_PE, TESTLIB_FAIL = 0, 1, 2, 3
TESTLIB_DIRT, TESTLIB_POINTS, TESTLIB_EOF = 4, 7, 8
_POINTS = re.compile(r"^\s*points\s+([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)", re.MULTILINE)


class ValidatorBuildError(JudgeError):
    """The package's output validator cannot be built; the message has the compiler's output."""


class _Box(Protocol):
    def put(self, rel: str, data: bytes, mode: int = 0o644) -> None: ...
    def get(self, rel: str, max_bytes: int = ...) -> bytes: ...
    def listdir(self) -> list[str]: ...
    def run(
        self,
        argv: Sequence[str],
        limits: Limits,
        *,
        stdin: bytes | int | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str = ...,
    ) -> RunResult: ...


class _Sandbox(Protocol):
    def box(
        self, image: Image = ..., *, uid: int = ..., limits: Limits | None = None
    ) -> AbstractContextManager[_Box]: ...


@dataclass(frozen=True, slots=True)
class ValidatorProgram:
    """A compiled output validator: what each check's box is given."""

    source: model.Program
    program: execution.Compiled
    image: Image

    @property
    def name(self) -> str:
        return self.source.path.name

    @property
    def checktestdata(self) -> bool:
        return self.source.kind == "checktestdata"


# How a .ctd script runs: not a judge language (nobody submits in it), a recipe all the same.
CHECKTESTDATA = Language(
    id="checktestdata",
    name="checktestdata (PyPI, on CPython)",
    extensions=(".ctd",),
    source_name="validator.ctd",
    compile=None,
    run=("/usr/bin/python3", "-m", "checktestdata", "{source}"),
    version=("/usr/bin/python3", "-m", "checktestdata", "--version"),
    image="python3",
    self_test=SelfTest(source="INT(1, 9) NEWLINE\n", stdin="5\n", expected=""),
)
CTD_ACCEPT, CTD_REJECT = 0, 1


def _checktestdata_modules() -> list[tuple[str, bytes, int]]:
    """The checktestdata package's own modules, as files for the box's working directory."""
    spec = importlib.util.find_spec("checktestdata")
    if spec is None or not spec.submodule_search_locations:
        raise ValidatorBuildError(
            "PyPI's checktestdata is not installed with this judge; "
            "`pip install checktestdata` (a dependency) runs .ctd validators"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    return [(f"checktestdata/{p.name}", p.read_bytes(), 0o644) for p in sorted(folder.glob("*.py"))]


def checktestdata_validator(program: model.Program, *, image: Image | None = None) -> ValidatorProgram:
    """A .ctd input validator, ready for boxes: the script and the checktestdata modules beside it."""
    try:
        script = program.path.read_bytes()
    except OSError as e:
        raise ValidatorBuildError(f"input validator {program.path}: cannot be read ({e.strerror})") from None
    lang = CHECKTESTDATA
    files = (("validator.ctd", script, 0o644), *_checktestdata_modules())
    img = image if image is not None else images.get(lang.image)
    return ValidatorProgram(program, execution.Compiled(lang, lang.source_name, files, ""), img)


def compile_validator(
    sb: execution.SandboxLike, program: model.Program, *, image: Image | None = None
) -> ValidatorProgram:
    """Compile the validator once, in the image of its language (or `image`).

    ValidatorBuildError if it cannot be read, its language cannot be told, or it does not compile.
    """
    where = f"output validator {program.path}"
    if program.build_run:
        raise ValidatorBuildError(
            f"{where}: validators with build/run scripts are not supported yet; provide the "
            "validator as one C, C++ or Python program (a file, or a directory of its sources)"
        )
    try:
        source = load(program.path)
        lang = languages.for_submission(source.names, program.language)
        img = image if image is not None else images.get(lang.image)
        # 2025-09: a Python program of several files starts at __main__.py
        main = "__main__.py" if len(source.names) > 1 and "__main__.py" in source.names else None
        compiled = execution.compile_source(sb, lang, source, image=img, main=main)
    except JudgeError as e:
        raise ValidatorBuildError(f"{where}: {e}") from None
    if isinstance(compiled, execution.CompileFailure):
        raise ValidatorBuildError(
            f"{where} does not compile as {lang.name} ({compiled.message}):\n{compiled.output}"
        )
    return ValidatorProgram(program, compiled, img)


# -- Kattis ----------------------------------------------------------------------------------


def run_kattis(
    sb: _Sandbox,
    vp: ValidatorProgram,
    *,
    input: Path | bytes,
    answer: Path | bytes,
    output: bytes | int,
    args: Sequence[str],
    limits: Limits,
    feedback: Mapping[str, bytes] | None = None,
) -> CheckResult:
    """`validator input answer /box/ [args] < output`: 42 accepts, 43 rejects, else judge_error.

    `input` and `answer` are host paths or the bytes themselves (a multi-pass caller's next
    input); `output` is the team's output, or a readable descriptor of it at offset 0.
    `feedback` seeds the feedback directory (a previous pass's `feedback_files`; nextpass.in
    is never seeded, as the spec removes it between passes).
    """
    seeds = {name: data for name, data in (feedback or {}).items() if name != "nextpass.in"}
    for name in seeds:
        if not name or "/" in name or name in (".", "..", JUDGE_DIR):
            raise ValueError(f"feedback file name {name!r}: a plain file name is needed")
    files = {"input": _bytes(input), "answer": _bytes(answer)}
    r, found, refused = _run(
        sb, vp, limits, files, seeds, [INPUT, ANSWER, FEEDBACK_DIR, *args], output, collect=True
    )
    return _kattis_result(vp, r, found, refused)


def _kattis_result(
    vp: ValidatorProgram, r: RunResult, found: dict[str, bytes], refused: str | None
) -> CheckResult:
    kept = tuple(sorted((name, data) for name, data in found.items() if name != "nextpass.in"))
    result = CheckResult(
        accepted=False,
        message=_text(found.get("judgemessage.txt", b"")),
        team_message=_text(found.get("teammessage.txt", b"")),
        feedback_files=kept,
    )
    failed = _failure(vp, r, refused)
    if failed is not None:
        return replace(result, judge_error=failed)
    if r.exit_code == EXIT_WA:
        if "nextpass.in" in found:
            return replace(
                result,
                judge_error=f"{_who(vp)} wrote nextpass.in but rejected (exit code 43); "
                "the spec allows a next pass only with an accept",
            )
        return result  # a score.txt written with a reject is ignored: a rejected test scores 0
    if r.exit_code != EXIT_AC:
        return replace(
            result,
            judge_error=f"{_who(vp)} exited with code {r.exit_code}; 42 accepts, 43 "
            f"rejects, any other code is a judge error{_stderr(r)}",
        )
    # score_multiplier.txt needs the test's maximum score: left to the caller, in feedback_files
    score: float | None = None
    if "score.txt" in found:
        if "score_multiplier.txt" in found:
            return replace(result, judge_error=f"{_who(vp)} wrote both score.txt and score_multiplier.txt")
        score = _number(found["score.txt"])
        if score is None:
            return replace(
                result,
                judge_error=f"{_who(vp)} wrote score.txt without a number in it: "
                f"{_text(found['score.txt'][:100])!r}",
            )
    return replace(result, accepted=True, score=score, next_pass_input=found.get("nextpass.in"))


# -- testlib ---------------------------------------------------------------------------------


def run_testlib(
    sb: _Sandbox,
    vp: ValidatorProgram,
    *,
    input: Path | bytes,
    output: bytes,
    answer: Path | bytes,
    limits: Limits,
) -> CheckResult:
    """`checker input output answer`, testlib's exit codes (module docstring); message from stderr.

    Points (exit code 7) come back as `score`, the number testlib prints after "points" (DMOJ
    reads it as the fraction of the test's points); the test counts as accepted.
    """
    files = {"input": _bytes(input), "output": output, "answer": _bytes(answer)}
    r, _, _ = _run(sb, vp, limits, files, {}, [INPUT, OUTPUT, ANSWER], None, collect=False)
    message = _text(r.stderr).strip()
    result = CheckResult(accepted=False, message=message)
    failed = _failure(vp, r, None)
    if failed is not None:
        return replace(result, judge_error=failed)
    code = r.exit_code
    if code == TESTLIB_OK:
        return replace(result, accepted=True)
    if code in (TESTLIB_WA, TESTLIB_PE, TESTLIB_DIRT, TESTLIB_EOF):
        return result
    if code == TESTLIB_FAIL:
        return replace(result, judge_error=f"{_who(vp)} failed (testlib exit code 3, FAIL){_stderr(r)}")
    if code == TESTLIB_POINTS:
        match = _POINTS.search(message)
        points = _number(match.group(1).encode()) if match else None
        if points is None:
            return replace(
                result,
                judge_error=f"{_who(vp)} exited with code 7 (points) without "
                f'"points N" on stderr{_stderr(r)}',
            )
        return replace(result, accepted=True, score=points)
    return replace(
        result,
        judge_error=f"{_who(vp)} exited with code {code}, which testlib does not "
        f"use (0 ok, 1 wrong answer, 2 presentation error, 3 fail, 7 "
        f"points){_stderr(r)}",
    )


def run_input_validator(
    sb: _Sandbox, vp: ValidatorProgram, *, input: Path, args: Sequence[str], limits: Limits
) -> str | None:
    """`validator [args] < input`: None when it exits 42 (valid), else why the input is not valid.

    A checktestdata script: `python3 -m checktestdata validator.ctd < input`, exit 0 valid, 1 not.
    """
    with open(input, "rb") as f:
        r, _, _ = _run(
            sb, vp, limits, {}, {}, [] if vp.checktestdata else list(args), f.fileno(), collect=False
        )
    if vp.checktestdata:
        if r.exit_code == CTD_ACCEPT:
            return None
        failed = _failure(vp, r, None)
        if failed is None and r.exit_code == CTD_REJECT:
            return f"{_who(vp)} rejects it{_stderr(r)}"
        return (
            failed
            or f"{_who(vp)} failed (exit code {r.exit_code}: the script's fault, not the input's){_stderr(r)}"
        )
    if r.exit_code == EXIT_AC:
        return None
    failed = _failure(vp, r, None)
    return failed or f"{_who(vp)} exited with code {r.exit_code}, not 42{_stderr(r)}"


# -- the box ---------------------------------------------------------------------------------


def _run(
    sb: _Sandbox,
    vp: ValidatorProgram,
    limits: Limits,
    files: Mapping[str, bytes],
    seeds: Mapping[str, bytes],
    args: Sequence[str],
    stdin: bytes | int | None,
    *,
    collect: bool,
) -> tuple[RunResult, dict[str, bytes], str | None]:
    """Run the validator once with `files` in .judge/ and `seeds` in the feedback directory.

    Returns what the box saw and, if `collect`, the regular files left in the feedback
    directory and why a feedback file that matters could not be read (None if all could).
    """
    program = vp.program
    lang = program.language
    lim = lang.run_limits(limits)
    size = (
        sum(len(data) for _, data, _ in program.files)
        + sum(len(d) for d in files.values())
        + sum(len(d) for d in seeds.values())
    )
    # room for what we put and for what the validator may write, in steps so the pool's boxes fit
    lim = replace(lim, tmp_bytes=max(lim.tmp_bytes, _round_up(size + lim.output_bytes, 64 * MiB)))
    argv = expand(
        lang.run, source_name=program.source_name, memory_bytes=limits.memory_bytes, main=program.main
    )
    with sb.box(vp.image, limits=lim) as box:
        for name, data, mode in program.files:
            box.put(f"{PROG_DIR}/{name}", data, mode)
        for name, data in files.items():
            box.put(f"{JUDGE_DIR}/{name}", data, 0o644)
        for name, data in seeds.items():
            box.put(name, data, 0o666)
        r = box.run(
            [*argv, *args], lim, stdin=stdin, env=lang.environment(DEFAULT_ENV), cwd=f"/box/{PROG_DIR}"
        )
        found, refused = _collect(box, lim.output_bytes) if collect else ({}, None)
    return r, found, refused


def _collect(box: _Box, max_bytes: int) -> tuple[dict[str, bytes], str | None]:
    """The regular files of the feedback directory. A special file (judgemessage.txt, ...) that
    is not a regular file or is over `max_bytes` is reported; anything else unreadable (a
    subdirectory, a link) is left out."""
    found: dict[str, bytes] = {}
    refused: str | None = None
    for name in box.listdir():
        if name == JUDGE_DIR:
            continue
        try:
            found[name] = box.get(name, max_bytes)
        except FileRefused as e:
            if name in SPECIAL and refused is None:
                refused = f"cannot read its feedback file {name}: {e}"
    return found, refused


def _failure(vp: ValidatorProgram, r: RunResult, refused: str | None) -> str | None:
    """Why the run says nothing about the output (limits, a signal), or None."""
    if r.status in (RunStatus.TLE, RunStatus.MLE, RunStatus.OLE):
        return f"{_who(vp)} went over its limits: {r.message}{_stderr(r)}"
    if r.signal is not None:
        return f"{_who(vp)} failed: {r.message or 'killed by ' + str(r.signal_name)}{_stderr(r)}"
    if r.exit_code is None:
        return f"{_who(vp)} ended without an exit code: {r.message}"
    if refused is not None:
        return f"{_who(vp)} {refused}"
    return None


def _who(vp: ValidatorProgram) -> str:
    if vp.checktestdata:
        return f"the checktestdata script {vp.name}"
    if any(part.startswith("input") for part in vp.source.path.parts[-3:-1]):
        return f"the input validator {vp.name}"
    return f"the output validator {vp.name}"


def _stderr(r: RunResult) -> str:
    text = _text(r.stderr).strip()
    if not text:
        return ""
    if len(text) > STDERR_SHOWN:
        text = "..." + text[-STDERR_SHOWN:]
    return f"; its stderr:\n{text}"


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _number(data: bytes) -> float | None:
    try:
        value = float(data.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _bytes(source: Path | bytes) -> bytes:
    return source if isinstance(source, bytes) else source.read_bytes()


def _round_up(n: int, step: int) -> int:
    return -(-n // step) * step
