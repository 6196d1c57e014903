"""Each language checked in real boxes: its toolchain's version and its self-test (DMOJ's idea).

`judge languages` prints these reports, and a worker will refuse a language whose self-test
fails. The version comes from running the recipe's version command in a box of the
language's image (not on the host: the box is what programs get); the self-test compiles and
runs the recipe's tiny program through the very path a submission takes
(judge/execution.py) and compares its output exactly, then, for a recipe that has one, a
program that must fail at run time, and checks it is RTE with the exit code the recipe says.

A report never raises for the language's sake: a missing toolchain, a crash, a wrong answer
or a broken box all become the report's text, so one bad language does not hide the others.
Languages are checked in parallel, two per CPU at a time: boxes are independent, and the
JVMs' compiles dominate the wall time.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sandbox import Limits, MiB, RunStatus, SandboxError

from . import images
from .errors import JudgeError
from .execution import SandboxLike, run_source, text
from .languages import Language
from .verdict import Status

OK = "ok"
PROBE_LIMITS = Limits(cpu_time_ms=5_000, wall_time_ms=10_000, memory_bytes=512 * MiB, output_bytes=64 * 1024)
# The wall time is generous: a self-test proves the toolchain works, not that it is fast, and a
# JVM's start on a machine loaded sixteen-fold (as here, with others' tests) took over 10 s.
SELF_TEST_LIMITS = Limits(cpu_time_ms=5_000, wall_time_ms=30_000, memory_bytes=256 * MiB)


@dataclass(frozen=True, slots=True)
class LanguageReport:
    language: Language
    version: str  # the probe's first line, or "unavailable: why"
    self_test: str  # "ok", or what went wrong

    @property
    def ok(self) -> bool:
        return self.self_test == OK

    def to_json(self) -> dict[str, object]:
        """The contract's fields (id, name, version, image, extensions, self_test; docs/contracts.md) and
        the recipe's limits."""
        lang = self.language
        lim = lang.compile_limits
        return {
            "id": lang.id,
            "name": lang.name,
            "version": self.version,
            "image": lang.image,
            "extensions": list(lang.extensions),
            "self_test": self.self_test,
            "extra_time": lang.extra_time_ms / 1000,
            "extra_memory": lang.extra_memory_bytes,
            "compile": list(lang.compile) if lang.compile is not None else None,
            "compile_source": lang.compile_source or None,
            "run": list(lang.run),
            "compile_limits": {
                "time": lim.cpu_time_ms / 1000,
                "wall_time": lim.wall_time_ms / 1000,
                "memory": lim.memory_bytes,
                "output": lim.output_bytes,
            },
        }


def version(sb: SandboxLike, lang: Language) -> str:
    """The first non-empty line the version command prints, on stdout or else stderr."""
    try:
        with sb.box(images.get(lang.image), limits=PROBE_LIMITS) as box:
            r = box.run(list(lang.version), PROBE_LIMITS, stdin=None)
    except (SandboxError, JudgeError) as e:
        return f"unavailable: {e}"
    if r.status is not RunStatus.OK:
        return f"unavailable: {' '.join(lang.version)}: {r.status} ({r.message})"
    for line in (text(r.stdout) + "\n" + text(r.stderr)).splitlines():
        if line.strip():
            return line.strip()
    return "unavailable: the version command printed nothing"


def self_test(sb: SandboxLike, lang: Language) -> str:
    """ "ok" when the self-test program prints exactly what it should, else what happened."""
    test = lang.self_test
    try:
        r = run_source(sb, lang, test.source.encode(), SELF_TEST_LIMITS, stdin=test.stdin.encode())
    except (SandboxError, JudgeError) as e:
        return f"IE: {e}"
    if r.status is Status.CE:
        return f"CE: {r.message}: {_first_lines(r.compile_output or '')}"
    if r.status is not Status.OK:
        return f"{r.status}: {r.message}: {_first_lines(text(r.stderr))}".rstrip(": ")
    if text(r.stdout) != test.expected:
        return f"wrong output: expected {test.expected!r}, got {_first_lines(text(r.stdout))!r}"
    if test.error_source:
        return _failing(sb, lang)
    return OK


def _failing(sb: SandboxLike, lang: Language) -> str:
    """ "ok" when the recipe's failing program ends RTE with its exit code: a runtime error is
    reported as the program's, with the code the runtime gives, not as a crash of the judge."""
    test = lang.self_test
    try:
        r = run_source(sb, lang, test.error_source.encode(), SELF_TEST_LIMITS, stdin=b"")
    except (SandboxError, JudgeError) as e:
        return f"IE (the failing program): {e}"
    if r.status is Status.CE:
        return f"the failing program is CE: {r.message}: {_first_lines(r.compile_output or '')}"
    if (r.status, r.exit_code) != (Status.RTE, test.error_exit):
        got = f"{r.status}, exit code {r.exit_code}" + (f", signal {r.signal}" if r.signal else "")
        return f"the failing program should be RTE with exit code {test.error_exit}; got {got}"
    return OK


def _first_lines(s: str, lines: int = 3, chars: int = 300) -> str:
    return " | ".join(s.strip().splitlines()[:lines])[:chars]


def check(sb: SandboxLike, lang: Language) -> LanguageReport:
    return LanguageReport(lang, version(sb, lang), self_test(sb, lang))


def without_images(languages: Sequence[Language]) -> dict[str, str]:
    """The languages whose image is not here (neither built nor imported), each with why and the fix:
    a machine that built only some images (`judge images build --languages ...`) offers only those."""
    here = set(images.names())
    return {
        lang.id: f"its image {lang.image!r} is not here: `judge images build --languages {lang.id}`"
        for lang in languages
        if lang.image not in here
    }


def check_all(sb: SandboxLike, languages: Sequence[Language]) -> list[LanguageReport]:
    """Reports in the order given, the languages checked in parallel, two per CPU at a time: forty
    compilers at once on two cores would spend their wall-time limits waiting for a core."""
    workers = max(1, min(len(languages), 2 * (os.cpu_count() or 1)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda lang: check(sb, lang), languages))
