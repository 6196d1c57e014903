"""Load a DMOJ problem folder (`init.yml`, judge-server's format) into the model.

Called by package.load for a folder with init.yml and no problem.yaml; reads only, like it.
What DMOJ's format says and how it maps (docs/problem_format/ in DMOJ/judge-server):

* `test_cases`: a list of cases `{in, out, points}` and batches `{points, batched: [...],
  dependencies}`. Every case becomes a TestCase of the group `secret` ("secret/1", "secret/2",
  ...; a batch is the subgroup "secret/batchN" scored all or nothing: aggregation min with its
  points as accept_score). DMOJ judges every case unless `short_circuit`, and the result is the
  first failing case's, so `secret` has on_reject continue and verdict_mode first_error. The
  points stay on each TestCase; the problem is not marked scoring (the conformance corpus treats
  these as pass-fail). `archive:` (a zip of the data inside the folder) is unpacked, with
  archive.py's checks, into a fresh temporary directory that the caller then owns.
* `checker`: `standard` is the default validator with `case_sensitive` (DMOJ compares tokens
  exactly); `floats`/`floatsabs`/`floatsrel` with `precision: N` (default 6) is a float
  tolerance of 1e-N (abs or rel; `error_mode` picks one); `identical` adds
  `space_change_sensitive`; `bridged` with one file of type `default` or `testlib` is the
  output validator with checker_protocol "testlib" (both take `input output answer` and exit
  0 for AC, 1 for WA). Other checkers (Python `check()` files, `easy`, `sorted`, `linecount`...)
  compare differently, so they are a PackageError rather than a silently different verdict.
* Submissions are `tests/<name>/test.yml` (or `test.linux.yml`, then `test.posix.yml`, which win:
  this judge runs on Linux): `language`, `time` (s), `memory` (KiB), `source`, and `expect`
  (one verdict or a list) or `cases` (one per case; the submission's verdict is the first one
  that is not AC). DMOJ's IR (invalid return: a non-zero exit) is RTE. The limits go on the
  PackageSubmission (time_limit_s, memory_limit_kib): DMOJ has no problem-wide limit in init.yml.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from ..verdict import Verdict
from .archive import unpack_zip
from .files import PackageError, entries, number, read_yaml, rel
from .model import Grading, PackageSubmission, ProblemLimits, ProblemPackage, Program, TestCase, TestGroup
from .programs import language_of_file

INIT_KEYS = {
    "archive",
    "test_cases",
    "checker",
    "pretest_test_cases",
    "output_limit_length",
    "output_prefix_length",
    "unbuffered",
    "short_circuit",
    "symlinks",
    "wall_time_factor",
    "binary_data",
    "points",
    "hints",
    "file_io",
    "interactive",
    "custom_judge",
    "signature_grader",
    "generator",
    "generator_args",
    "generator_time_limit",
    "generator_memory_limit",
}
UNSUPPORTED = {
    "interactive": "interactive problems (DMOJ interactors)",
    "custom_judge": "custom judges (Python Grader classes)",
    "signature_grader": "signature graders",
    "generator": "test generators",
    "file_io": "file input and output",
}

# DMOJ verdict codes (docs/judge/status_codes.md) -> ours
DMOJ_VERDICTS = {
    "AC": Verdict.AC,
    "WA": Verdict.WA,
    "TLE": Verdict.TLE,
    "MLE": Verdict.MLE,
    "OLE": Verdict.OLE,
    "RTE": Verdict.RTE,
    "IR": Verdict.RTE,
    "CE": Verdict.CE,
    "IE": Verdict.IE,
}

# DMOJ executor ids -> judge language ids (None: a language this judge does not have)
DMOJ_LANGUAGES = [
    (r"C\d*", "c"),
    (r"CPP\d*|CLANGX\d*", "cpp"),
    (r"JAVA\d*", "java"),
    (r"KOTLIN", "kotlin"),
    (r"PY3|PYTHON3", "python3"),
    (r"PYPY3", "pypy3"),
    (r"GO", "go"),
    (r"RUST", "rust"),
    (r"MONOCS|CS|DOTNETCS", "csharp"),
    (r"HASK", "haskell"),
    (r"PAS|FPC", "pascal"),
    (r"RUBY\d*", "ruby"),
    (r"PHP\d*", "php"),
    (r"LUA", "lua"),
    (r"BASH", "bash"),
    (r"V8JS|NODEJS|JS", "javascript"),
    (r"BF", "brainfuck"),
    (r"NASM(64)?", "nasm"),
    (r"PERL", "perl"),
    (r"AWK", "awk"),
    (r"SCALA", "scala"),
    (r"OCAML", "ocaml"),
    (r"ADA", "ada"),
    (r"F95|FORTRAN", "fortran"),
    (r"SBCL", "common-lisp"),
    (r"TCL", "tcl"),
    (r"D", "d"),
    (r"PRO", "swi-prolog"),
    (r"R", "r"),
    (r"CBL", "cobol"),
    (r"OBJC", "objective-c"),
    (r"GROOVY", "groovy"),
    (r"CLANG", "c-clang"),
]

FLOAT_CHECKERS = {
    "floats": "float_tolerance",
    "floatsabs": "float_absolute_tolerance",
    "floatsrel": "float_relative_tolerance",
}
ERROR_MODES = {
    "default": "float_tolerance",
    "absolute": "float_absolute_tolerance",
    "relative": "float_relative_tolerance",
}
TEST_YML = ("test.linux.yml", "test.posix.yml", "test.yml")


def load(root: Path, pid: str) -> ProblemPackage:
    """The DMOJ problem in folder `root`; PackageError naming the file when it is broken."""
    warnings: list[str] = []
    init = read_yaml(root, root / "init.yml")
    for key in sorted(set(init) - INIT_KEYS):
        warnings.append(f"init.yml: unknown key {key}; ignored")
    for key, what in UNSUPPORTED.items():
        if init.get(key):
            raise PackageError("init.yml", f"{key}: {what} are not supported by this judge")
    if init.get("pretest_test_cases"):
        warnings.append("init.yml: pretest_test_cases are not judged; only test_cases are")
    data_root = root
    if init.get("archive"):
        archive = _inside(root, "archive", init["archive"])
        data_root = unpack_zip(archive, Path(tempfile.mkdtemp(prefix="judge-dmoj-")))
    secret = _cases(root, data_root, init)
    validator, args, protocol = _checker(root, init.get("checker", "standard"), warnings)
    return ProblemPackage(
        id=pid,
        name=pid,
        root=root,
        format="dmoj",
        scoring=False,
        interactive=False,
        multi_pass=False,
        limits=ProblemLimits(time_limit_s=None, time_limit_source="computed"),
        data=TestGroup(name="", cases=(), groups=(secret,)),
        output_validator=validator,
        output_validator_args=args,
        checker_protocol=protocol,
        submissions=tuple(_submissions(root, warnings)),
        warnings=tuple(warnings),
    )


def _inside(root: Path, key: str, value: object) -> Path:
    """A file named in init.yml: it must exist inside the problem folder."""
    if not isinstance(value, str) or not value:
        raise PackageError("init.yml", f"{key} must name a file, not {value!r}")
    p = root / value
    if ".." in Path(value).parts or Path(value).is_absolute():
        raise PackageError("init.yml", f"{key}: {value} is outside the problem folder")
    if not p.is_file():
        raise PackageError("init.yml", f"{key}: {value} does not exist")
    return p


def _cases(root: Path, data_root: Path, init: dict[str, Any]) -> TestGroup:
    raw = init.get("test_cases")
    if not isinstance(raw, list) or not raw:
        raise PackageError(
            "init.yml", "test_cases must be a non-empty list of {in, out, points} cases or batches"
        )
    short = bool(init.get("short_circuit", False))
    cases: list[TestCase] = []
    batches: list[TestGroup] = []
    for i, item in enumerate(raw, 1):
        if not isinstance(item, dict):
            raise PackageError("init.yml", f"test case {i} must be a map, not {item!r}")
        if "batched" in item:
            batch = item["batched"]
            if not isinstance(batch, list) or not batch:
                raise PackageError("init.yml", f"batch {i}: batched must be a non-empty list of cases")
            name = f"secret/batch{i}"
            inner = tuple(
                _case(root, data_root, f"{name}/{j}", c, f"batch {i} case {j}")
                for j, c in enumerate(batch, 1)
            )
            points = number("init.yml", f"batch {i} points", item.get("points", 0), minimum=0, strict=False)
            batches.append(
                TestGroup(
                    name=name,
                    cases=inner,
                    groups=(),
                    grading=Grading(
                        aggregation="min", on_reject="break", accept_score=points, reject_score=0.0
                    ),
                )
            )
        else:
            cases.append(_case(root, data_root, f"secret/{i}", item, f"test case {i}"))
    grading = Grading(on_reject="break" if short else "continue", verdict_mode="first_error")
    return TestGroup(name="secret", cases=tuple(cases), groups=tuple(batches), grading=grading)


def _case(root: Path, data_root: Path, name: str, item: object, label: str) -> TestCase:
    if not isinstance(item, dict):
        raise PackageError("init.yml", f"{label} must be a map, not {item!r}")
    if "in" not in item or "out" not in item:
        raise PackageError("init.yml", f"{label} needs in and out files (generated cases are not supported)")
    paths = []
    for key in ("in", "out"):
        value = item[key]
        if not isinstance(value, str) or ".." in Path(value).parts or Path(value).is_absolute():
            raise PackageError("init.yml", f"{label}: {key} must name a file in the problem, not {value!r}")
        p = data_root / value
        if not p.is_file():
            where = rel(root, p) if p.is_relative_to(root) else f"init.yml archive:{value}"
            raise PackageError(where, f"missing ({label} {key})")
        paths.append(p)
    points = item.get("points")
    value = None if points is None else number("init.yml", f"{label} points", points, minimum=0, strict=False)
    return TestCase(name=name, input=paths[0], answer=paths[1], points=value)


def _checker(root: Path, raw: object, warnings: list[str]) -> tuple[Program | None, tuple[str, ...], str]:
    """(output validator, its arguments, checker protocol) for init.yml's `checker`."""
    args: dict[str, Any] = {}
    if isinstance(raw, str):
        name = raw
    elif isinstance(raw, dict) and isinstance(raw.get("name"), str):
        name, args = raw["name"], raw.get("args", {}) or {}
        if not isinstance(args, dict):
            raise PackageError("init.yml", f"checker args must be a map, not {args!r}")
    else:
        raise PackageError("init.yml", f"checker must be a name or {{name, args}}, not {raw!r}")
    if name == "standard":
        return None, ("case_sensitive",), "kattis"
    if name == "identical":
        return None, ("case_sensitive", "space_change_sensitive"), "kattis"
    if name in FLOAT_CHECKERS:
        precision = int(
            number(
                "init.yml",
                "checker precision",
                args.get("precision", 6),
                integer=True,
                minimum=0,
                strict=False,
            )
        )
        flag = FLOAT_CHECKERS[name]
        if name == "floats":
            mode = args.get("error_mode", "default")
            if mode not in ERROR_MODES:
                raise PackageError(
                    "init.yml", f"checker error_mode must be default, absolute or relative, not {mode!r}"
                )
            flag = ERROR_MODES[mode]
        return None, ("case_sensitive", flag, f"1e-{precision}"), "kattis"
    if name == "bridged":
        return _bridged(root, args, warnings)
    raise PackageError(
        "init.yml",
        f"checker {name!r} is not supported (supported: standard, identical, "
        "floats, floatsabs, floatsrel, and bridged default/testlib checkers)",
    )


