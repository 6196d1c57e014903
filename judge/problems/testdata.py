"""A package's test data: the data/ tree as TestGroups of TestCases, each group with its Grading.

Reads only. Decisions, each where the specs leave room or real packages disagree with them:

* A case is `X.in`; `X.ans` must sit beside it except in interactive problems. An
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
  Unknown keys in test_group.yaml are errors in 2025-09 and warnings before (as in problem.yaml).
* A 2025-09 scoring group maps onto Grading: `pass-fail` is aggregation "min" with accept_score
  = max_score; `sum` gives each of its N cases max_score/N.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .archive import follow_text_link
from .files import PackageError, entries, number, read_yaml, rel, unknown_keys, words
from .model import Grading, TestCase, TestGroup

TESTDATA_KEYS = {
    "on_reject",
    "grading",
    "grader_flags",
    "input_validator_flags",
    "output_validator_flags",
    "accept_score",
    "reject_score",
    "range",
}
TEST_GROUP_KEYS = {
    "max_score",
    "score_aggregation",
    "static_validation_score",
    "require_pass",
    "args",
    "input_validator_args",
    "static_validator_args",
    "output_validator_args",
    "input_visualizer_args",
    "output_visualizer_args",
    "full_feedback",
}
TEST_GROUP_KEYS_2023 = TEST_GROUP_KEYS | {"scoring", "static_validation", "hint", "description"}
TEST_CASE_KEYS = {
    "args",
    "input_validator_args",
    "output_validator_args",
    "input_visualizer_args",
    "output_visualizer_args",
    "full_feedback",
    "hint",
    "description",
}
NOT_JUDGED = {"invalid_input", "invalid_output", "valid_output"}  # 2023-07+: tests of the validators

LEGACY_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,253}[a-zA-Z0-9]$")  # legacy, 2023-07-draft
NAME_2025 = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,254}$")


def read_data(
    root: Path,
    fmt: str,
    warnings: list[str],
    *,
    interactive: bool,
    new_scoring: bool,
    validator_name: str | None,
    problem_grading: object,
) -> TestGroup:
    """The test data under `root`/data as the root TestGroup; warnings are appended.

    `problem_grading` is problem.yaml's `grading` (legacy); `new_scoring` says whether groups
    score by 2023-07+ test_group.yaml rather than testdata.yaml; `validator_name` picks per-validator
    flags.
    """
    return _TestData(
        root, fmt, warnings, interactive=interactive, new_scoring=new_scoring, validator_name=validator_name
    ).data(problem_grading)


@dataclass
class _Settings:
    """The test-data settings in force in one folder: raw legacy keys and 2023-07+ inherited keys."""

    legacy: dict[str, Any] = field(default_factory=dict)
    new: dict[str, Any] = field(default_factory=dict)


class _TestData:
    def __init__(
        self,
        root: Path,
        fmt: str,
        warnings: list[str],
        *,
        interactive: bool,
        new_scoring: bool,
        validator_name: str | None,
    ) -> None:
        self.root = root
        self.fmt = fmt
        self.warnings = warnings
        self.interactive = interactive
        self.new_scoring = new_scoring  # 2023-07+ test_group.yaml scoring rather than testdata.yaml's
        self.validator_name = validator_name

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def unknown(self, where: str, keys: set[str], allowed: set[str]) -> None:
        unknown_keys(self.fmt, self.warnings, where, keys, allowed)

    def data(self, problem_grading: object) -> TestGroup:
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
        root_group = TestGroup(
            name="", cases=(), groups=tuple(groups), grading=self._grading("", settings, own, 0)
        )
        if not root_group.all_cases():
            raise PackageError(
                "data/", "no test cases: put X.in and X.ans pairs in data/secret or data/sample"
            )
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
            self.unknown(
                f"{where}test_group.yaml",
                set(own),
                TEST_GROUP_KEYS if self.fmt == "2025-09" else TEST_GROUP_KEYS_2023,
            )
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
                    self.warn(
                        f"{rel(self.root, item)}: .files folders are not supported; the submission "
                        "will not see them"
                    )
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
                raise PackageError(
                    where, f"not a valid file name: it must match {LEGACY_NAME.pattern} ({self.fmt} format)"
                )
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

    def _case(
        self, d: Path, group: str, base: str, answer: Path | None, settings: _Settings, files: set[str]
    ) -> TestCase:
        new = dict(settings.new)
        if self.fmt != "legacy" and f"{base}.yaml" in files:
            raw = read_yaml(self.root, d / f"{base}.yaml")
            self.unknown(rel(self.root, d / f"{base}.yaml"), set(raw), TEST_CASE_KEYS)
            new.update(
                {
                    k: v
                    for k, v in raw.items()
                    if k in ("output_validator_args", "input_validator_args", "args")
                }
            )
        where = rel(self.root, d / f"{base}.in")
        if new.get("args"):
            self.warn(f"{where}: `args` for the submission are not supported; it runs without them")
        out_args, in_args = self._validator_args(where, settings.legacy, new)
        interaction = d / f"{base}.interaction" if f"{base}.interaction" in files else None
        source = follow_text_link(self.root, d / f"{base}.in", self.warnings)
        return TestCase(
            name=f"{group}/{base}",
            input=source,
            answer=self._follow(answer),
            interaction=self._follow(interaction),
            is_sample=group == "sample" or group.startswith("sample/"),
            output_validator_args=out_args,
            input_validator_args=in_args,
        )

    def _follow(self, p: Path | None) -> Path | None:
        return None if p is None else follow_text_link(self.root, p, self.warnings)

    def _validator_args(
        self, where: str, legacy: dict[str, Any], new: dict[str, Any]
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        out_args = self._flags(
            where, "output_validator_flags", legacy.get("output_validator_flags"), self.validator_name
        )
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
            self.warn(
                f"{where}: {key} given per validator; flags for each input validator are not "
                "supported, so they are not passed"
            )
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
        aggregation = own.get(
            "score_aggregation", sc.get("aggregation", "sum" if name == "secret" else "pass-fail")
        )
        max_score = (
            None
            if raw_max == "unbounded"
            else number(where, "max_score", raw_max, integer=True, minimum=0, strict=False)
        )
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
            raise PackageError(
                where, f"range must be two numbers (inf allowed), not {legacy['range']!r}"
            ) from None
        if low > high:
            raise PackageError(where, f"range {legacy['range']!r} is empty")
        kw["max_score"] = None if high == float("inf") else high
    return kw
