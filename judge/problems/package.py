"""Load a problem package into the model (judge/problems/model.py): Kattis/ICPC, DOMjudge, DMOJ.

Reads only; never runs anything and never writes into the package. A zip (`.zip`, `.kpp`) is
unpacked first into `workdir` or a fresh private directory, which the caller then owns: the
Problem's paths point into it.

Formats (`problem_format_version` in problem.yaml): `legacy`/`legacy-icpc` (the default; what
problemtools and DOMjudge read), `2023-07-draft` and `2025-09` (the Kattis spec of each name,
github.com/Kattis/problem-package-format `spec/`). DOMjudge's additions are read in every one:
`.timelimit`, `domjudge-problem.ini`, `@EXPECTED_RESULTS@:` markers and `submissions.json`. A
folder with `init.yml` and no problem.yaml is a DMOJ problem (judge/problems/dmoj.py); one
with only `domjudge-problem.ini` is read as legacy, as DOMjudge's importer does.

Decisions, each where the specs leave room or real packages disagree with them:

* Unknown keys in problem.yaml and test_group.yaml are errors in 2025-09 (the spec: "Any unknown
  keys should be treated as an error"); in legacy and 2023-07-draft they are warnings, because
  real packages carry extras (DOMjudge's `validation_passes` in a legacy file, drafts that moved).
* The time limit is, in order: 2025-09 `limits.time_limit`, DOMjudge `.timelimit`,
  `domjudge-problem.ini` `timelimit`, else None: grading computes it from the accepted
  submissions (`Limits.time_limit_source` says which).
* Test data: a case is `X.in`; `X.ans` must sit beside it except in interactive problems. An
  `.interaction` file without `.in` is an illustration for the statement, not a judged case
  (legacy spec: "Additional sample interaction protocols may be defined by creating an
  .interaction file without corresponding .in and .ans files"). An `.ans` without `.in` is a
  warning (an error in 2025-09: "If the test case does not exist, then the other files must not
  exist"). Case file names must match the spec's regex: an error in legacy and 2023-07 ("must
  match"); in 2025-09 a name that does not is ignored with a warning (the spec: the system
  "shall behave as if all such files and directories were removed").
* testdata.yaml is inherited key by key down the tree, as problemtools does (the spec says the
  closest file wins whole; problemtools merges, and packages are written against it).
  2025-09 reads test_group.yaml only (testdata.yaml there is a warning, ignored); 2023-07-draft
  reads both, and scores by testdata.yaml when the package has one (problemtools' oddecho does).
  A 2025-09 scoring group maps onto Grading: `pass-fail` is aggregation "min" with accept_score
  = max_score; `sum` gives each of its N cases max_score/N.
* Output validator: `output_validators/<one program>` or `output_validator/` in any format
  (DOMjudge's legacy multi-pass examples use the singular); `output_validator/` holding one
  folder and nothing else is that folder (older 2023-07 drafts, problemtools' guess).
* Languages come from judge.languages by extension, plus DOMjudge's `.bash`, `.p` (Pascal)
  and `.mjs` that the registry does not claim; a `#!...python2` line means no language.
* Submissions: the folder gives the verdicts (`slow_accepted` is AC or TLE: problemtools
  judges it against a longer limit; `partially_accepted` is AC and verify checks the score is
  below the best; `no_output` is WA as DOMjudge's NO-OUTPUT). An `@EXPECTED_RESULTS@:` marker
  replaces the folder's verdicts, as in DOMjudge; `submissions.json` replaces both. `*.disabled`
  and names starting with "." are not submissions (BAPCtools; the 2025-09 rule on dot files).
* Symbolic links are fine while their target stays inside the package (every spec says so);
  a link leaving it is a PackageError wherever it is. A test-data or submission file whose whole
  content is the relative path of another file of the package (no newline) is a link that git
  wrote as text, and is followed with a warning (follow_text_link).

Theory of the zip check: entries are checked before anything is written (`..`, absolute
names, links, special files, count), and the uncompressed size is counted while reading, so a
zip that lies about its sizes still stops at 1 GiB.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from .. import languages
from ..errors import JudgeError, UnknownLanguage
from .model import Grading, Limits, Problem, Program, Submission, TestCase, TestGroup, Verdict

MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_BYTES = 1 << 30  # uncompressed, counted while reading
MAX_MARKER_SCAN_BYTES = 4 << 20  # @EXPECTED_RESULTS@ is looked for in this much of each file


class PackageError(JudgeError):
    """The package is broken; the message names the file (relative to the package) and the fault."""

    def __init__(self, where: str, fault: str) -> None:
        super().__init__(f"{where}: {fault}")
        self.where = where
        self.fault = fault


def load(path: Path, *, workdir: Path | None = None) -> Problem:
    """The problem in a package directory, or in a `.zip`/`.kpp` unpacked into `workdir`.

    `workdir` must be empty or absent; without it a fresh tempfile.mkdtemp directory is used
    (and removed again if the package turns out broken). Raises PackageError.
    """
    path = Path(path)
    if path.is_dir():
        return _load_dir(path.resolve(), path.resolve().name)
    if path.is_file() and path.suffix.lower() in (".zip", ".kpp"):
        made = workdir is None
        dest = Path(tempfile.mkdtemp(prefix="judge-package-")) if workdir is None else Path(workdir)
        if not made:
            dest.mkdir(parents=True, exist_ok=True)
            if any(dest.iterdir()):
                raise JudgeError(f"{dest} is not empty; unpack a package into an empty directory")
        try:
            root = unpack_zip(path, dest)
            return _load_dir(root.resolve(), path.stem)
        except BaseException:
            if made:
                shutil.rmtree(dest, ignore_errors=True)
            raise
    if not path.exists():
        raise PackageError(path.name, f"no such file or directory ({path})")
    raise PackageError(path.name, "not a package: give a directory, a .zip or a .kpp file")


def _load_dir(root: Path, pid: str) -> Problem:
    check_links(root)
    if (root / "problem.yaml").is_file() or (root / "domjudge-problem.ini").is_file():
        return _Kattis(root, pid).load()
    if (root / "init.yml").is_file():
        from . import dmoj  # here, not at the top: dmoj.py imports this module's helpers

        return dmoj.load(root, pid)
    raise PackageError("problem.yaml", "missing: a package needs problem.yaml (Kattis/ICPC, DOMjudge) "
                       "or init.yml (DMOJ) at its top")


# ---------------------------------------------------------------------------------------------
# Files: zips, links, YAML


def unpack_zip(zpath: Path, dest: Path) -> Path:
    """Unpack a zip into `dest` after checking every entry; the package's top folder.

    A zip may hold the package at its top or inside one top folder.
    """
    label = zpath.name
    try:
        zf = zipfile.ZipFile(zpath)
    except (zipfile.BadZipFile, OSError) as e:
        raise PackageError(label, f"not a readable zip file ({e})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise PackageError(label, f"{len(infos)} entries, more than {MAX_ZIP_ENTRIES}: "
                               "refusing what looks like a zip bomb")
        for info in infos:
            _check_zip_entry(label, info)
        total = 0
        for info in infos:
            parts = _zip_parts(info.filename)
            target = dest.joinpath(*parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "xb") as out:
                    while chunk := src.read(1 << 20):
                        total += len(chunk)
                        if total > MAX_ZIP_BYTES:
                            raise PackageError(label, "more than 1 GiB uncompressed: refusing what "
                                               "looks like a zip bomb")
                        out.write(chunk)
            except FileExistsError:
                raise PackageError(f"{label}:{info.filename}", "a second entry of the same name") from None
            except (zipfile.BadZipFile, OSError, EOFError) as e:
                raise PackageError(f"{label}:{info.filename}", f"cannot be unpacked ({e})") from None
            if (info.external_attr >> 16) & 0o111:
                target.chmod(0o755)
    return _package_top(dest)


def _zip_parts(name: str) -> list[str]:
    return [p for p in re.split(r"[/\\]", name) if p not in ("", ".")]


def _check_zip_entry(label: str, info: zipfile.ZipInfo) -> None:
    name = info.filename
    where = f"{label}:{name}"
    parts = _zip_parts(name)
    if (name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts or not parts
            or "\0" in name):
        raise PackageError(where, "a zip entry escaping its folder (absolute, or with '..')")
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        raise PackageError(where, "a symlink entry; a zipped package must hold plain files and folders")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise PackageError(where, "a special file entry (device, fifo or socket)")


def _package_top(dest: Path) -> Path:
    markers = ("problem.yaml", "init.yml", "domjudge-problem.ini")
    if any((dest / m).is_file() for m in markers):
        return dest
    entries = [e for e in dest.iterdir() if not e.name.startswith(".") and e.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return dest


def check_links(root: Path) -> None:
    """Raise PackageError for a symbolic link anywhere under `root` whose target leaves it."""
    real_root = Path(os.path.realpath(root))
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            if not p.is_symlink():
                continue
            target = Path(os.path.realpath(p))
            if not target.is_relative_to(real_root):
                raise PackageError(rel(root, p), f"a symlink to {os.readlink(p)}, which leaves the package")


LINK_TEXT = re.compile(rb"[A-Za-z0-9_.+-]+(?:/[A-Za-z0-9_.+-]+)*")


def follow_text_link(root: Path, p: Path, warnings: list[str]) -> Path:
    """`p`, or the file it names when it is a symbolic link stored as a text file.

    Git writes a link as a small file holding the target's path (no newline) where links are
    off, and some copies of packages (the conformance corpus among them) keep that form. A file
    is read as such a link only when its whole content is a relative path without a newline
    and that path names another file inside the package; a warning says so.
    """
    target = p
    for _ in range(8):  # a chain of links, as the kernel would follow (but shorter)
        try:
            if target.is_symlink() or not target.is_file() or target.stat().st_size > 1024:
                break
            text = target.read_bytes()
        except OSError:
            break
        if not LINK_TEXT.fullmatch(text):
            break
        nxt = Path(os.path.normpath(target.parent / text.decode()))
        if not nxt.is_file() or nxt == target or not Path(os.path.realpath(nxt)).is_relative_to(
                os.path.realpath(root)):
            break
        target = nxt
    if target != p:
        warnings.append(f"{rel(root, p)}: holds only the path {p.read_text().strip()}, as git writes a "
                        f"symlink where links are off; read as a link to {rel(root, target)}")
    return target


def rel(root: Path, p: Path) -> str:
    """`p` relative to the package, with a trailing slash for a folder (as EXPECTED.tsv writes it)."""
    r = p.relative_to(root).as_posix()
    return r + "/" if p.is_dir() else r


def read_yaml(root: Path, p: Path) -> dict[str, Any]:
    """A YAML file that must hold a mapping (an empty file is an empty one)."""
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise PackageError(rel(root, p), f"not valid YAML ({_one_line(e)})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise PackageError(rel(root, p), f"cannot be read ({e})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PackageError(rel(root, p), f"must hold a mapping of keys, not a {type(data).__name__}")
    return {str(k): v for k, v in data.items()}


def _one_line(e: Exception) -> str:
    return " ".join(str(e).split())


def number(where: str, key: str, value: object, *, integer: bool = False, minimum: float = 0.0,
           strict: bool = True) -> float:
    """A number from a YAML value; PackageError naming the key when it is not one in range."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and integer and isinstance(value, float):
        ok = value.is_integer()
    if not ok:
        kind = "an integer" if integer else "a number"
        raise PackageError(where, f"{key} must be {kind}, not {value!r}")
    v = float(value)  # type: ignore[arg-type]
    if v < minimum or (strict and v == minimum):
        raise PackageError(where, f"{key} must be {'>' if strict else '>='} {minimum:g}, not {value!r}")
    return v


