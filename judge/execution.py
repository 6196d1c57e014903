"""One program, compiled if its language compiles, then run once: the engine of `judge run` and `judge exec`.

Imports sandbox/ and the language recipes; knows nothing of problems or verdicts. Grading
will call the same functions per test case.

Theory of operation, in the order it happens:

1. Compile box. A fresh box under the recipe's own compile limits (CPU, wall, memory,
   output): a compiler fed `#include "/dev/random"` or a template bomb is stopped by them
   within seconds. The source goes in under the name the recipe picks (Java: its public
   class). Any outcome but OK is status CE, with the compiler's output.
2. Take the artifacts out. The files the recipe names (`main`, `*.class`) are read through
   the sandbox's safe `get`; a pattern nothing matches is CE (javac given only comments
   succeeds and leaves no class). The compile box is then discarded: the program never runs
   where its compiler ran, so nothing the compiler left behind (or was tricked into
   leaving) reaches the run except those files.
3. Run box. Another fresh box, sized by the user's limits plus the recipe's allowance, gets
   the source and the artifacts, and runs the recipe's argv once with the given stdin and
   arguments.

The result is an Execution: the sandbox's facts, plus CE. The sandbox's own failures
(`SandboxError`, including a compiler or runtime the image lacks: `ExecFailed`) are raised,
never turned into a status here; judge/cli/__init__.py reports them as IE.

`SandboxLike` and `BoxLike` are the parts of sandbox.Sandbox this module uses, so that unit
tests can pass a fake sandbox (httpx's MockTransport idea) and need no root.
"""

from __future__ import annotations

import fnmatch
import os
import threading
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import BinaryIO, Protocol

from sandbox import DEFAULT_ENV, FileRefused, Image, Limits, RunResult, RunStatus, SandboxError

from . import compile_cache, images
from .languages import Language
from .languages.recipe import EntryPointError, entry_point, expand
from .submission import BadSubmission, Source
from .verdict import Status


class BoxLike(Protocol):
    def put(self, rel: str, data: bytes, mode: int = 0o644) -> None: ...
    def get(self, rel: str, max_bytes: int = ...) -> bytes: ...
    def listdir(self, recursive: bool = False) -> list[str]: ...
    def run(
        self,
        argv: Sequence[str],
        limits: Limits,
        *,
        stdin: bytes | int | None = None,
        stdout: int | None = None,
        env: Mapping[str, str] | None = None,
    ) -> RunResult: ...


class SandboxLike(Protocol):
    def box(
        self, image: Image = ..., *, uid: int = ..., limits: Limits | None = None
    ) -> AbstractContextManager[BoxLike]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Execution:
    """What happened to one program. Times in ms and sizes in bytes here; to_json converts."""

    status: Status
    exit_code: int | None = None
    signal: int | None = None
    cpu_time_ms: float = 0.0
    wall_time_ms: float = 0.0
    memory_bytes: int = 0
    stdout: bytes = b""
    stderr: bytes = b""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    message: str = ""
    compile_output: str | None = None  # None: nothing was compiled (`judge exec`)
    language: str | None = None

    @classmethod
    def from_run(
        cls, r: RunResult, *, compile_output: str | None = None, language: str | None = None
    ) -> Execution:
        return cls(
            status=Status(r.status.value),
            exit_code=r.exit_code,
            signal=r.signal,
            cpu_time_ms=r.cpu_time_ms,
            wall_time_ms=r.wall_time_ms,
            memory_bytes=r.memory_bytes,
            stdout=r.stdout,
            stderr=r.stderr,
            stdout_truncated=r.stdout_truncated,
            stderr_truncated=r.stderr_truncated,
            message=r.message,
            compile_output=compile_output,
            language=language,
        )

    def to_json(self) -> dict[str, object]:
        """The contract's fields: seconds, bytes; output as UTF-8 text (undecodable bytes as U+FFFD)."""
        doc: dict[str, object] = {
            "status": self.status.value,
            "exit_code": self.exit_code,
            "signal": self.signal,
            "cpu_time": round(self.cpu_time_ms / 1000, 6),
            "wall_time": round(self.wall_time_ms / 1000, 6),
            "memory": self.memory_bytes,
            "stdout": text(self.stdout),
            "stderr": text(self.stderr),
            "stdout_truncated": self.stdout_truncated,
            "stderr_truncated": self.stderr_truncated,
        }
        if self.compile_output is not None:
            doc["compile_output"] = self.compile_output
        if self.language is not None:
            doc["language"] = self.language
        doc["message"] = self.message
        return doc


@dataclass(frozen=True, slots=True)
class Compiled:
    """A compiled program, ready for a run box: its files and how to run them."""

    language: Language
    source_name: str
    files: tuple[tuple[str, bytes, int], ...]  # (name in /box, content, mode)
    compile_output: str
    main: str | None = None  # what {main} is in the run's argv