def _bridged(root: Path, args: dict[str, Any], warnings: list[str]) -> tuple[Program, tuple[str, ...], str]:
    kind = args.get("type", "default")
    if kind not in ("default", "testlib"):
        raise PackageError("init.yml", f"bridged checker type {kind!r} is not supported (default, testlib)")
    files = args.get("files")
    files = [files] if isinstance(files, str) else files
    if not isinstance(files, list) or len(files) != 1:
        raise PackageError("init.yml", "a bridged checker must name exactly one source file in files")
    path = _inside(root, "checker files", files[0])
    lang = _language(args["lang"]) if isinstance(args.get("lang"), str) else None
    if lang is None:
        lang = language_of_file(path, warnings, rel(root, path))
    flags = args.get("flags") or ()
    if flags:
        warnings.append("init.yml: bridged checker compiler flags are not used")
    return Program(path=path, language=lang), (), "testlib"


def _language(dmoj_id: str) -> str | None:
    for pattern, ours in DMOJ_LANGUAGES:
        if re.fullmatch(pattern, dmoj_id.upper()):
            return ours
    return None


def _submissions(root: Path, warnings: list[str]) -> list[PackageSubmission]:
    out = []
    for test in entries(root / "tests"):
        if not test.is_dir():
            continue
        spec = next((test / n for n in TEST_YML if (test / n).is_file()), None)
        if spec is None:
            warnings.append(f"{rel(root, test)}: no test.yml; not a submission")
            continue
        out.append(_submission(root, test, spec))
    return out