def words(where: str, key: str, value: object) -> tuple[str, ...]:
    """Command-line arguments from a string (split as a shell would) or a list of strings."""
    if value is None:
        return ()
    if isinstance(value, str):
        try:
            return tuple(shlex.split(value))
        except ValueError as e:
            raise PackageError(where, f"{key}: {e}") from None
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return tuple(str(v) for v in value)
    raise PackageError(where, f"{key} must be a string or a list of strings, not {value!r}")


# ---------------------------------------------------------------------------------------------
# Programs and languages

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


def files_under(d: Path) -> list[Path]:
    """The files below a folder, by relative path, skipping names that start with a dot."""
    out = []
    for dirpath, dirnames, filenames in os.walk(d, followlinks=True):
        dirnames[:] = sorted(n for n in dirnames if not n.startswith("."))
        out += [Path(dirpath, n) for n in sorted(filenames) if not n.startswith(".")]
    return out


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


def entries(d: Path) -> list[Path]:
    """A folder's entries in lexicographic order, without names starting with a dot."""
    if not d.is_dir():
        return []
    return sorted((e for e in d.iterdir() if not e.name.startswith(".")), key=lambda e: e.name)


# ---------------------------------------------------------------------------------------------
# Expected verdicts

# DOMjudge's words (`etc/verdicts.php`, after upper-casing and `_` -> `-`), and our own codes
VERDICT_WORDS: dict[str, Verdict] = {
    "CORRECT": Verdict.AC, "ACCEPTED": Verdict.AC, "AC": Verdict.AC,
    "WRONG-ANSWER": Verdict.WA, "NO-OUTPUT": Verdict.WA, "WA": Verdict.WA,
    "TIMELIMIT": Verdict.TLE, "TIME-LIMIT-EXCEEDED": Verdict.TLE, "TIME-LIMIT": Verdict.TLE,
    "TLE": Verdict.TLE,
    "RUN-ERROR": Verdict.RTE, "RUN-TIME-ERROR": Verdict.RTE, "RTE": Verdict.RTE,
    "COMPILER-ERROR": Verdict.CE, "COMPILE-ERROR": Verdict.CE, "CE": Verdict.CE,
    "OUTPUT-LIMIT": Verdict.OLE, "OUTPUT-LIMIT-EXCEEDED": Verdict.OLE, "OLE": Verdict.OLE,
    "MEMORY-LIMIT": Verdict.MLE, "MEMORY-LIMIT-EXCEEDED": Verdict.MLE, "MLE": Verdict.MLE,
}

