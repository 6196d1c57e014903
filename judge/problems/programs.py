"""Programs in a package: the language of a source file or folder, and validators as Programs.

Reads only. Languages come from judge.languages by extension, whose recipes carry every
extension problemtools' `languages.yaml` and DOMjudge's default languages give a language we
have (`.py3`, `.C`, `.csharp`, `.lhs`, `.p`, ...), or a `#!` line for a file without one; a
`#!...python2` line or `.py2` means Python 2, which nothing here runs. A file of a language we
do not have is told by FOREIGN (the rest of those two tables), so that a submission left
unjudged says why (`no_language_reason`). A folder is in the language most of its source files
are in (headers do not vote); a tie is no language, with a warning.

Validators: checktestdata (`.ctd`) ones are Programs of kind "checktestdata", run by
judge/checkers/validator.py with PyPI's checktestdata (the implementation problemtools uses);
VIVA (`.viva`) ones are recognised and not run: VIVA is a Java program that nothing here ships.
"""

from __future__ import annotations

import re
from pathlib import Path

from .. import languages
from ..errors import UnknownLanguage
from .files import PackageError, files_under, rel
from .model import Program

HEADERS = {".h", ".hh", ".hpp", ".hxx", ".h++", ".inc"}
CHECKTESTDATA, VIVA = ".ctd", ".viva"

# Extensions of languages this judge does not have, from problemtools' languages.yaml
# (Kattis/problemtools problemtools/config/languages.yaml) and DOMjudge's default languages
# (webapp/src/DataFixtures/DefaultData/LanguageFixture.php), and a few more seen in packages.
# What issue 22 added (Scala, Ada, AWK, Fortran, OCaml, Perl, Prolog, R, COBOL, Common Lisp,
# Objective-C, Brainfuck, NASM) left this table: those files are judged now.
FOREIGN: dict[str, str] = {
    ".py2": "Python 2",
    ".swift": "Swift",
    ".fs": "F#",
    ".ads": "Ada (a package specification)",
    ".vb": "Visual Basic",
    ".bas": "BASIC",
    ".s": "assembly (GNU as)",
}


def no_language_reason(p: Path) -> str:
    """Why `p` (a file or a folder) has no judge language: what it is written in, as far as known."""
    if p.is_dir():
        files = [f for f in files_under(p) if f.suffix not in HEADERS]
        langs = sorted({lang for f in files if (lang := language_of_file(f, [], "")) is not None})
        if len(langs) > 1:
            return f"as many files in {' and '.join(langs)}; name its language in submissions.json"
        foreign: dict[str, list[str]] = {}
        for f in files:
            if f.suffix in FOREIGN:
                foreign.setdefault(FOREIGN[f.suffix], []).append(f.name)
        if foreign:
            return "; ".join(
                f"{lang} ({', '.join(names)}), which this judge does not have"
                for lang, names in sorted(foreign.items())
            )
        names = ", ".join(f.name for f in files[:5]) + (", ..." if len(files) > 5 else "")
        return f"no file in a language this judge knows ({names or 'no source files'})"
    line = _first_line(p)
    if p.suffix == ".py2" or (p.suffix == ".py" and re.match(r"^#!.*python2", line)):
        how = "its .py2 extension" if p.suffix == ".py2" else "its #! line"
        return f"{p.name}: Python 2 (by {how}); no language here runs Python 2"
    if p.suffix in FOREIGN:
        return f"{p.name}: {FOREIGN[p.suffix]} (by its extension); this judge has no such language"
    what = f"extension {p.suffix!r}" if p.suffix else "no extension and no #! line"
    return f"{p.name}: {what}, which no language here (or in problemtools' and DOMjudge's tables) has"


def language_of_file(p: Path, warnings: list[str], where: str) -> str | None:
    """The judge language id of one source file: its extension, a shebang for scripts."""
    try:
        lang: str | None = languages.by_extension(p.name).id
    except UnknownLanguage:
        lang = None
    line = _first_line(p)
    if lang == "perl" and _looks_like_prolog(p):  # `.pl` is Perl in DOMjudge, Prolog in problemtools
        return "swi-prolog"
    if lang in ("python3", "pypy3") and re.match(r"^#!.*python2", line):
        warnings.append(f"{where}: a Python 2 program (by its #! line); no language here runs it")
        return None
    if lang is None and line.startswith("#!"):
        if re.match(r"^#!.*python3?\b", line):
            return "python3"
        if re.match(r"^#!.*\b(ba)?sh\b", line):
            return "bash"
    return lang


_PROLOG_CLAUSE = re.compile(r"^(?:[a-z]\w*(?:\(.*\))?\s*)?:-", re.MULTILINE)  # `main :-`, `:- use_module(..)`


def _looks_like_prolog(p: Path) -> bool:
    """A Prolog rule or directive (`head :- body`) somewhere in the file: never valid Perl."""
    if not p.is_file():
        return False
    try:
        with open(p, "rb") as f:
            text = f.read(256 * 1024).decode("utf-8", "replace")
    except OSError:
        return False
    return _PROLOG_CLAUSE.search(text) is not None


def _first_line(p: Path) -> str:
    if not p.is_file():  # a FIFO would block the open; a folder has no first line
        return ""
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
        ctd = [f for f in files if f.suffix == CHECKTESTDATA]
        if len(ctd) == 1:
            return Program(path=ctd[0], language=None, kind="checktestdata")
        if any(f.suffix in (VIVA, CHECKTESTDATA) for f in files):
            warnings.append(f"{where}: a VIVA validator (or several .ctd files); not run here")
            return Program(path=p, language=None)
        lang = language_of_files(files, warnings, where)
        if lang is None:
            warnings.append(f"{where}: no file of a language this judge knows")
        return Program(path=p, language=lang)
    if p.suffix == CHECKTESTDATA:
        return Program(path=p, language=None, kind="checktestdata")
    if p.suffix == VIVA:
        warnings.append(
            f"{where}: a VIVA validator; this judge does not run VIVA (a Java program it does "
            "not ship), so these inputs are not checked by it"
        )
        return Program(path=p, language=None)
    lang = language_of_file(p, warnings, where)
    if lang is None:
        warnings.append(f"{where}: not a language this judge knows ({no_language_reason(p)})")
    return Program(path=p, language=lang)