def _submission(root: Path, test: Path, spec: Path) -> PackageSubmission:
    where = rel(root, spec)
    raw = read_yaml(root, spec)
    source = raw.get("source")
    if not isinstance(source, str) or not source or "/" in source:
        raise PackageError(where, f"source must name one file beside it, not {source!r}")
    path = test / source
    if not path.is_file():
        raise PackageError(rel(root, test) + source, f"missing (the source named by {spec.name})")
    language = raw.get("language")
    if not isinstance(language, str):
        raise PackageError(where, f"language must be a DMOJ executor id, not {language!r}")
    expected = _expected(where, raw)
    time_s = number(where, "time", raw["time"]) if "time" in raw else None
    memory = int(number(where, "memory", raw["memory"], integer=True)) if "memory" in raw else None
    return PackageSubmission(
        path=path,
        rel=rel(root, path),
        language=_language(language),
        expected=expected,
        folder=test.name,
        time_limit_s=time_s,
        memory_limit_kib=memory,
    )


def _expected(where: str, raw: dict[str, Any]) -> tuple[Verdict, ...]:
    if "expect" in raw:
        listed = raw["expect"] if isinstance(raw["expect"], list) else [raw["expect"]]
    elif "cases" in raw and isinstance(raw["cases"], list):
        codes = [str(c) for c in raw["cases"]]
        listed = [next((c for c in codes if c != "AC"), "AC")]  # DMOJ: the first case that failed
    else:
        raise PackageError(where, "needs expect (a verdict or a list) or cases (one verdict per case)")
    out: list[Verdict] = []
    for code in listed:
        v = DMOJ_VERDICTS.get(str(code).upper())
        if v is None:
            raise PackageError(where, f"unknown verdict {code!r} (known: {', '.join(DMOJ_VERDICTS)})")
        if v not in out:
            out.append(v)
    return tuple(out)