FOLDER_VERDICTS: dict[str, tuple[Verdict, ...]] = {
    "accepted": (Verdict.AC,),
    "partially_accepted": (Verdict.AC,),  # scoring: AC with less than the best score
    "slow_accepted": (Verdict.AC, Verdict.TLE),  # problemtools: AC only under a longer limit
    "wrong_answer": (Verdict.WA,),
    "no_output": (Verdict.WA,),
    "time_limit_exceeded": (Verdict.TLE,),
    "run_time_error": (Verdict.RTE,),
    "compile_error": (Verdict.CE,),
    "compiler_error": (Verdict.CE,),
    "output_limit": (Verdict.OLE,),
    "output_limit_exceeded": (Verdict.OLE,),
    "memory_limit_exceeded": (Verdict.MLE,),
    "memory_limit": (Verdict.MLE,),
    "rejected": (Verdict.WA, Verdict.TLE, Verdict.RTE),  # 2025-09: required [RTE, TLE, WA]
    "brute_force": (Verdict.TLE, Verdict.RTE),  # 2025-09: required [RTE, TLE]
}

MARKER = re.compile(rb"@EXPECTED_(?:RESULTS|SCORE)@:([^\r\n]*)")  # the colon, as DOMjudge's


def verdicts_from_words(text: str, warnings: list[str], where: str) -> tuple[Verdict, ...]:
    """Verdicts from DOMjudge words separated by commas or spaces; unknown words are warned about."""
    out: list[Verdict] = []
    for word in re.findall(r"[A-Za-z][A-Za-z_-]*", text):
        v = VERDICT_WORDS.get(word.upper().replace("_", "-"))
        if v is None:
            warnings.append(f"{where}: unknown verdict {word!r} in its expected results; ignored")
        elif v not in out:
            out.append(v)
    return tuple(out)


def marker_verdicts(p: Path, warnings: list[str], where: str) -> tuple[Verdict, ...] | None:
    """The verdicts of an `@EXPECTED_RESULTS@:` line in a file or folder; None when there is none.

    In a folder, `expected_result.txt` first, then every file; markers that disagree are warned
    about and the first one is used.
    """
    files = [p] if p.is_file() else files_under(p)
    files.sort(key=lambda f: f.name != "expected_result.txt")
    found: tuple[Verdict, ...] | None = None
    for f in files:
        try:
            with open(f, "rb") as fh:
                data = fh.read(MAX_MARKER_SCAN_BYTES)
        except OSError:
            continue
        m = MARKER.search(data)
        if m is None:
            continue
        got = verdicts_from_words(m.group(1).decode("latin-1"), warnings, where)
        if not got:
            continue
        if found is None:
            found = got
        elif set(got) != set(found):
            warnings.append(f"{where}: its files disagree on @EXPECTED_RESULTS@; using the first")
    return found


# ---------------------------------------------------------------------------------------------
# Kattis / ICPC / DOMjudge

FORMATS = {"legacy": "legacy", "legacy-icpc": "legacy", "2023-07-draft": "2023-07", "2023-07": "2023-07",
           "draft": "2023-07", "2025-09": "2025-09", "2025-09-draft": "2025-09"}

LEGACY_KEYS = {"problem_format_version", "type", "name", "uuid", "author", "source", "source_url",
               "license", "rights_owner", "limits", "validation", "validator_flags", "grading",
               "keywords"}
NEW_KEYS = {"problem_format_version", "type", "name", "uuid", "version", "credits", "source", "license",
            "rights_owner", "embargo_until", "limits", "keywords", "languages", "allow_file_writing",
            "constants"}
