"""A package's submissions: where they are, their language, and the verdicts they expect.

Reads only. Each folder under `submissions/` gives the verdicts of the submissions in it
(FOLDER_VERDICTS: `slow_accepted` is AC or TLE: problemtools judges it against a longer limit;
`partially_accepted` is AC and verify checks the score is below the best; `no_output` is WA as
DOMjudge's NO-OUTPUT). An `@EXPECTED_RESULTS@:` (or `@EXPECTED_SCORE@:`) marker in the source
replaces the folder's verdicts, as in DOMjudge; `submissions.json` replaces both. In 2023-07
and later, `submissions/submissions.yaml` maps globs of submission paths to a language and an
entry point. `*.disabled` and names starting with "." are not submissions (BAPCtools; the
2025-09 rule on dot files). Verdict words are DOMjudge's (VERDICT_WORDS), and unknown ones are
warned about and ignored.

Links: a submission that is a symbolic link (or a link git wrote as text) to another file of
the package is that file under the link's name, as problemtools and DOMjudge read it; its
language is told from the link's name first. A link leaving the package is a PackageError
(archive.check_links, before this runs). A submission whose language cannot be told carries
the reason in `not_judged` (programs.no_language_reason), and `judge verify` reports it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from .. import languages
from ..errors import UnknownLanguage
from ..verdict import Verdict
from .archive import follow_text_link
from .files import PackageError, entries, files_under, one_line, read_yaml, rel
from .model import PackageSubmission
from .programs import language_of_file, language_of_files, no_language_reason

MAX_MARKER_SCAN_BYTES = 4 << 20  # @EXPECTED_RESULTS@ is looked for in this much of each file

# DOMjudge's words (`etc/verdicts.php`, after upper-casing and `_` -> `-`), and our own codes
VERDICT_WORDS: dict[str, Verdict] = {
    "CORRECT": Verdict.AC,
    "ACCEPTED": Verdict.AC,
    "AC": Verdict.AC,
    "WRONG-ANSWER": Verdict.WA,
    "NO-OUTPUT": Verdict.WA,
    "WA": Verdict.WA,
    "TIMELIMIT": Verdict.TLE,
    "TIME-LIMIT-EXCEEDED": Verdict.TLE,
    "TIME-LIMIT": Verdict.TLE,
    "TLE": Verdict.TLE,
    "RUN-ERROR": Verdict.RTE,
    "RUN-TIME-ERROR": Verdict.RTE,
    "RTE": Verdict.RTE,
    "COMPILER-ERROR": Verdict.CE,
    "COMPILE-ERROR": Verdict.CE,
    "CE": Verdict.CE,
    "OUTPUT-LIMIT": Verdict.OLE,
    "OUTPUT-LIMIT-EXCEEDED": Verdict.OLE,
    "OLE": Verdict.OLE,
    "MEMORY-LIMIT": Verdict.MLE,
    "MEMORY-LIMIT-EXCEEDED": Verdict.MLE,
    "MLE": Verdict.MLE,
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


# DOMjudge language ids and names in submissions.json / submissions.yaml -> ours
LANGUAGE_ALIASES = {
    "py3": "python3",
    "python": "python3",
    "kt": "kotlin",
    "js": "javascript",
    "node": "javascript",
    "rs": "rust",
    "cs": "csharp",
    "hs": "haskell",
    "pas": "pascal",
    "rb": "ruby",
    "sh": "bash",
    "c++": "cpp",
    "cc": "cpp",
}


def read_submissions(root: Path, fmt: str, warnings: list[str]) -> tuple[PackageSubmission, ...]:
    """The submissions of the package at `root` in format `fmt`, in folder order; warnings are appended."""
    return tuple(_Submissions(root, fmt, warnings).submissions())


class _Submissions:
    def __init__(self, root: Path, fmt: str, warnings: list[str]) -> None:
        self.root = root
        self.fmt = fmt
        self.warnings = warnings

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def submissions(self) -> Iterator[PackageSubmission]:
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
                target = item
                if item.is_symlink():  # inside the package: check_links refused the others
                    target = Path(os.path.realpath(item))
                if target.is_file():
                    target = follow_text_link(root, target, self.warnings)
                yield self._submission(target, r, folder.name, meta.get(r.rstrip("/"), {}), globs, named=item)
        for key in sorted(set(meta) - seen):
            self.warn(f"submissions.json: {key} names no submission; ignored")

    def _submission(
        self,
        item: Path,
        r: str,
        folder: str,
        meta: dict[str, Any],
        globs: list[tuple[re.Pattern[str], dict[str, Any]]],
        named: Path,
    ) -> PackageSubmission:
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
            language = None
            if named != item:  # a link: its own name says the language first (x.py3 -> y.txt)
                try:
                    language = languages.by_extension(named.name).id
                except UnknownLanguage:
                    pass
            language = language or language_of_file(item, self.warnings, r)
        not_judged = "" if language is not None or lang_name is not None else no_language_reason(item)
        if lang_name is not None and language is None:
            not_judged = f"language {lang_name!r} (named in submissions.json or .yaml) is not one here"
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
        return PackageSubmission(
            path=item,
            rel=r,
            language=language,
            expected=expected,
            entry_point=entry,
            folder=folder,
            not_judged=not_judged,
        )

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
            raise PackageError("submissions.json", f"not valid JSON ({one_line(e)})") from None
        if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
            raise PackageError(
                "submissions.json", "must map submission paths to {entry_point, language, expected} objects"
            )
        return {str(k).rstrip("/"): v for k, v in raw.items()}

    def _submissions_yaml(self) -> list[tuple[re.Pattern[str], dict[str, Any]]]:
        """2023-07+ submissions/submissions.yaml: the language and entry point of matching submissions."""
        p = self.root / "submissions" / "submissions.yaml"
        if self.fmt == "legacy" or not p.is_file():
            return []
        out = []
        for key, values in read_yaml(self.root, p).items():
            if not isinstance(values, dict):
                raise PackageError(
                    "submissions/submissions.yaml", f"{key}: must map to settings, not {values!r}"
                )
            picked = {k: values[k] for k in ("language", "entrypoint") if k in values}
            if picked:
                out.append((_glob(key), picked))
        return out


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
