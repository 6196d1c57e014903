"""What a language is to the judge: a small declarative recipe with a self-test (DMOJ's idea).

A recipe says where the source goes in the box, how to compile it (or only check it), which
files the compiler leaves that the run needs, how to run the result, how to ask the
toolchain its version, and a tiny program that must echo the expected answer in a real box
before anyone trusts the language. Recipes are data; the one piece of code a language may
bring is `name_source`, for a language whose file name depends on the source (Java's
public class).

Argument vectors may hold these placeholders, filled in when a box is about to run them:
`{source}` the entry point's file name in the box (`Main.java`), `{stem}` the same without
its extension (`Main`), `{sources}` every submitted file of the language, the entry point
first (it becomes several arguments; for compilers that take them all, like gcc or javac),
`{main}` what the runtime is told to start (Java's main class; the stem for the others), and
`{memory_mib}` the user's memory limit in MiB, before any allowance (for a runtime that must
be told its heap size, like the JVM's `-Xmx`).

Several files. A submission may be a folder or a zip (judge/submission.py); its files keep
their names and paths in /box. The entry point is the file the user names (`--main`), else
the only file of the language, else the one called main (`main.py`, `Main.java`), else the
only one whose text matches the recipe's `main_pattern` (a C `main(`, a Python `if __name__
== "__main__"`); anything else is refused, naming the candidates. One file alone is
renamed to the recipe's `source_name` (or `name_source`'s answer), as it always was.

Environment: every box gets the sandbox's PATH, HOME=/box and LANG. A recipe's `env` names
variables its compile and run boxes need besides (Go's GOMAXPROCS); `environment()` lays
them over the sandbox's defaults.

Limits: compiling runs in a box of its own under `compile_limits` (so that `#include
"/dev/random"` or a template bomb ends promptly as a compile error); the run gets the user's
limits plus the recipe's `extra_time_ms` and `extra_memory_bytes`, which are written here,
shown by `judge languages`, and kept small: they pay for a runtime's own start and
bookkeeping, not for a slower language.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox import Limits, MiB

KiB = 1024

# Enough for `#include <bits/stdc++.h>` at -O2 (about 1.5 s and 190 MiB here) with room to spare,
# small enough that a compiler bomb ends within seconds; the output cap bounds error floods.
DEFAULT_COMPILE_LIMITS = Limits(
    cpu_time_ms=10_000,
    wall_time_ms=20_000,
    memory_bytes=512 * MiB,
    output_bytes=256 * KiB,
    processes=64,
)


def compile_limits(**changes: Any) -> Limits:
    """DEFAULT_COMPILE_LIMITS with some fields changed, e.g. compile_limits(memory_bytes=...)."""
    return dataclasses.replace(DEFAULT_COMPILE_LIMITS, **changes)


@dataclass(frozen=True, slots=True, kw_only=True)
class SelfTest:
    """A program that must print `expected` for `stdin`, in a real box, for the language to be trusted;
    and, when given, one that must fail at run time (RTE) with exit code `error_exit`."""

    source: str
    stdin: str
    expected: str
    error_source: str = ""
    error_exit: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Language:
    """One language on one image: a recipe, no behaviour beyond filling in its argv."""

    id: str  # what --lang and the API take; stable, lower case
    name: str  # shown to people
    extensions: tuple[str, ...]  # with the dot; the first is the usual one
    source_name: str  # the source's file name in the box, unless name_source says otherwise
    compile: tuple[str, ...] | None  # None: nothing to compile or check
    run: tuple[str, ...]
    version: tuple[str, ...]  # prints the toolchain's version on its first line (stdout or stderr)
    self_test: SelfTest
    artifacts: tuple[tuple[str, int], ...] = ()  # (glob, mode) of files the run needs from the compile box
    env: tuple[tuple[str, str], ...] = ()  # (name, value) added to the compile and the run box's environment
    image: str = "host"
    compile_limits: Limits = DEFAULT_COMPILE_LIMITS
    extra_time_ms: int = 0  # added to the CPU and the wall time limit of every run
    extra_memory_bytes: int = 0  # added to the memory limit of every run
    name_source: Callable[[str], str] | None = field(default=None, compare=False)
    main_pattern: str | None = None  # a regex (MULTILINE) that only an entry point's text matches
    main_name: Callable[[str, str], str | None] | None = field(default=None, compare=False)
    # (entry file name, its text) -> what {main} is; None: the entry's stem
    main_required: bool = False  # main_name must find one, else the submission is CE (Java: no main class)
    compile_source: str = ""  # where the compile command's flags come from; shown by `judge languages`
    also_extensions: tuple[str, ...] = ()  # files of the language once it is known, never used to find it
    # (SWI-Prolog's `.pl`, which by itself means Perl)

    def __post_init__(self) -> None:
        if not self.extensions or not all(e.startswith(".") for e in self.extensions):
            raise ValueError(f"language {self.id}: extensions must start with a dot: {self.extensions}")
        if self.extra_time_ms < 0 or self.extra_memory_bytes < 0:
            raise ValueError(f"language {self.id}: allowances cannot be negative")
        for name, _ in self.env:
            if not name or "=" in name or "\0" in name:
                raise ValueError(f"language {self.id}: {name!r} cannot be an environment variable's name")

    def environment(self, base: Mapping[str, str]) -> dict[str, str]:
        """`base` (the sandbox's default environment) with this recipe's variables added or replaced."""
        return {**base, **dict(self.env)}

    def source_file(self, source: str) -> str:
        """The file name the source must have in the box."""
        return self.name_source(source) if self.name_source is not None else self.source_name

    def run_limits(self, user: Limits) -> Limits:
        """The user's limits plus this language's allowance: what the run box enforces."""
        return dataclasses.replace(
            user,
            cpu_time_ms=user.cpu_time_ms + self.extra_time_ms,
            wall_time_ms=user.wall_time_ms + self.extra_time_ms,
            memory_bytes=user.memory_bytes + self.extra_memory_bytes,
        )


class EntryPointError(ValueError):
    """The entry point of a submission of several files cannot be told; the message says why."""


def stem_of(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0] if "." in base else base


def entry_point(lang: Language, files: Mapping[str, str], given: str | None = None) -> str:
    """Which of `files` (name -> text) the program starts from, by the rule in this module's docstring."""
    if given is not None:
        if given not in files:
            listed = ", ".join(files)
            raise EntryPointError(f"--main {given}: no such file in the submission; files: {listed}")
        return given
    mine = lang.extensions + lang.also_extensions
    own = [name for name in files if any(name.endswith(ext) for ext in mine)]
    if not own:
        raise EntryPointError(f"no {lang.name} file ({', '.join(lang.extensions)}) among: {', '.join(files)}")
    if len(own) == 1:
        return own[0]
    named_main = [name for name in own if "/" not in name and stem_of(name).lower() == "main"]
    if len(named_main) == 1:
        return named_main[0]
    if lang.main_pattern is not None:
        pattern = re.compile(lang.main_pattern, re.MULTILINE)
        marked = [name for name in own if pattern.search(files[name])]
        if len(marked) == 1:
            return marked[0]
        if marked:
            own = marked

    # the one file no other file imports (on a line with import, from, require, use, mod or include)
    def imported(name: str) -> bool:
        pattern = re.compile(rf"\b(import|from|require|use|mod|include)\b.*\b{re.escape(stem_of(name))}\b")
        return any(pattern.search(files[other]) for other in own if other != name)

    unused = [name for name in own if not imported(name)]
    if len(unused) == 1:
        return unused[0]
    raise EntryPointError(f"cannot tell which of {', '.join(own)} is the entry point; name it with --main")


def expand(
    argv: Sequence[str],
    *,
    source_name: str,
    memory_bytes: int,
    sources: Sequence[str] = (),
    main: str | None = None,
) -> list[str]:
    """Fill in {source}, {stem}, {sources}, {main} and {memory_mib}; other text is left alone."""
    stem = stem_of(source_name)
    values = {
        "{source}": source_name,
        "{stem}": stem,
        "{main}": main or stem,
        "{memory_mib}": str(max(1, memory_bytes // MiB)),
    }
    all_sources = [source_name, *(s for s in sources if s != source_name)]
    out: list[str] = []
    for arg in argv:
        if arg == "{sources}":
            out += all_sources
            continue
        for key, value in values.items():
            arg = arg.replace(key, value)
        out.append(arg)
    return out
