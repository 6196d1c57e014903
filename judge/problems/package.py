"""Load a problem package into the model (judge/problems/model.py): Kattis/ICPC, DOMjudge, DMOJ.

Reads only; never runs anything and never writes into the package. A zip (`.zip`, `.kpp`) is
unpacked first into `workdir` or a fresh private directory, which the caller then owns: the
ProblemPackage's paths point into it.

Formats (`problem_format_version` in problem.yaml): `legacy`/`legacy-icpc` (the default; what
problemtools and DOMjudge read), `2023-07-draft` and `2025-09` (the Kattis spec of each name,
github.com/Kattis/problem-package-format `spec/`). DOMjudge's additions are read in every one:
`.timelimit`, `domjudge-problem.ini`, `@EXPECTED_RESULTS@:` markers and `submissions.json`. A
folder with `init.yml` and no problem.yaml is a DMOJ problem (judge/problems/dmoj.py); one
with only `domjudge-problem.ini` is read as legacy, as DOMjudge's importer does.

This module reads problem.yaml, the limits and the validators, and puts the ProblemPackage together.
The rest is in modules of its own, each with the decisions it makes:

  files.py        PackageError (re-exported here), paths, folder listings, YAML values
  archive.py      safe zip unpacking; symlinks that leave the package; links git wrote as text
  programs.py     the language of a source file or folder; validators as Programs
  testdata.py     data/: test cases, testdata.yaml and test_group.yaml inheritance, Grading
  submissions.py  submissions/: languages and expected verdicts (folders, markers, submissions.json)
  dmoj.py         DMOJ's init.yml

Decisions, each where the specs leave room or real packages disagree with them:

* Unknown keys in problem.yaml and test_group.yaml are errors in 2025-09 (the spec: "Any unknown
  keys should be treated as an error"); in legacy and 2023-07-draft they are warnings, because
  real packages carry extras (DOMjudge's `validation_passes` in a legacy file, drafts that moved).
* The time limit is, in order: 2025-09 `limits.time_limit`, DOMjudge `.timelimit`,
  `domjudge-problem.ini` `timelimit`, else None: grading computes it from the accepted
  submissions (`ProblemLimits.time_limit_source` says which).
* Output validator: `output_validators/<one program>` or `output_validator/` in any format
  (DOMjudge's legacy multi-pass examples use the singular); `output_validator/` holding one
  folder and nothing else is that folder (older 2023-07 drafts, problemtools' guess).
"""

from __future__ import annotations

import configparser
import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import JudgeError
from . import dmoj
from .archive import check_links, unpack_zip
from .files import PackageError, entries, number, one_line, read_yaml, rel, unknown_keys, words
from .model import ProblemLimits, ProblemPackage, Program
from .programs import program
from .submissions import read_submissions
from .testdata import read_data

__all__ = ["PackageError", "load"]


@contextlib.contextmanager
def opened(path: Path) -> Iterator[ProblemPackage]:
    """The problem at `path`, a folder or a zip; a zip's unpacked copy is removed afterwards."""
    if path.is_dir():
        yield load(path)
        return
    with tempfile.TemporaryDirectory(prefix="judge-package-") as tmp:
        yield load(path, workdir=Path(tmp) / "package")


def load(path: Path, *, workdir: Path | None = None) -> ProblemPackage:
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


def _load_dir(root: Path, pid: str) -> ProblemPackage:
    check_links(root)
    if (root / "problem.yaml").is_file() or (root / "domjudge-problem.ini").is_file():
        return _Kattis(root, pid).load()
    if (root / "init.yml").is_file():
        return dmoj.load(root, pid)
    raise PackageError(
        "problem.yaml",
        "missing: a package needs problem.yaml (Kattis/ICPC, DOMjudge) or init.yml (DMOJ) at its top",
    )


FORMATS = {
    "legacy": "legacy",
    "legacy-icpc": "legacy",
    "2023-07-draft": "2023-07",
    "2023-07": "2023-07",
    "draft": "2023-07",
    "2025-09": "2025-09",
    "2025-09-draft": "2025-09",
}

