"""Programs in a package: the language of a source file or folder, and validators as Programs.

Reads only. Languages come from judge.languages by extension (DOMjudge's `.bash`, `.p` for
Pascal and `.mjs` included), or a `#!` line for a file without one; a `#!...python2` line means
no language.
A folder is in the language most of its source files are in (headers do not vote); a tie is no
language, with a warning. VIVA and checktestdata validators are recognised and not run.
"""

from __future__ import annotations

import re
from pathlib import Path

from .. import languages
from ..errors import UnknownLanguage
from .files import PackageError, files_under, rel
from .model import Program

HEADERS = {".h", ".hh", ".hpp", ".hxx", ".h++", ".inc"}
STATIC_VALIDATORS = {".viva", ".ctd"}


def language_of_file(p: Path, warnings: list[str], where: str) -> str | None:
    """The judge language id of one source file: its extension, a shebang for scripts."""
    try:
        lang: str | None = languages.by_extension(p.name).id
    except UnknownLanguage:
        lang = None
    line = _first_line(p)
    if lang in ("python3", "pypy3") and re.match(r"^#!.*python2", line):
        warnings.append(f"{where}: a Python 2 program (by its #! line); no language here runs it")
        return None
    if lang is None and line.startswith("#!"):
        if re.match(r"^#!.*python3?\b", line):
            return "python3"
        if re.match(r"^#!.*\b(ba)?sh\b", line):
            return "bash"
    return lang


def _first_line(p: Path) -> str:
    try:
        with open(p, "rb") as f:
            return f.readline(200).decode("utf-8", "replace").strip()
    except OSError:
        return ""


def language_of_files(names: list[Path], warnings: list[str], where: str) -> str | None:
    """The language most source files are in (headers and unknown files do not vote); None on a tie."""
    counts: dict[str, int] = {}
    for p in names:
        if p.suffix in HEADERS:
            continue
        lang = language_of_file(p, [], where)
        if lang is not None:
            counts[lang] = counts.get(lang, 0) + 1
    if not counts:
        return None
    best = max(counts.values())
    top = sorted(k for k, n in counts.items() if n == best)
    if len(top) > 1:
        warnings.append(f"{where}: as many files in {' and '.join(top)}; cannot tell its language")
        return None
    return top[0]


def program(root: Path, p: Path, warnings: list[str]) -> Program:
    """A validator or grader: one file, or a folder (with `build`/`run`, or sources of one language)."""
    where = rel(root, p)
    if p.is_dir():
        if (p / "build").is_file() or (p / "run").is_file():
            return Program(path=p, language=None, build_run=True)
        files = files_under(p)
        if not files:
            raise PackageError(where, "an empty program folder")
        if any(f.suffix in STATIC_VALIDATORS for f in files):
            warnings.append(f"{where}: a VIVA/checktestdata validator; this judge does not run those")
            return Program(path=p, language=None)
        lang = language_of_files(files, warnings, where)
        if lang is None:
            warnings.append(f"{where}: no file of a language this judge knows")
        return Program(path=p, language=lang)
    if p.suffix in STATIC_VALIDATORS:
        warnings.append(f"{where}: a VIVA/checktestdata validator; this judge does not run those")
        return Program(path=p, language=None)
    lang = language_of_file(p, warnings, where)
    if lang is None:
        warnings.append(f"{where}: not a language this judge knows")
    return Program(path=p, language=lang)