@dataclass(frozen=True, slots=True)
class CompileFailure:
    """Compiling did not produce a runnable program; the contestant's outcome, status CE."""

    output: str
    message: str


def text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _compiler_output(r: RunResult, limit: int) -> str:
    out = text(r.stdout) + text(r.stderr)
    if r.stdout_truncated or r.stderr_truncated:
        out += f"\n[compiler output cut at {limit} bytes]\n"
    return out


def layout(
    lang: Language, source: bytes | Source, main: str | None = None
) -> tuple[list[tuple[str, bytes]], str, list[str], str | None]:
    """(files for /box, the entry point, the language's files, what {main} is: None for the stem).

    One file is renamed as the recipe says (Java: after its public class); several keep their
    names and the recipe's rule picks the entry point (recipe.py), or `main` names it.
    """
    if isinstance(source, bytes):
        source = Source.single(lang.source_name, source)
    if len(source.files) == 1:
        data = source.files[0][1]
        entry = lang.source_file(text(data))
        if main is not None and main != source.files[0][0]:
            raise BadSubmission(f"--main {main}: the submission is the one file {source.files[0][0]}")
        files, own = [(entry, data)], [entry]
        texts = {entry: text(data)}
    else:
        files = list(source.files)
        texts = {name: text(data) for name, data in files}
        try:
            entry = entry_point(lang, texts, main)
        except EntryPointError as e:
            raise BadSubmission(f"{source.origin}: {e}") from None
        mine = lang.extensions + lang.also_extensions  # SWI-Prolog's .pl files too
        own = [name for name in texts if any(name.endswith(ext) for ext in mine)]
    run_main = lang.main_name(entry, texts[entry]) if lang.main_name is not None else None
    return files, entry, own, run_main


def compile_source(
    sb: SandboxLike,
    lang: Language,
    source: bytes | Source,
    *,
    image: Image,
    main: str | None = None,
    flags: Sequence[str] = (),
    cache: compile_cache.CompileCache | None = None,
) -> Compiled | CompileFailure:
    """Compile (or check) the source in a box of its own and take out what the run needs.

    `source` is one file's bytes or a Source of one or more files; BadSubmission when the
    entry point of several cannot be told. `flags` (the Judge0 API's compiler_options) go into
    the compiler's command just before the first source file, after the recipe's own options.
    A successful compile is kept in `cache` (else compile_cache.default(), when one is set up)
    and taken from there the next time the same inputs come (judge/compile_cache.py).
    """
    files, entry, own, run_main = layout(lang, source, main)
    if run_main is None and lang.main_required:
        return CompileFailure(
            "",
            f"nothing to start from: no {lang.name} class declares a main method"
            if lang.id in ("java", "kotlin")
            else f"nothing to start from: no {lang.name} file is the main one",
        )
    program_files: list[tuple[str, bytes, int]] = [(name, data, 0o644) for name, data in files]
    if lang.compile is None:
        return Compiled(lang, entry, tuple(program_files), "", run_main)
    lim = lang.compile_limits
    argv = expand(lang.compile, source_name=entry, memory_bytes=lim.memory_bytes, sources=own, main=run_main)
    if flags:
        at = next((i for i, arg in enumerate(argv) if i > 0 and (arg == entry or arg in own)), len(argv))
        argv[at:at] = list(flags)
    env = lang.environment(DEFAULT_ENV)
    cache = cache if cache is not None else compile_cache.default()
    key = None
    if cache is not None and cache.caches(image.key):
        key = compile_cache.compile_key(
            language=lang.id,
            argv=argv,
            limits=lim,
            env=env,
            artifacts=lang.artifacts,
            entry=entry,
            main=run_main,
            image_key=image.key,
            sources=files,
        )
        hit = cache.get(key)
        if hit is not None:
            return Compiled(lang, entry, hit.files, hit.compile_output, run_main)
    with sb.box(image, limits=lim) as box:
        for name, data in files:
            try:
                box.put(name, data, 0o644)
            except FileRefused as e:  # a name no file system takes (a 300-letter public class)
                return CompileFailure("", f"the source cannot be saved: {e}")
        r = box.run(argv, lim, stdin=None, env=env)
        output = _compiler_output(r, lim.output_bytes)
        if r.status is not RunStatus.OK:
            return CompileFailure(output, f"compiling failed: {r.message}")
        try:  # what the compiler left is the submission's: too many files or levels is CE, not IE
            present = box.listdir(recursive=True)
            sent = {name for name, _ in files}
            for pattern, mode in lang.artifacts:
                found = fnmatch.filter(present, pattern)
                if not found:
                    return CompileFailure(output, f"compiling left no file matching {pattern}")
                program_files += [(f, box.get(f), mode) for f in sorted(found) if f not in sent]
        except FileRefused as e:
            return CompileFailure(output, f"the compiled files cannot be taken out: {e}")
    if key is not None and cache is not None:
        cache.put(key, program_files, output)
    return Compiled(lang, entry, tuple(program_files), output, run_main)