LEGACY_KEYS = {
    "problem_format_version",
    "type",
    "name",
    "uuid",
    "author",
    "source",
    "source_url",
    "license",
    "rights_owner",
    "limits",
    "validation",
    "validator_flags",
    "grading",
    "keywords",
}
NEW_KEYS = {
    "problem_format_version",
    "type",
    "name",
    "uuid",
    "version",
    "credits",
    "source",
    "license",
    "rights_owner",
    "embargo_until",
    "limits",
    "keywords",
    "languages",
    "allow_file_writing",
    "constants",
}
LEGACY_LIMITS = {
    "time_multiplier",
    "time_safety_margin",
    "memory",
    "output",
    "code",
    "compilation_time",
    "compilation_memory",
    "validation_time",
    "validation_memory",
    "validation_output",
    "validation_passes",
}  # validation_passes: DOMjudge's multi-pass extension
NEW_LIMITS = {
    "time_multipliers",
    "time_limit",
    "time_resolution",
    "memory",
    "output",
    "code",
    "compilation_time",
    "compilation_memory",
    "validation_time",
    "validation_memory",
    "validation_output",
    "validation_passes",
}
NEW_TYPES = {"pass-fail", "scoring", "multi-pass", "interactive", "submit-answer"}


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
        unknown_keys(self.fmt, self.warnings, where, keys, allowed)

    # -- problem.yaml ------------------------------------------------------------------------

    def load(self) -> ProblemPackage:
        root = self.root
        meta = read_yaml(root, root / "problem.yaml") if (root / "problem.yaml").is_file() else {}
        ini = self._domjudge_ini()
        version = str(meta.get("problem_format_version", "legacy"))
        if version not in FORMATS:
            raise PackageError(
                "problem.yaml",
                f"problem_format_version {version!r} is not one this judge "
                "reads (legacy, legacy-icpc, 2023-07-draft, 2025-09)",
            )
        self.fmt = FORMATS[version]
        self.unknown("problem.yaml", set(meta), LEGACY_KEYS if self.fmt == "legacy" else NEW_KEYS)
        if self.fmt == "2025-09":
            for key in ("name", "uuid"):
                if key not in meta:
                    raise PackageError("problem.yaml", f"{key} is required in 2025-09")
        self._type(meta)
        self.new_scoring = self.scoring and (
            self.fmt == "2025-09"
            or (self.fmt == "2023-07" and not any((root / "data").rglob("testdata.yaml")))
        )
        name = self._name(meta.get("name"), ini.get("name"))
        limits = self._limits(meta.get("limits") or {}, ini)  # `limits:` with all lines commented is null
        validator = self._output_validator()
        if self.custom_validation and validator is None:
            raise PackageError(
                "output_validators/",
                "validation is custom (or interactive, multi-pass) but the package has no output validator",
            )
        flags = words("problem.yaml", "validator_flags", meta.get("validator_flags"))
        data = read_data(
            root,
            self.fmt,
            self.warnings,
            interactive=self.interactive,
            new_scoring=self.new_scoring,
            validator_name=self.validator_name,
            problem_grading=meta.get("grading"),
        )
        return ProblemPackage(
            id=self.pid,
            name=name,
            root=root,
            format=self.fmt,
            scoring=self.scoring,
            interactive=self.interactive,
            multi_pass=self.multi_pass,
            limits=limits,
            data=data,
            output_validator=validator,
            output_validator_args=flags,
            input_validators=self._input_validators(),
            include=root / "include" if (root / "include").is_dir() else None,
            submissions=read_submissions(root, self.fmt, self.warnings),
            warnings=tuple(self.warnings),
        )

    def _domjudge_ini(self) -> dict[str, str]:
        p = self.root / "domjudge-problem.ini"
        if not p.is_file():
            return {}
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string("[problem]\n" + p.read_text(encoding="utf-8"))
        except (configparser.Error, UnicodeDecodeError) as e:
            raise PackageError("domjudge-problem.ini", f"not key = value lines ({one_line(e)})") from None
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
                raise PackageError(
                    "problem.yaml", f"type must be one or more of {', '.join(sorted(NEW_TYPES))}, not {raw!r}"
                )
            types = set(listed)
            for a, b in (
                ("pass-fail", "scoring"),
                ("submit-answer", "multi-pass"),
                ("submit-answer", "interactive"),
            ):
                if a in types and b in types:
                    raise PackageError("problem.yaml", f"type cannot be both {a} and {b}")
            if "submit-answer" in types:
                raise PackageError(
                    "problem.yaml",
                    "type submit-answer: submissions are answers, not "
                    "programs, and this judge runs programs only",
                )
        self.scoring = "scoring" in types
        self.interactive = "interactive" in types
        self.multi_pass = "multi-pass" in types
        validation = meta.get("validation") if self.fmt == "legacy" else None  # 2023-07+: `type` says it
        if validation is not None:
            if (
                not isinstance(validation, str)
                or not validation.split()
                or validation.split()[0] not in ("default", "custom")
            ):
                raise PackageError(
                    "problem.yaml", f"validation must start with default or custom, not {validation!r}"
                )
            first, *rest = validation.split()
            for word in rest:
                if first != "custom" or word not in ("interactive", "score", "multi-pass"):
                    raise PackageError(
                        "problem.yaml",
                        f"validation: {word!r} cannot follow {first!r} "
                        "(custom may take interactive, score, multi-pass)",
                    )
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

    def _limits(self, raw: object, ini: dict[str, str]) -> ProblemLimits:
        if not isinstance(raw, dict):
            raise PackageError("problem.yaml", f"limits must be a map, not {raw!r}")
        self.unknown("problem.yaml limits", set(raw), LEGACY_LIMITS if self.fmt == "legacy" else NEW_LIMITS)
        where = "problem.yaml"
        kw: dict[str, Any] = {}
        if self.fmt == "legacy":
            if "time_multiplier" in raw:
                kw["time_multiplier"] = number(where, "limits.time_multiplier", raw["time_multiplier"])
            if "time_safety_margin" in raw:
                kw["time_safety_margin"] = number(
                    where, "limits.time_safety_margin", raw["time_safety_margin"]
                )
        else:
            kw["time_multiplier"], kw["time_safety_margin"] = 2.0, 1.5  # the 2025-09 defaults
            tm = raw.get("time_multipliers") or {}
            if not isinstance(tm, dict):
                raise PackageError(where, f"limits.time_multipliers must be a map, not {tm!r}")
            self.unknown(
                "problem.yaml limits.time_multipliers", set(tm), {"ac_to_time_limit", "time_limit_to_tle"}
            )
            if "ac_to_time_limit" in tm:
                kw["time_multiplier"] = number(
                    where,
                    "limits.time_multipliers.ac_to_time_limit",
                    tm["ac_to_time_limit"],
                    minimum=1,
                    strict=False,
                )
            if "time_limit_to_tle" in tm:
                kw["time_safety_margin"] = number(
                    where,
                    "limits.time_multipliers.time_limit_to_tle",
                    tm["time_limit_to_tle"],
                    minimum=1,
                    strict=False,
                )
            if "time_resolution" in raw:
                kw["time_resolution_s"] = number(where, "limits.time_resolution", raw["time_resolution"])
        for key, attr, integer in (
            ("memory", "memory_mib", True),
            ("output", "output_mib", True),
            ("compilation_time", "compilation_time_s", False),
            ("compilation_memory", "compilation_memory_mib", True),
            ("validation_time", "validation_time_s", False),
            ("validation_memory", "validation_memory_mib", True),
            ("validation_output", "validation_output_mib", True),
        ):
            if key in raw:
                v = number(where, f"limits.{key}", raw[key], integer=integer)
                kw[attr] = int(v) if integer else v
        if "validation_passes" in raw:
            kw["validation_passes"] = int(
                number(
                    where,
                    "limits.validation_passes",
                    raw["validation_passes"],
                    integer=True,
                    minimum=2,
                    strict=False,
                )
            )
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
                raise PackageError(
                    fname, f"the time limit must be a number of seconds, not {text!r}"
                ) from None
            if not value > 0:
                raise PackageError(fname, f"the time limit must be > 0, not {text!r}")
            if time_limit is None:
                time_limit, source = value, fname
            elif value != time_limit:
                self.warn(
                    f"{fname}: time limit {value:g} s differs from {source}'s {time_limit:g} s; "
                    f"using {source}'s"
                )
        return ProblemLimits(time_limit_s=time_limit, time_limit_source=source, **kw)

    def _timelimit_file(self) -> str | None:
        p = self.root / ".timelimit"
        return p.read_text(encoding="utf-8", errors="replace").strip() if p.is_file() else None

    # -- programs ----------------------------------------------------------------------------

    def _output_validator(self) -> Program | None:
        root = self.root
        plural, single = root / "output_validators", root / "output_validator"
        if plural.is_dir() and single.is_dir():
            raise PackageError(
                "output_validator/", "both output_validator/ and output_validators/ exist; keep one"
            )
        if single.is_dir():
            items = entries(single)
            if not items:
                return None
            if len(items) == 1 and items[0].is_dir():
                # older 2023-07 drafts (problemtools' examples): the program is a folder inside
                if self.fmt == "2025-09":
                    self.warn(
                        f"output_validator/{items[0].name}/: a program folder inside output_validator/;"
                        " 2025-09 has the program be output_validator/ itself"
                    )
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
                raise PackageError(
                    "output_validators/",
                    f"holds {len(items)} programs "
                    f"({', '.join(i.name for i in items)}); this judge runs exactly one",
                )
            if self.fmt == "2025-09":
                self.warn("output_validators/: the legacy name; 2025-09 calls it output_validator/")
            self.validator_name = items[0].stem if items[0].is_file() else items[0].name
            prog = program(root, items[0], self.warnings)
        else:
            return None
        if not self.custom_validation:
            if self.fmt == "legacy":
                self.warn(
                    f"{rel(root, prog.path)}: validation is default, so this output validator is not used"
                )
                return None
            self.custom_validation = True  # 2023-07+: the folder's presence is what says so
        return prog

    def _input_validators(self) -> tuple[Program, ...]:
        out = []
        for folder in ("input_validators", "input_format_validators"):
            for item in entries(self.root / folder):
                out.append(program(self.root, item, self.warnings))
        return tuple(out)