LEGACY_LIMITS = {"time_multiplier", "time_safety_margin", "memory", "output", "code", "compilation_time",
                 "compilation_memory", "validation_time", "validation_memory", "validation_output",
                 "validation_passes"}  # validation_passes: DOMjudge's multi-pass extension
NEW_LIMITS = {"time_multipliers", "time_limit", "time_resolution", "memory", "output", "code",
              "compilation_time", "compilation_memory", "validation_time", "validation_memory",
              "validation_output", "validation_passes"}
NEW_TYPES = {"pass-fail", "scoring", "multi-pass", "interactive", "submit-answer"}

TESTDATA_KEYS = {"on_reject", "grading", "grader_flags", "input_validator_flags", "output_validator_flags",
                 "accept_score", "reject_score", "range"}
TEST_GROUP_KEYS = {"max_score", "score_aggregation", "static_validation_score", "require_pass", "args",
                   "input_validator_args", "static_validator_args", "output_validator_args",
                   "input_visualizer_args", "output_visualizer_args", "full_feedback"}
TEST_GROUP_KEYS_2023 = TEST_GROUP_KEYS | {"scoring", "static_validation", "hint", "description"}
TEST_CASE_KEYS = {"args", "input_validator_args", "output_validator_args", "input_visualizer_args",
                  "output_visualizer_args", "full_feedback", "hint", "description"}
NOT_JUDGED = {"invalid_input", "invalid_output", "valid_output"}  # 2023-07+: tests of the validators

LEGACY_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,253}[a-zA-Z0-9]$")  # legacy, 2023-07-draft
NAME_2025 = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,254}$")

# DOMjudge language ids and names in submissions.json / submissions.yaml -> ours
LANGUAGE_ALIASES = {"py3": "python3", "python": "python3", "kt": "kotlin", "js": "javascript",
                    "node": "javascript", "rs": "rust", "cs": "csharp", "hs": "haskell", "pas": "pascal",
                    "rb": "ruby", "sh": "bash", "c++": "cpp", "cc": "cpp"}


@dataclass
class _Settings:
    """The test-data settings in force in one folder: raw legacy keys and 2023-07+ inherited keys."""

    legacy: dict[str, Any] = field(default_factory=dict)
    new: dict[str, Any] = field(default_factory=dict)