def run_program(
    sb: SandboxLike,
    program: Compiled,
    limits: Limits,
    *,
    image: Image,
    stdin: bytes | int | None = None,
    args: Sequence[str] = (),
    stdout_to: BinaryIO | None = None,
) -> Execution:
    """Run a compiled program once in a fresh box; `limits` are the user's, before the allowance.

    `stdout_to`: a file that takes the program's stdout (cut at the output limit, as the box
    cuts it) instead of memory; the Execution's `stdout` is then empty. Grading passes one, so
    that a 64 MiB output is never a 64 MiB bytes object (and its copy) in the worker.
    """
    lang = program.language
    lim = lang.run_limits(limits)
    argv = expand(
        lang.run, source_name=program.source_name, memory_bytes=limits.memory_bytes, main=program.main
    )
    env = lang.environment(DEFAULT_ENV)
    with sb.box(image, limits=lim) as box:
        for name, data, mode in program.files:
            box.put(name, data, mode)
        if stdout_to is None:
            r = box.run([*argv, *args], lim, stdin=stdin, env=env)
        else:
            r = _run_spooled(box, [*argv, *args], lim, stdin, env, stdout_to)
    return Execution.from_run(r, compile_output=program.compile_output, language=lang.id)


SPOOL_READ = 64 * 1024
SPOOL_GRACE_S = 10.0  # how long the copy may go on once the box is gone (it never should)


def _run_spooled(
    box: BoxLike,
    argv: list[str],
    lim: Limits,
    stdin: bytes | int | None,
    env: Mapping[str, str],
    into: BinaryIO,
) -> RunResult:
    """box.run with stdout on a pipe that a thread copies into `into`, up to the output limit.

    What is over the limit is read and dropped, so the program runs on, and the run is OLE
    unless something the box ranks higher (TLE) ended it: the box's own rule for its capture
    (sandbox/box.py `_judge_facts`). Limits that kill at the output limit (DMOJ) need the box's
    own capture: the caller does not spool those.
    """
    r_fd, w_fd = os.pipe2(os.O_CLOEXEC)
    seen = [0]
    failed: list[OSError] = []

    def copy() -> None:
        room = lim.output_bytes
        while chunk := os.read(r_fd, SPOOL_READ):
            seen[0] += len(chunk)
            if room > 0 and not failed:
                try:
                    into.write(chunk[:room])
                except OSError as e:  # the disk is full: IE, never the program's fault
                    failed.append(e)
                room -= len(chunk)

    thread = threading.Thread(target=copy, name="judge-stdout", daemon=True)
    thread.start()
    try:
        r = box.run(argv, lim, stdin=stdin, stdout=w_fd, env=env)
    finally:
        os.close(w_fd)  # the box's copies are gone with it: the thread now reads to the end
        thread.join(SPOOL_GRACE_S)
    if thread.is_alive():
        raise SandboxError("the program's stdout stayed open after its box was gone")
    os.close(r_fd)
    if failed:
        raise failed[0]
    into.flush()
    if seen[0] <= lim.output_bytes:
        return r
    r = replace(r, stdout_truncated=True)
    if r.status is RunStatus.TLE:
        return r
    return replace(r, status=RunStatus.OLE, message=f"output over the limit of {lim.output_bytes} bytes")


def run_source(
    sb: SandboxLike,
    lang: Language,
    source: bytes | Source,
    limits: Limits,
    *,
    image: Image | None = None,
    stdin: bytes | int | None = None,
    args: Sequence[str] = (),
    main: str | None = None,
) -> Execution:
    """`judge run`: compile if the language compiles, then run once. CE is a status, not an error."""
    img = image if image is not None else images.get(lang.image)
    compiled = compile_source(sb, lang, source, image=img, main=main)
    if isinstance(compiled, CompileFailure):
        return Execution(
            status=Status.CE, compile_output=compiled.output, message=compiled.message, language=lang.id
        )
    return run_program(sb, compiled, limits, image=img, stdin=stdin, args=args)


def run_command(
    sb: SandboxLike, argv: Sequence[str], limits: Limits, *, image: Image, stdin: bytes | int | None = None
) -> Execution:
    """`judge exec`: run argv as it is in a fresh box of `image`."""
    env = {**DEFAULT_ENV, **dict(v.split("=", 1) for v in image.env if "=" in v)}
    with sb.box(image, limits=limits) as box:
        r = box.run(list(argv), limits, stdin=stdin, env=env)
    return Execution.from_run(r)