class _Kattis:
    def __init__(self, root: Path, pid: str) -> None:
        self.root = root
        self.pid = pid
        self.warnings: list[str] = []
        self.fmt = "legacy"
        self.interactive = self.multi_pass = self.scoring = False
        self.custom_validation = False
        self.new_scoring = False  # 2023-07+ test_group.yaml scoring rather than testdata.yaml's
        self.validator_name: str | None = None

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def unknown(self, where: str, keys: set[str], allowed: set[str]) -> None:
        extra = sorted(keys - allowed)
        if not extra:
            return
        if self.fmt == "2025-09":
            raise PackageError(where, f"unknown key{'s' if len(extra) > 1 else ''} {', '.join(extra)} "
                               f"(2025-09 allows: {', '.join(sorted(allowed))})")
        self.warn(f"{where}: unknown key{'s' if len(extra) > 1 else ''} {', '.join(extra)}; ignored")

    # -- problem.yaml ------------------------------------------------------------------------

    def load(self) -> Problem:
        root = self.root
        meta = read_yaml(root, root / "problem.yaml") if (root / "problem.yaml").is_file() else {}
        ini = self._domjudge_ini()
        version = str(meta.get("problem_format_version", "legacy"))
        if version not in FORMATS:
            raise PackageError("problem.yaml", f"problem_format_version {version!r} is not one this judge "
                               "reads (legacy, legacy-icpc, 2023-07-draft, 2025-09)")
        self.fmt = FORMATS[version]
        self.unknown("problem.yaml", set(meta), LEGACY_KEYS if self.fmt == "legacy" else NEW_KEYS)
        if self.fmt == "2025-09":
            for key in ("name", "uuid"):
                if key not in meta:
                    raise PackageError("problem.yaml", f"{key} is required in 2025-09")
        self._type(meta)
        self.new_scoring = self.scoring and (self.fmt == "2025-09" or (
            self.fmt == "2023-07" and not any((root / "data").rglob("testdata.yaml"))))
        name = self._name(meta.get("name"), ini.get("name"))
        limits = self._limits(meta.get("limits") or {}, ini)  # `limits:` with all lines commented is null
        validator = self._output_validator()
        if self.custom_validation and validator is None:
            raise PackageError("output_validators/", "validation is custom (or interactive, multi-pass) "
                               "but the package has no output validator")
        flags = words("problem.yaml", "validator_flags", meta.get("validator_flags"))
        data = self._data(meta.get("grading"))
        return Problem(
            id=self.pid, name=name, root=root, format=self.fmt, scoring=self.scoring,
            interactive=self.interactive, multi_pass=self.multi_pass, limits=limits, data=data,
            output_validator=validator, output_validator_args=flags,
            input_validators=self._input_validators(),
            include=root / "include" if (root / "include").is_dir() else None,
            submissions=tuple(self._submissions()), warnings=tuple(self.warnings),
        )

    def _domjudge_ini(self) -> dict[str, str]:
        p = self.root / "domjudge-problem.ini"
        if not p.is_file():
            return {}
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string("[problem]\n" + p.read_text(encoding="utf-8"))
        except (configparser.Error, UnicodeDecodeError) as e:
            raise PackageError("domjudge-problem.ini", f"not key = value lines ({_one_line(e)})") from None
        return {k: v.strip().strip("'\"") for k, v in parser["problem"].items()}

    def _type(self, meta: dict[str, Any]) -> None:
        raw = meta.get("type", "pass-fail")
        if self.fmt == "legacy":
            if raw not in ("pass-fail", "scoring"):
                raise PackageError("problem.yaml", f"type must be pass-fail or scoring, not {raw!r}")
            types = {raw}
        else:
            listed = raw if isinstance(raw, list) else [raw]
            if not listed or not all(isinstance(t, str) and t in NEW_TYPES for t in listed):
                raise PackageError("problem.yaml", "type must be one or more of "
                                   f"{', '.join(sorted(NEW_TYPES))}, not {raw!r}")
            types = set(listed)
            for a, b in (("pass-fail", "scoring"), ("submit-answer", "multi-pass"),
                         ("submit-answer", "interactive")):
                if a in types and b in types:
                    raise PackageError("problem.yaml", f"type cannot be both {a} and {b}")
            if "submit-answer" in types:
                raise PackageError("problem.yaml", "type submit-answer: submissions are answers, not "
                                   "programs, and this judge runs programs only")
        self.scoring = "scoring" in types
        self.interactive = "interactive" in types
        self.multi_pass = "multi-pass" in types
        validation = meta.get("validation") if self.fmt == "legacy" else None  # 2023-07+: `type` says it
        if validation is not None:
            if not isinstance(validation, str) or not validation.split() or \
                    validation.split()[0] not in ("default", "custom"):
                raise PackageError("problem.yaml", f"validation must start with default or custom, "
                                   f"not {validation!r}")
            first, *rest = validation.split()
            for word in rest:
                if first != "custom" or word not in ("interactive", "score", "multi-pass"):
                    raise PackageError("problem.yaml", f"validation: {word!r} cannot follow {first!r} "
                                       "(custom may take interactive, score, multi-pass)")
            self.custom_validation = first == "custom"
            self.interactive = self.interactive or "interactive" in rest
            self.multi_pass = self.multi_pass or "multi-pass" in rest
        self.custom_validation = self.custom_validation or self.interactive or self.multi_pass

    def _name(self, raw: object, ini_name: str | None) -> str:
        if raw is None:
            return ini_name or self.pid
        if isinstance(raw, str | int | float) and not isinstance(raw, bool):
            return str(raw)
        if isinstance(raw, dict) and raw and all(isinstance(v, str) for v in raw.values()):
            return str(raw.get("en", next(iter(raw.values()))))
        raise PackageError("problem.yaml", f"name must be a string or a map of language to name, not {raw!r}")

    def _limits(self, raw: object, ini: dict[str, str]) -> Limits:
        if not isinstance(raw, dict):
            raise PackageError("problem.yaml", f"limits must be a map, not {raw!r}")
        self.unknown("problem.yaml limits", set(raw), LEGACY_LIMITS if self.fmt == "legacy" else NEW_LIMITS)
        where = "problem.yaml"
        kw: dict[str, Any] = {}
        if self.fmt == "legacy":
            if "time_multiplier" in raw:
                kw["time_multiplier"] = number(where, "limits.time_multiplier", raw["time_multiplier"])
            if "time_safety_margin" in raw:
                kw["time_safety_margin"] = number(where, "limits.time_safety_margin",
                                                  raw["time_safety_margin"])
        else:
            kw["time_multiplier"], kw["time_safety_margin"] = 2.0, 1.5  # the 2025-09 defaults
            tm = raw.get("time_multipliers") or {}
            if not isinstance(tm, dict):
                raise PackageError(where, f"limits.time_multipliers must be a map, not {tm!r}")
            self.unknown("problem.yaml limits.time_multipliers", set(tm), {"ac_to_time_limit",
                                                                          "time_limit_to_tle"})
            if "ac_to_time_limit" in tm:
                kw["time_multiplier"] = number(where, "limits.time_multipliers.ac_to_time_limit",
                                               tm["ac_to_time_limit"], minimum=1, strict=False)
            if "time_limit_to_tle" in tm:
                kw["time_safety_margin"] = number(where, "limits.time_multipliers.time_limit_to_tle",
                                                  tm["time_limit_to_tle"], minimum=1, strict=False)
            if "time_resolution" in raw:
                kw["time_resolution_s"] = number(where, "limits.time_resolution", raw["time_resolution"])
        for key, attr, integer in (("memory", "memory_mib", True), ("output", "output_mib", True),
                                   ("compilation_time", "compilation_time_s", False),
                                   ("compilation_memory", "compilation_memory_mib", True),
                                   ("validation_time", "validation_time_s", False),
                                   ("validation_memory", "validation_memory_mib", True),
                                   ("validation_output", "validation_output_mib", True)):
            if key in raw:
                v = number(where, f"limits.{key}", raw[key], integer=integer)
                kw[attr] = int(v) if integer else v
        if "validation_passes" in raw:
            kw["validation_passes"] = int(number(where, "limits.validation_passes", raw["validation_passes"],
                                                 integer=True, minimum=2, strict=False))
        time_limit, source = None, "computed"
        if "time_limit" in raw:
            time_limit, source = number(where, "limits.time_limit", raw["time_limit"]), "problem.yaml"
        stated = ((".timelimit", self._timelimit_file()), ("domjudge-problem.ini", ini.get("timelimit")))
        for fname, text in stated:
            if text is None:
                continue
            try:
                value = float(text)
            except ValueError:
                raise PackageError(fname, f"the time limit must be a number of seconds, not {text!r}"
                                   ) from None
            if not value > 0:
                raise PackageError(fname, f"the time limit must be > 0, not {text!r}")
            if time_limit is None:
                time_limit, source = value, fname
            elif value != time_limit:
                self.warn(f"{fname}: time limit {value:g} s differs from {source}'s {time_limit:g} s; "
                          f"using {source}'s")
        return Limits(time_limit_s=time_limit, time_limit_source=source, **kw)

    def _timelimit_file(self) -> str | None:
        p = self.root / ".timelimit"
        return p.read_text(encoding="utf-8", errors="replace").strip() if p.is_file() else None

    # -- programs ----------------------------------------------------------------------------

    def _output_validator(self) -> Program | None:
        root = self.root
        plural, single = root / "output_validators", root / "output_validator"
        if plural.is_dir() and single.is_dir():
            raise PackageError("output_validator/", "both output_validator/ and output_validators/ exist; "
                               "keep one")
        if single.is_dir():
            items = entries(single)
            if not items:
                return None
            if len(items) == 1 and items[0].is_dir():
                # older 2023-07 drafts (problemtools' examples): the program is a folder inside
                if self.fmt == "2025-09":
                    self.warn(f"output_validator/{items[0].name}/: a program folder inside output_validator/;"
                              " 2025-09 has the program be output_validator/ itself")
                self.validator_name = items[0].name
                prog = program(root, items[0], self.warnings)
            else:
                self.validator_name = "output_validator"
                prog = program(root, single, self.warnings)
        elif plural.is_dir():
            items = entries(plural)
            if not items:
                return None
            if len(items) > 1:
                raise PackageError("output_validators/", f"holds {len(items)} programs "
                                   f"({', '.join(i.name for i in items)}); this judge runs exactly one")
            if self.fmt == "2025-09":
                self.warn("output_validators/: the legacy name; 2025-09 calls it output_validator/")
            self.validator_name = items[0].stem if items[0].is_file() else items[0].name
            prog = program(root, items[0], self.warnings)
        else:
            return None
        if not self.custom_validation:
            if self.fmt == "legacy":
                self.warn(f"{rel(root, prog.path)}: validation is default, so this output validator "
                          "is not used")
                return None
            self.custom_validation = True  # 2023-07+: the folder's presence is what says so
        return prog

    def _input_validators(self) -> tuple[Program, ...]:
        out = []
        for folder in ("input_validators", "input_format_validators"):
            for item in entries(self.root / folder):
                out.append(program(self.root, item, self.warnings))
        return tuple(out)

    # -- data --------------------------------------------------------------------------------

    def _data(self, problem_grading: object) -> TestGroup:
        data = self.root / "data"
        if not data.is_dir():
            raise PackageError("data/", "missing: a package needs test data in data/secret (or data/sample)")
        settings = _Settings()
        if isinstance(problem_grading, dict):
            # legacy problem.yaml `grading`: objective, show_test_data_groups; problemtools also takes
            # the deprecated accept_score, reject_score, range and on_reject from here
            for key in ("accept_score", "reject_score", "range", "on_reject"):
                if key in problem_grading:
                    settings.legacy[key] = problem_grading[key]
            _legacy_grading("problem.yaml grading", settings.legacy, self.warnings)
            if problem_grading.get("objective", "max") != "max":
                self.warn("problem.yaml: grading.objective min is not supported; scores are maximised")
        elif problem_grading is not None:
            raise PackageError("problem.yaml", f"grading must be a map, not {problem_grading!r}")
        settings, own = self._settings(data, settings)
        groups = []
        for top in ("sample", "secret"):
            if (data / top).is_dir():
                groups.append(self._group(data / top, top, settings))
        for item in entries(data):
            if item.is_dir() and item.name not in ("sample", "secret"):
                if item.name not in NOT_JUDGED or self.fmt == "legacy":
                    self.warn(f"data/{item.name}/: not sample or secret, so not judged")
        root_group = TestGroup(name="", cases=(), groups=tuple(groups),
                               grading=self._grading("", settings, own, 0))
        if not root_group.all_cases():
            raise PackageError("data/", "no test cases: put X.in and X.ans pairs in data/secret or "
                               "data/sample")
        return root_group

    def _settings(self, d: Path, inherited: _Settings) -> tuple[_Settings, dict[str, Any] | None]:
        """The settings of folder `d` (its own files over the inherited), and its own test_group.yaml."""
        where = rel(self.root, d)
        legacy, new = dict(inherited.legacy), dict(inherited.new)
        own: dict[str, Any] | None = None
        if (d / "testdata.yaml").is_file():
            if self.fmt == "2025-09":
                self.warn(f"{where}testdata.yaml: the legacy name, not read in 2025-09 (use test_group.yaml)")
            else:
                raw = read_yaml(self.root, d / "testdata.yaml")
                self.unknown(f"{where}testdata.yaml", set(raw), TESTDATA_KEYS)
                _legacy_grading(f"{where}testdata.yaml", raw, self.warnings)  # faults name this file
                legacy.update(raw)
        if (d / "test_group.yaml").is_file() and self.fmt != "legacy":
            own = read_yaml(self.root, d / "test_group.yaml")
            self.unknown(f"{where}test_group.yaml", set(own),
                         TEST_GROUP_KEYS if self.fmt == "2025-09" else TEST_GROUP_KEYS_2023)
            for key in ("output_validator_args", "input_validator_args", "args"):
                if key in own:
                    new[key] = own[key]
        return _Settings(legacy, new), own

    def _group(self, d: Path, name: str, inherited: _Settings) -> TestGroup:
        settings, own = self._settings(d, inherited)
        cases: list[TestCase] = []
        groups: list[TestGroup] = []
        flatten = self.fmt == "2025-09" and name.count("/") >= 1  # 2025-09: no groups below a group
        for item in entries(d):
            if item.is_dir():
                if item.name.endswith(".files"):
                    self.warn(f"{rel(self.root, item)}: .files folders are not supported; the submission "
                              "will not see them")
                elif self.fmt == "2025-09" and not NAME_2025.match(item.name):
                    self.warn(f"{rel(self.root, item)}: not a valid name, so ignored (2025-09)")
                elif flatten:
                    cases += self._group(item, f"{name}/{item.name}", settings).all_cases()
                else:
                    groups.append(self._group(item, f"{name}/{item.name}", settings))
        cases += self._cases(d, name, settings)
        cases.sort(key=lambda c: c.name)
        grading = self._grading(name, settings, own, len(cases))
        return TestGroup(name=name, cases=tuple(cases), groups=tuple(groups), grading=grading)

    def _cases(self, d: Path, name: str, settings: _Settings) -> list[TestCase]:
        files = {e.name for e in entries(d) if e.is_file()}
        out = []
        for fname in sorted(files):
            if not fname.endswith(".in"):
                continue
            base = fname[:-3]
            where = f"{rel(self.root, d)}{fname}"
            if self.fmt == "2025-09":
                if not NAME_2025.match(fname):
                    self.warn(f"{where}: not a valid file name, so ignored (2025-09)")
                    continue
            elif not LEGACY_NAME.match(fname):
                raise PackageError(where, "not a valid file name: it must match "
                                   f"{LEGACY_NAME.pattern} ({self.fmt} format)")
            answer = d / f"{base}.ans" if f"{base}.ans" in files else None
            if answer is None and not self.interactive:
                raise PackageError(where, f"has no {base}.ans beside it")
            out.append(self._case(d, name, base, answer, settings, files))
        for fname in sorted(files):
            if fname.endswith(".ans") and f"{fname[:-4]}.in" not in files:
                where = f"{rel(self.root, d)}{fname}"
                if self.fmt == "2025-09":
                    raise PackageError(where, f"there is no {fname[:-4]}.in, so no such test case")
                self.warn(f"{where}: there is no {fname[:-4]}.in, so it is not a test case")
        return out

    def _case(self, d: Path, group: str, base: str, answer: Path | None, settings: _Settings,
              files: set[str]) -> TestCase:
        new = dict(settings.new)
        if self.fmt != "legacy" and f"{base}.yaml" in files:
            raw = read_yaml(self.root, d / f"{base}.yaml")
            self.unknown(rel(self.root, d / f"{base}.yaml"), set(raw), TEST_CASE_KEYS)
            new.update({k: v for k, v in raw.items() if k in ("output_validator_args", "input_validator_args",
                                                               "args")})
        where = rel(self.root, d / f"{base}.in")
        if new.get("args"):
            self.warn(f"{where}: `args` for the submission are not supported; it runs without them")
        out_args, in_args = self._validator_args(where, settings.legacy, new)
        interaction = d / f"{base}.interaction" if f"{base}.interaction" in files else None
        source = follow_text_link(self.root, d / f"{base}.in", self.warnings)
        return TestCase(name=f"{group}/{base}", input=source,
                        answer=self._follow(answer), interaction=self._follow(interaction),
                        is_sample=group == "sample" or group.startswith("sample/"),
                        output_validator_args=out_args, input_validator_args=in_args)

    def _follow(self, p: Path | None) -> Path | None:
        return None if p is None else follow_text_link(self.root, p, self.warnings)

    def _validator_args(self, where: str, legacy: dict[str, Any],
                        new: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        out_args = self._flags(where, "output_validator_flags", legacy.get("output_validator_flags"),
                               self.validator_name)
        in_args = self._flags(where, "input_validator_flags", legacy.get("input_validator_flags"), None)
        if "output_validator_args" in new:
            value = new["output_validator_args"]
            if isinstance(value, str) and self.fmt == "2025-09":
                raise PackageError(where, "output_validator_args must be a list of strings in 2025-09")
            out_args = words(where, "output_validator_args", value)
        if "input_validator_args" in new:
            in_args = self._flags(where, "input_validator_args", new["input_validator_args"], None)
        return out_args, in_args

    def _flags(self, where: str, key: str, value: object, name: str | None) -> tuple[str, ...]:
        """Validator flags: a string or list, or a map from validator name (legacy: {name, flags})."""
        if not isinstance(value, dict):
            return words(where, key, value)
        if set(value) <= {"name", "flags"} and "flags" in value:
            return words(where, key, value["flags"])
        if name is not None and name in value:
            return words(where, key, value[name])
        if name is not None and len(value) == 1:
            return words(where, key, next(iter(value.values())))
        if value:
            self.warn(f"{where}: {key} given per validator; flags for each input validator are not "
                      "supported, so they are not passed")
        return ()

    def _grading(self, name: str, settings: _Settings, own: dict[str, Any] | None, n_cases: int) -> Grading:
        where = f"data/{name}/" if name else "data/"
        # each testdata.yaml was checked where it was read; this only combines what was inherited
        kw = _legacy_grading(where, settings.legacy, [])
        if self.new_scoring:
            kw.update(self._scoring(where, name, own or {}, n_cases))
        return Grading(**kw)

    def _scoring(self, where: str, name: str, own: dict[str, Any], n_cases: int) -> dict[str, Any]:
        """2023-07+ scoring settings of one group as Grading fields."""
        if name == "":
            return {"ignore_sample": True, "on_reject": "continue"}  # samples never score
        if name == "sample" or name.startswith("sample/"):
            return {"accept_score": 0.0, "on_reject": "continue"}
        sc = own.get("scoring", {}) if self.fmt != "2025-09" else {}
        if not isinstance(sc, dict):
            raise PackageError(where, f"scoring must be a map, not {sc!r}")
        raw_max = own.get("max_score", sc.get("score", 100 if name == "secret" else "unbounded"))
        aggregation = own.get("score_aggregation", sc.get("aggregation",
                                                          "sum" if name == "secret" else "pass-fail"))
        max_score = None if raw_max == "unbounded" else number(where, "max_score", raw_max, integer=True,
                                                                 minimum=0, strict=False)
        require = own.get("require_pass", sc.get("require_pass")) or []
        if not isinstance(require, str | list):
            raise PackageError(where, f"require_pass must be a group name or a list of them, not {require!r}")
        require_pass = (require,) if isinstance(require, str) else tuple(str(r) for r in require)
        out: dict[str, Any] = {"max_score": max_score, "require_pass": require_pass}
        if aggregation == "pass-fail":
            if max_score is None:
                raise PackageError(where, "a pass-fail group needs a bounded max_score")
            out.update(aggregation="min", on_reject="break", accept_score=max_score, reject_score=0.0)
        elif aggregation in ("sum", "min"):
            out.update(aggregation=aggregation, on_reject="continue", reject_score=0.0)
            if max_score is not None:
                out["accept_score"] = max_score / n_cases if aggregation == "sum" and n_cases else max_score
        else:
            raise PackageError(where, f"score_aggregation must be pass-fail, sum or min, not {aggregation!r}")
        return out

    # -- submissions -------------------------------------------------------------------------

    def _submissions(self) -> Iterator[Submission]:
        root = self.root
        meta = self._submissions_json()
        globs = self._submissions_yaml()
        seen: set[str] = set()
        for folder in entries(root / "submissions"):
            if not folder.is_dir():
                continue
            for item in entries(folder):
                if item.name.endswith(".disabled"):
                    continue
                r = rel(root, item)
                seen.add(r.rstrip("/"))
                target = follow_text_link(root, item, self.warnings) if item.is_file() else item
                yield self._submission(target, r, folder.name, meta.get(r.rstrip("/"), {}), globs)
        for key in sorted(set(meta) - seen):
            self.warn(f"submissions.json: {key} names no submission; ignored")

    def _submission(self, item: Path, r: str, folder: str, meta: dict[str, Any],
                    globs: list[tuple[re.Pattern[str], dict[str, Any]]]) -> Submission:
        settings: dict[str, Any] = {}
        inner = r.removeprefix("submissions/").rstrip("/")
        parents = [inner] + [str(p) for p in PurePosixPath(inner).parents if str(p) != "."]
        for pattern, values in globs:
            if any(pattern.fullmatch(p) for p in parents):
                settings.update(values)
        entry = meta.get("entry_point", meta.get("entrypoint", settings.get("entrypoint")))
        entry = str(entry) if entry is not None else None
        lang_name = meta.get("language", settings.get("language"))
        if lang_name is not None:
            language = self._language_name(r, str(lang_name))
        elif item.is_dir():
            files = files_under(item)
            language = None
            if entry is not None:
                language = language_of_file(item / entry, self.warnings, r)
            if language is None:
                language = language_of_files(files, self.warnings, r)
        else:
            language = language_of_file(item, self.warnings, r)
        expected: tuple[Verdict, ...] = FOLDER_VERDICTS.get(folder, ())
        marked = marker_verdicts(item, self.warnings, r)
        if marked:
            expected = marked
        listed = meta.get("expected", meta.get("expected_results", meta.get("expected_result")))
        if listed is not None:
            text = " ".join(listed) if isinstance(listed, list) else str(listed)
            expected = verdicts_from_words(text, self.warnings, r) or expected
        if not expected:
            self.warn(f"{r}: no expected verdict (folder {folder!r}, no @EXPECTED_RESULTS@ marker)")
        return Submission(path=item, rel=r, language=language, expected=expected, entry_point=entry,
                          folder=folder)

    def _language_name(self, where: str, name: str) -> str | None:
        key = LANGUAGE_ALIASES.get(name.lower(), name.lower())
        if key in languages.ids():
            return key
        self.warn(f"{where}: language {name!r} is not one this judge has")
        return None

    def _submissions_json(self) -> dict[str, dict[str, Any]]:
        p = self.root / "submissions.json"
        if not p.is_file():
            return {}
        try:
            raw = json.loads(p.read_text(encoding="utf-8"))
        except (ValueError, OSError) as e:
            raise PackageError("submissions.json", f"not valid JSON ({_one_line(e)})") from None
        if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
            raise PackageError("submissions.json", "must map submission paths to {entry_point, language, "
                               "expected} objects")
        return {str(k).rstrip("/"): v for k, v in raw.items()}

    def _submissions_yaml(self) -> list[tuple[re.Pattern[str], dict[str, Any]]]:
        """2023-07+ submissions/submissions.yaml: the language and entry point of matching submissions."""
        p = self.root / "submissions" / "submissions.yaml"
        if self.fmt == "legacy" or not p.is_file():
            return []
        out = []
        for key, values in read_yaml(self.root, p).items():
            if not isinstance(values, dict):
                raise PackageError("submissions/submissions.yaml",
                                   f"{key}: must map to settings, not {values!r}")
            picked = {k: values[k] for k in ("language", "entrypoint") if k in values}
            if picked:
                out.append((_glob(key), picked))
        return out


def _legacy_grading(where: str, legacy: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    """Grading fields from legacy testdata.yaml keys (problemtools' default grader flags)."""
    kw: dict[str, Any] = {}
    on_reject = legacy.get("on_reject", "break")
    if on_reject not in ("break", "continue"):
        raise PackageError(where, f"on_reject must be break or continue, not {on_reject!r}")
    kw["on_reject"] = on_reject
    if legacy.get("grading", "default") != "default":
        warnings.append(f"{where}: custom graders are not supported; the default grader is used")
    for flag in words(where, "grader_flags", legacy.get("grader_flags")):
        if flag in ("first_error", "worst_error", "always_accept"):
            kw["verdict_mode"] = flag
        elif flag in ("sum", "avg", "min", "max"):
            kw["aggregation"] = flag
        elif flag in ("ignore_sample", "accept_if_any_accepted"):
            kw[flag] = True
        else:
            warnings.append(f"{where}: unknown grader flag {flag!r}; ignored")
    for key in ("accept_score", "reject_score"):
        if key in legacy:
            kw[key] = number(where, key, legacy[key], minimum=float("-inf"), strict=False)
    if "range" in legacy:
        parts = str(legacy["range"]).split()
        try:
            low, high = (float(p) for p in parts)
        except ValueError:
            raise PackageError(where, f"range must be two numbers (inf allowed), not {legacy['range']!r}"
                               ) from None
        if low > high:
            raise PackageError(where, f"range {legacy['range']!r} is empty")
        kw["max_score"] = None if high == float("inf") else high
    return kw


def _glob(pattern: str) -> re.Pattern[str]:
    """A 2023-07+ submission glob: `*` within a name, `{a,b}` alternatives."""
    out = ""
    for part in re.split(r"(\{[^{}]*\}|\*|\?)", pattern):
        if part == "*":
            out += "[^/]*"
        elif part == "?":
            out += "[^/]"
        elif part.startswith("{") and part.endswith("}"):
            out += "(?:" + "|".join(re.escape(a) for a in part[1:-1].split(",")) + ")"
        else:
            out += re.escape(part)
    return re.compile(out.rstrip("/"))
