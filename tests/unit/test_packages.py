"""The package loader (judge/problems/package.py, dmoj.py): the conformance corpus and broken packages.

The corpus (../shared/conformance beside the project; never copied into it) has 14 packages
and EXPECTED.tsv, one row per submission. Every row must be found as a PackageSubmission.rel of its
problem, with the same set of expected verdicts (PAC is AC: verify checks the score) and the
time and memory limits the row states. The broken packages are written into tmp_path, one per
PackageError the loader raises.
"""

from __future__ import annotations

import csv
import os
import tempfile
import zipfile
from pathlib import Path

import pytest

from judge.errors import JudgeError
from judge.problems import archive, package
from judge.problems.model import ProblemPackage
from judge.problems.package import PackageError
from judge.verdict import Verdict

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "conformance"
EXPECTED = CORPUS / "EXPECTED.tsv"
corpus = pytest.mark.skipif(not EXPECTED.exists(), reason=f"the conformance corpus is not at {CORPUS}")

# judged cases per package, from the corpus's SOURCES.md (boolfind's 9.in and 10.in are missing there)
CASES = {
    "problemtools/different": 3,
    "problemtools/guess": 10,
    "problemtools/hello": 1,
    "problemtools/oddecho": 18,
    "domjudge/hello": 1,
    "domjudge/fltcmp": 4,
    "domjudge/boolfind": 8,
    "domjudge/jumble": 18,
    "domjudge/hangman": 8,
    "bapctools/guess": 10,
    "bapctools/hellounix": 1,
    "bapctools/pseudointeraction": 3,
    "dmoj/helloworld": 1,
    "dmoj/floats": 7,
}
# EXPECTED.tsv's language_detail -> the judge language id the loader should give (others: None)
LANGUAGES = {
    "c": "c",
    "c++": "cpp",
    "c++11": "cpp",
    "java": "java",
    "java8": "java",
    "kotlin": "kotlin",
    "python3": "python3",
    "pypy3": "pypy3",
    "go": "go",
    "rust": "rust",
    "javascript": "javascript",
    "csharp": "csharp",
    "csharp-mono": "csharp",
    "haskell": "haskell",
    "pascal": "pascal",
    "ruby": "ruby",
    "php": "php",
    "lua": "lua",
    "bash": "bash",
    "sh": "bash",
    # issue 22's languages; Swift stays unjudged (Debian 12 has no Swift)
    "scala": "scala",
    "common-lisp": "common-lisp",
    "ocaml": "ocaml",
    "r": "r",
    "ada": "ada",
    "awk": "awk",
    "fortran": "fortran",
    "perl": "perl",
    "prolog": "swi-prolog",
    "brainfuck": "brainfuck",
    "nasm64": "nasm",
    "nasm32": "nasm",
}


def rows() -> list[dict[str, str]]:
    if not EXPECTED.exists():
        return []
    with open(EXPECTED, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


_loaded: dict[str, ProblemPackage] = {}


def problem(name: str) -> ProblemPackage:
    if name not in _loaded:
        _loaded[name] = package.load(CORPUS / name)
    return _loaded[name]


# --- the corpus ---------------------------------------------------------------------------------


@corpus
def test_the_corpus_has_298_rows_in_14_packages() -> None:
    assert len(rows()) == 298
    assert {r["problem_dir"] for r in rows()} == set(CASES)


@corpus
@pytest.mark.parametrize("name", sorted(CASES))
def test_every_row_is_a_submission_with_its_expected_verdicts_and_limits(name: str) -> None:
    p = problem(name)
    by_rel = {s.rel: s for s in p.submissions}
    assert len(by_rel) == len(p.submissions), "two submissions with the same rel"
    mine = [r for r in rows() if r["problem_dir"] == name]
    assert {r["submission_path"] for r in mine} == set(by_rel), "the loader found other submissions"
    for r in mine:
        sub = by_rel[r["submission_path"]]
        want = {"AC" if v == "PAC" else v for v in r["expected_verdict"].split("|")}
        assert {v.value for v in sub.expected} == want, r["submission_path"]
        assert sub.language == LANGUAGES.get(r["language_detail"]), r["submission_path"]
        assert sub.path.exists() and sub.path.is_dir() == sub.rel.endswith("/")
        if r["time_limit_s"]:
            limit = sub.time_limit_s if sub.time_limit_s is not None else p.limits.time_limit_s
            assert limit == float(r["time_limit_s"]), r["submission_path"]
        if r["memory_limit_mb"]:
            mib = sub.memory_limit_kib / 1024 if sub.memory_limit_kib is not None else p.limits.memory_mib
            assert mib == pytest.approx(float(r["memory_limit_mb"]), abs=1e-3), r["submission_path"]


@corpus
@pytest.mark.parametrize("name", sorted(CASES))
def test_flags_follow_the_features_column_and_case_counts(name: str) -> None:
    p = problem(name)
    features = " ".join(r["features"] for r in rows() if r["problem_dir"] == name)
    assert p.interactive is ("interactive(" in features)
    assert p.multi_pass is ("multi_pass(" in features)
    assert p.scoring is ("scoring(" in features)
    cases = p.cases()
    assert len(cases) == CASES[name]
    assert len({c.name for c in cases}) == len(cases)
    for c in cases:
        assert c.input.is_file() and (c.answer is None or c.answer.is_file())
        assert c.answer is not None or p.interactive
    if not any("time_limit_s" in r and r["time_limit_s"] for r in rows() if r["problem_dir"] == name):
        assert p.limits.time_limit_s is None and p.limits.time_limit_source == "computed"


@corpus
def test_what_each_format_says_is_read() -> None:
    fltcmp = problem("domjudge/fltcmp")
    assert (fltcmp.format, fltcmp.output_validator_args) == ("legacy", ("float_tolerance", "1E-6"))
    assert fltcmp.limits.time_limit_source == ".timelimit"
    hangman = problem("domjudge/hangman")
    assert hangman.limits.validation_passes == 26 and hangman.output_validator is not None
    assert hangman.output_validator.language == "python3"
    entry = {s.rel: s.entry_point for s in hangman.submissions}
    assert entry["submissions/time_limit_exceeded/run_frequency/"] == "main.py"
    different = problem("problemtools/different")
    assert different.limits.time_safety_margin == 4 and different.limits.time_multiplier == 5
    assert [(v.path.name, v.language, v.kind) for v in different.input_validators] == [
        ("different.ctd", None, "checktestdata"),
        ("validate.py", "python3", "program"),
    ]
    assert not any("different.ctd" in w for w in different.warnings)  # run, so nothing to warn about
    guess = problem("bapctools/guess")
    assert (guess.format, guess.limits.time_safety_margin, guess.limits.time_multiplier) == (
        "2025-09",
        4.0,
        2.0,
    )
    assert guess.data.groups[0].name == "sample" and guess.data.groups[0].cases == ()  # .interaction only
    pt_guess = problem("problemtools/guess")
    assert pt_guess.output_validator is not None and pt_guess.output_validator.path.name == "guess_validator"
    assert pt_guess.name == "Guess the Number"
    unix = problem("bapctools/hellounix")
    assert (unix.limits.time_limit_s, unix.limits.time_limit_source, unix.limits.memory_mib) == (
        10.0,
        "problem.yaml",
        512,
    )
    assert "submissions/run_time_error/test-stacksize.c.disabled" not in {s.rel for s in unix.submissions}


@corpus
def test_oddecho_groups_inherit_testdata_yaml_key_by_key() -> None:
    p = problem("problemtools/oddecho")
    sample, secret = p.data.groups
    assert [g.name for g in secret.groups] == ["secret/subtask1", "secret/subtask2"]
    assert p.data.grading.ignore_sample and p.data.grading.on_reject == "continue"
    assert secret.grading.verdict_mode == "first_error" and secret.grading.accept_if_any_accepted
    sub1 = secret.groups[0]
    assert (
        sub1.grading.on_reject,
        sub1.grading.aggregation,
        sub1.grading.accept_score,
        sub1.grading.max_score,
    ) == ("break", "min", 50.0, 50.0)
    assert sub1.cases[0].input_validator_args == ("nFive=1",)
    assert sample.grading.accept_score == 0.0 and sample.cases[0].is_sample
    # subtask2/1.in is a link stored as text ("../subtask1/1.in"): it is followed
    linked = next(c for c in secret.groups[1].cases if c.name == "secret/subtask2/1")
    assert linked.input == sub1.cases[0].input
    assert [c.name for c in secret.groups[1].cases][:3] == [
        "secret/subtask2/01",
        "secret/subtask2/02",
        "secret/subtask2/03",
    ]


@corpus
def test_dmoj_checker_and_batches() -> None:
    floats = problem("dmoj/floats")
    assert floats.output_validator_args == ("case_sensitive", "float_tolerance", "1e-2")
    secret = floats.data.groups[0]
    assert secret.grading.on_reject == "continue" and secret.grading.verdict_mode == "first_error"
    assert [c.points for c in secret.cases] == [1.0] * 7
    assert all(c.answer is not None and c.answer.name == "1.txt" for c in secret.cases)
    hello = problem("dmoj/helloworld")
    assert hello.output_validator_args == ("case_sensitive",) and hello.format == "dmoj"
    subs = {s.rel: s for s in hello.submissions}
    assert subs["tests/c_failinit/fail.c"].expected == (Verdict.RTE, Verdict.MLE)
    assert subs["tests/java_grace/grace.java"].memory_limit_kib == 1


@corpus
def test_a_zipped_package_loads_like_its_folder(tmp_path: Path) -> None:
    src = CORPUS / "problemtools" / "oddecho"
    for inside_folder in (True, False):
        zpath = tmp_path / f"oddecho{inside_folder}.zip"
        with zipfile.ZipFile(zpath, "w") as zf:
            for f in sorted(src.rglob("*")):
                if f.is_file():
                    r = f.relative_to(src.parent if inside_folder else src).as_posix()
                    zf.write(f, r)
        work = tmp_path / f"work{inside_folder}"
        z = package.load(zpath, workdir=work)
        d = problem("problemtools/oddecho")
        assert z.root.is_relative_to(work) and z.id == zpath.stem
        assert [c.name for c in z.cases()] == [c.name for c in d.cases()]
        assert [(c.input.read_bytes(), c.answer and c.answer.read_bytes()) for c in z.cases()] == [
            (c.input.read_bytes(), c.answer and c.answer.read_bytes()) for c in d.cases()
        ]
        assert [(s.rel, s.expected, s.language) for s in z.submissions] == [
            (s.rel, s.expected, s.language) for s in d.submissions
        ]
        assert z.data.groups[1].groups[0].grading == d.data.groups[1].groups[0].grading


# --- synthetic packages -----------------------------------------------------------------------


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def minimal(root: Path, **extra: str) -> Path:
    files = {
        "problem.yaml": "name: Sum\n",
        "data/secret/1.in": "1 2\n",
        "data/secret/1.ans": "3\n",
        "submissions/accepted/sum.py": "print(sum(map(int, input().split())))\n",
    }
    files.update(extra)
    return write(root, files)


def raises(root: Path, where: str, fault: str) -> PackageError:
    with pytest.raises(PackageError) as info:
        package.load(root)
    assert info.value.where == where, str(info.value)
    assert fault in info.value.fault, str(info.value)
    return info.value


def test_a_minimal_legacy_package(tmp_path: Path) -> None:
    p = package.load(minimal(tmp_path / "sum"))
    assert (p.id, p.name, p.format, p.scoring, p.interactive) == ("sum", "Sum", "legacy", False, False)
    assert [c.name for c in p.cases()] == ["secret/1"]
    assert [(s.rel, s.expected, s.language) for s in p.submissions] == [
        ("submissions/accepted/sum.py", (Verdict.AC,), "python3")
    ]
    assert (p.limits.time_limit_s, p.limits.memory_mib, p.limits.time_multiplier) == (None, 1024, 5.0)


def test_missing_problem_yaml(tmp_path: Path) -> None:
    write(tmp_path / "p", {"data/secret/1.in": "1\n"})
    raises(tmp_path / "p", "problem.yaml", "missing")


def test_bad_yaml(tmp_path: Path) -> None:
    raises(minimal(tmp_path / "p", **{"problem.yaml": "name: [unclosed\n"}), "problem.yaml", "not valid YAML")


def test_problem_yaml_that_is_not_a_map(tmp_path: Path) -> None:
    raises(minimal(tmp_path / "p", **{"problem.yaml": "- a\n- b\n"}), "problem.yaml", "mapping")


@pytest.mark.parametrize(
    ("limits", "fault"),
    [
        ("memory: lots", "limits.memory must be an integer, not 'lots'"),
        ("memory: 0", "limits.memory must be > 0"),
        ("memory: 1.5", "limits.memory must be an integer"),
        ("time_multiplier: true", "limits.time_multiplier must be a number"),
    ],
)
def test_wrong_types_in_limits(tmp_path: Path, limits: str, fault: str) -> None:
    root = minimal(tmp_path / "p", **{"problem.yaml": f"name: x\nlimits:\n  {limits}\n"})
    raises(root, "problem.yaml", fault)


def test_unknown_key_is_an_error_in_2025_09_and_a_warning_in_legacy(tmp_path: Path) -> None:
    new = "problem_format_version: 2025-09\nname: x\nuuid: u\nflavour: spicy\n"
    raises(minimal(tmp_path / "new", **{"problem.yaml": new}), "problem.yaml", "unknown key flavour")
    p = package.load(minimal(tmp_path / "old", **{"problem.yaml": "name: x\nflavour: spicy\n"}))
    assert p.warnings == ("problem.yaml: unknown key flavour; ignored",)


def test_unknown_limit_and_test_group_keys_in_2025_09(tmp_path: Path) -> None:
    head = "problem_format_version: 2025-09\nname: x\nuuid: u\n"
    raises(
        minimal(tmp_path / "a", **{"problem.yaml": head + "limits:\n  time_multiplier: 5\n"}),
        "problem.yaml limits",
        "unknown key time_multiplier",
    )
    raises(
        minimal(tmp_path / "b", **{"problem.yaml": head, "data/secret/test_group.yaml": "points: 3\n"}),
        "data/secret/test_group.yaml",
        "unknown key points",
    )


def test_2025_09_requires_name_and_uuid(tmp_path: Path) -> None:
    raises(
        minimal(tmp_path / "p", **{"problem.yaml": "problem_format_version: 2025-09\nname: x\n"}),
        "problem.yaml",
        "uuid is required",
    )


@pytest.mark.parametrize(
    ("yaml_text", "fault"),
    [
        ("problem_format_version: 1999-01\n", "problem_format_version '1999-01'"),
        ("type: interactive\n", "type must be pass-fail or scoring"),
        ("validation: custom flying\n", "'flying' cannot follow 'custom'"),
        (
            "problem_format_version: 2025-09\nname: x\nuuid: u\ntype: [pass-fail, scoring]\n",
            "both pass-fail and scoring",
        ),
        ("problem_format_version: 2025-09\nname: x\nuuid: u\ntype: submit-answer\n", "submit-answer"),
    ],
)
def test_bad_type_and_version(tmp_path: Path, yaml_text: str, fault: str) -> None:
    raises(minimal(tmp_path / "p", **{"problem.yaml": yaml_text}), "problem.yaml", fault)


def test_missing_ans(tmp_path: Path) -> None:
    root = minimal(tmp_path / "p", **{"data/secret/2.in": "5\n"})
    raises(root, "data/secret/2.in", "has no 2.ans")


def test_interactive_cases_need_no_ans_and_interaction_alone_is_not_a_case(tmp_path: Path) -> None:
    root = minimal(
        tmp_path / "p",
        **{
            "problem.yaml": "validation: custom interactive\n",
            "output_validators/v/v.py": "print()\n",
            "data/secret/2.in": "5\n",
            "data/sample/1.interaction": "<1\n>2\n",
            "data/sample/3.in": "3\n",
            "data/sample/3.ans": "3\n",
            "data/sample/3.interaction": "<3\n",
        },
    )
    p = package.load(root)
    assert p.interactive and p.output_validator is not None and p.output_validator.language == "python3"
    cases = {c.name: c for c in p.cases()}
    assert set(cases) == {"sample/3", "secret/1", "secret/2"}
    assert cases["secret/2"].answer is None
    assert cases["sample/3"].interaction == root / "data/sample/3.interaction" and cases["sample/3"].is_sample


def test_custom_validation_needs_a_validator(tmp_path: Path) -> None:
    raises(
        minimal(tmp_path / "p", **{"problem.yaml": "validation: custom\n"}),
        "output_validators/",
        "no output validator",
    )


def test_bad_case_name_is_an_error_in_legacy_and_ignored_in_2025_09(tmp_path: Path) -> None:
    raises(
        minimal(tmp_path / "old", **{"data/secret/_x.in": "1\n", "data/secret/_x.ans": "1\n"}),
        "data/secret/_x.in",
        "not a valid file name",
    )
    head = "problem_format_version: 2025-09\nname: x\nuuid: u\n"
    p = package.load(
        minimal(
            tmp_path / "new",
            **{"problem.yaml": head, "data/secret/a b.in": "1\n", "data/secret/a b.ans": "1\n"},
        )
    )
    assert [c.name for c in p.cases()] == ["secret/1"]
    assert any("a b.in: not a valid file name, so ignored" in w for w in p.warnings)


def test_an_ans_without_in_is_a_warning_in_legacy_and_an_error_in_2025_09(tmp_path: Path) -> None:
    p = package.load(minimal(tmp_path / "old", **{"data/secret/9.ans": "1\n"}))
    assert p.warnings == ("data/secret/9.ans: there is no 9.in, so it is not a test case",)
    head = "problem_format_version: 2025-09\nname: x\nuuid: u\n"
    raises(
        minimal(tmp_path / "new", **{"problem.yaml": head, "data/secret/9.ans": "1\n"}),
        "data/secret/9.ans",
        "no 9.in",
    )


def test_no_test_cases(tmp_path: Path) -> None:
    write(tmp_path / "p", {"problem.yaml": "name: x\n", "data/secret/readme.txt": "nothing\n"})
    raises(tmp_path / "p", "data/", "no test cases")


def test_symlink_leaving_the_package(tmp_path: Path) -> None:
    root = minimal(tmp_path / "p")
    (tmp_path / "secret.txt").write_text("the host's\n")
    os.symlink(tmp_path / "secret.txt", root / "data/secret/2.in")
    err = raises(root, "data/secret/2.in", "leaves the package")
    assert "secret.txt" in err.fault


def test_symlink_inside_the_package_is_a_submission_under_its_own_name(tmp_path: Path) -> None:
    root = minimal(tmp_path / "p", **{"submissions/accepted/other.c": "int main(){}\n"})
    (root / "submissions/wrong_answer").mkdir()
    os.symlink("../accepted/sum.py", root / "submissions/wrong_answer/link.py")
    subs = {s.rel: s for s in package.load(root).submissions}
    link = subs["submissions/wrong_answer/link.py"]
    assert link.expected == (Verdict.WA,) and link.language == "python3"
    assert link.path.resolve() == (root / "submissions/accepted/sum.py").resolve()


def test_a_link_written_as_text_is_followed_inside_the_package_only(tmp_path: Path) -> None:
    root = minimal(
        tmp_path / "p",
        **{
            "data/secret/2.in": "1.in",
            "data/secret/2.ans": "1.ans",
            "data/secret/3.in": "../../../outside",
            "data/secret/3.ans": "x\n",
        },
    )
    (tmp_path / "outside").write_text("host\n")
    cases = {c.name: c for c in package.load(root).cases()}
    assert cases["secret/2"].input == root / "data/secret/1.in"
    assert cases["secret/2"].answer == root / "data/secret/1.ans"
    assert cases["secret/3"].input == root / "data/secret/3.in"  # not followed out of the package


def test_domjudge_markers_ini_and_submissions_json(tmp_path: Path) -> None:
    root = minimal(
        tmp_path / "p",
        **{
            "problem.yaml": "",
            "domjudge-problem.ini": "name='Hello'\ntimelimit = 2.5\n",
            "submissions/accepted/maybe.c": "/* @EXPECTED_RESULTS@: CORRECT, WRONG_ANSWER */\n",
            "submissions/multiple/t.c": (
                "// the @EXPECTED_RESULTS@ tag below\n// @EXPECTED_RESULTS@: TIMELIMIT\n"
            ),
            "submissions/multiple/none.c": "int main(){}\n",
            "submissions/accepted/two/expected_result.txt": "@EXPECTED_RESULTS@: RUN-ERROR\n",
            "submissions/accepted/two/a.py": "import b\n",
            "submissions/accepted/two/b.py": "\n",
            "submissions.json": '{"submissions/accepted/two/": {"entry_point": "a.py"}}',
        },
    )
    p = package.load(root)
    assert (p.name, p.limits.time_limit_s, p.limits.time_limit_source) == (
        "Hello",
        2.5,
        "domjudge-problem.ini",
    )
    subs = {s.rel: s for s in p.submissions}
    assert subs["submissions/accepted/maybe.c"].expected == (Verdict.AC, Verdict.WA)
    assert subs["submissions/multiple/t.c"].expected == (Verdict.TLE,)
    assert subs["submissions/multiple/none.c"].expected == ()
    two = subs["submissions/accepted/two/"]
    assert (two.expected, two.entry_point, two.language) == ((Verdict.RTE,), "a.py", "python3")
    assert any("none.c: no expected verdict" in w for w in p.warnings)


def test_timelimit_file_beats_the_ini_and_must_be_a_number(tmp_path: Path) -> None:
    root = minimal(tmp_path / "p", **{".timelimit": "3\n", "domjudge-problem.ini": "timelimit = 4\n"})
    p = package.load(root)
    assert (p.limits.time_limit_s, p.limits.time_limit_source) == (3.0, ".timelimit")
    assert any("differs" in w for w in p.warnings)
    raises(minimal(tmp_path / "q", **{".timelimit": "soon\n"}), ".timelimit", "number of seconds")


def test_a_domjudge_package_with_only_the_ini(tmp_path: Path) -> None:
    root = minimal(tmp_path / "p", **{"domjudge-problem.ini": "name = Old\ntimelimit = '7'\n"})
    (root / "problem.yaml").unlink()
    p = package.load(root)
    assert (p.format, p.name, p.limits.time_limit_s) == ("legacy", "Old", 7.0)


def test_2025_09_scoring_groups(tmp_path: Path) -> None:
    head = "problem_format_version: 2025-09\nname: x\nuuid: u\ntype: scoring\n"
    root = write(
        tmp_path / "p",
        {
            "problem.yaml": head,
            "data/sample/1.in": "1\n",
            "data/sample/1.ans": "1\n",
            "data/secret/a/1.in": "1\n",
            "data/secret/a/1.ans": "1\n",
            "data/secret/a/test_group.yaml": "max_score: 30\noutput_validator_args: [case_sensitive]\n",
            "data/secret/b/1.in": "1\n",
            "data/secret/b/1.ans": "1\n",
            "data/secret/b/2.in": "1\n",
            "data/secret/b/2.ans": "1\n",
            "data/secret/b/test_group.yaml": (
                "max_score: 70\nscore_aggregation: sum\nrequire_pass: secret/a\n"
            ),
        },
    )
    p = package.load(root)
    sample, secret = p.data.groups
    a, b = secret.groups
    assert (secret.grading.max_score, secret.grading.aggregation) == (100, "sum")
    assert (a.grading.aggregation, a.grading.accept_score, a.grading.on_reject) == ("min", 30, "break")
    assert a.cases[0].output_validator_args == ("case_sensitive",)
    assert b.cases[0].output_validator_args == ()
    assert (b.grading.aggregation, b.grading.accept_score, b.grading.require_pass) == (
        "sum",
        35,
        ("secret/a",),
    )
    assert p.data.grading.ignore_sample and sample.grading.accept_score == 0


def test_2023_07_scoring_map_case_yaml_and_an_empty_limits_key(tmp_path: Path) -> None:
    head = "problem_format_version: 2023-07-draft\nname: x\ntype: scoring\nlimits:\n# memory: 5\n"
    root = write(
        tmp_path / "p",
        {
            "problem.yaml": head + "validation: custom\n",
            "data/secret/g/1.in": "1\n",
            "data/secret/g/1.ans": "1\n",
            "data/secret/g/2.in": "1\n",
            "data/secret/g/2.ans": "1\n",
            "data/secret/g/2.yaml": "output_validator_args: [float_tolerance, '1']\n",
            "data/secret/g/test_group.yaml": "scoring: {score: 40, aggregation: sum}\n"
            "output_validator_args: [case_sensitive]\n",
        },
    )
    p = package.load(root)
    (g,) = p.data.groups[0].groups
    assert (g.grading.aggregation, g.grading.accept_score, g.grading.max_score) == ("sum", 20, 40)
    assert [c.output_validator_args for c in g.cases] == [("case_sensitive",), ("float_tolerance", "1")]
    assert p.limits.memory_mib == 1024 and p.output_validator is None  # `validation` is legacy only
    assert p.warnings == ("problem.yaml: unknown key validation; ignored",)


def test_output_validators_with_two_programs(tmp_path: Path) -> None:
    root = minimal(
        tmp_path / "p",
        **{
            "problem.yaml": "validation: custom\n",
            "output_validators/a/a.py": "\n",
            "output_validators/b/b.py": "\n",
        },
    )
    raises(root, "output_validators/", "holds 2 programs")


def test_program_language_by_majority_build_run_and_python2(tmp_path: Path) -> None:
    root = minimal(
        tmp_path / "p",
        **{
            "problem.yaml": "validation: custom\n",
            "output_validators/v/validate.cc": "\n",
            "output_validators/v/validate.h": "\n",
            "input_validators/iv/build": "#!/bin/sh\n",
            "input_validators/old.py": "#!/usr/bin/env python2\n",
            "input_validators/check.sh": "exit 42\n",
        },
    )
    p = package.load(root)
    assert p.output_validator is not None and p.output_validator.language == "cpp"
    assert [(v.path.name, v.language, v.build_run) for v in p.input_validators] == [
        ("check.sh", "bash", False),
        ("iv", None, True),
        ("old.py", None, False),
    ]
    assert any("Python 2" in w for w in p.warnings)


def test_testdata_yaml_errors_name_the_folder(tmp_path: Path) -> None:
    raises(
        minimal(tmp_path / "a", **{"data/secret/testdata.yaml": "on_reject: maybe\n"}),
        "data/secret/testdata.yaml",
        "on_reject must be break or continue",
    )
    raises(
        minimal(tmp_path / "b", **{"data/testdata.yaml": "range: 5 1\n"}), "data/testdata.yaml", "is empty"
    )
    raises(
        minimal(tmp_path / "c", **{"data/testdata.yaml": "accept_score: high\n"}),
        "data/testdata.yaml",
        "accept_score must be a number",
    )
    raises(
        minimal(tmp_path / "d", **{"problem.yaml": "grading:\n  on_reject: never\n"}),
        "problem.yaml grading",
        "on_reject",
    )


# --- zips --------------------------------------------------------------------------------------


def zip_of(path: Path, entries: dict[str, bytes], *, links: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16
            zf.writestr(info, "/etc/passwd")
    return path


GOOD = {"problem.yaml": b"name: z\n", "data/secret/1.in": b"1\n", "data/secret/1.ans": b"1\n"}


@pytest.mark.parametrize("name", ["../evil", "a/../../evil", "/etc/evil", "C:/evil", "a\\..\\..\\evil"])
def test_zip_entry_escaping_its_folder(tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    z = zip_of(tmp_path / "p.zip", {**GOOD, name: b"x"})
    raises(z, f"p.zip:{name}", "a zip entry escaping its folder")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["p.zip", "tmp"]  # nothing written, temp dir gone


def test_zip_symlink_entry(tmp_path: Path) -> None:
    z = zip_of(tmp_path / "p.zip", GOOD, links=("data/secret/2.in",))
    raises(z, "p.zip:data/secret/2.in", "a symlink entry")


def test_zip_with_too_many_entries(tmp_path: Path) -> None:
    z = zip_of(tmp_path / "p.zip", {**GOOD, **{f"junk/{i}": b"" for i in range(archive.MAX_ZIP_ENTRIES)}})
    raises(z, "p.zip", "more than 10000: refusing what looks like a zip bomb")


def test_zip_bomb_is_stopped_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_ZIP_BYTES", 100_000)
    z = tmp_path / "p.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in GOOD.items():
            zf.writestr(name, data)
        zf.writestr("data/secret/big.in", b"0" * 200_000)
    assert z.stat().st_size < 5_000  # small on disk, big inside
    work = tmp_path / "work"
    raises(z, "p.zip", "unpacks to 200012 bytes, more than 100000: refusing what looks like a zip bomb")
    with pytest.raises(PackageError):
        package.load(z, workdir=work)
    assert not any(f.is_file() for f in work.rglob("*"))  # judged by its declared sizes: nothing written


def test_not_a_zip_and_a_non_empty_workdir(tmp_path: Path) -> None:
    (tmp_path / "p.zip").write_bytes(b"PK nonsense")
    raises(tmp_path / "p.zip", "p.zip", "not a readable zip file")
    z = zip_of(tmp_path / "q.zip", GOOD)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(JudgeError, match="not empty"):
        package.load(z, workdir=tmp_path / "busy")
    assert package.load(z, workdir=tmp_path / "fresh").cases()[0].input.read_text() == "1\n"


# --- DMOJ ----------------------------------------------------------------------------------------


def dmoj(root: Path, init: str, **extra: str) -> Path:
    return write(root, {"init.yml": init, "1.in": "1\n", "1.out": "1\n", **extra})


def test_dmoj_batches_and_test_yml(tmp_path: Path) -> None:
    init = (
        "checker: identical\ntest_cases:\n- {in: 1.in, out: 1.out, points: 5}\n"
        "- points: 10\n  batched:\n  - {in: 1.in, out: 1.out}\n  - {in: 1.in, out: 1.out}\n"
    )
    root = dmoj(
        tmp_path / "p",
        init,
        **{
            "tests/ac/test.yml": "language: CPP17\ntime: 1.5\nmemory: 65536\nsource: a.cpp\nexpect: AC\n",
            "tests/ac/a.cpp": "int main(){}\n",
        },
    )
    p = package.load(root)
    secret = p.data.groups[0]
    assert [c.name for c in p.cases()] == ["secret/1", "secret/batch2/1", "secret/batch2/2"]
    assert secret.cases[0].points == 5 and secret.groups[0].grading.accept_score == 10
    assert p.output_validator_args == ("case_sensitive", "space_change_sensitive")
    (sub,) = p.submissions
    assert (sub.rel, sub.language, sub.expected, sub.time_limit_s, sub.memory_limit_kib) == (
        "tests/ac/a.cpp",
        "cpp",
        (Verdict.AC,),
        1.5,
        65536,
    )


@pytest.mark.parametrize(
    ("init", "extra", "where", "fault"),
    [
        (
            "checker: sorted\ntest_cases:\n- {in: 1.in, out: 1.out}\n",
            {},
            "init.yml",
            "checker 'sorted' is not supported",
        ),
        ("test_cases:\n- {in: 2.in, out: 1.out}\n", {}, "2.in", "missing (test case 1 in)"),
        ("test_cases:\n- {in: ../1.in, out: 1.out}\n", {}, "init.yml", "must name a file in the problem"),
        ("test_cases: []\n", {}, "init.yml", "non-empty list"),
        (
            "interactive: {files: i.cpp}\ntest_cases:\n- {in: 1.in, out: 1.out}\n",
            {},
            "init.yml",
            "not supported",
        ),
        (
            "test_cases:\n- {in: 1.in, out: 1.out}\n",
            {"tests/x/test.yml": "language: C\nsource: x.c\nexpect: AC\n"},
            "tests/x/x.c",
            "missing",
        ),
        (
            "test_cases:\n- {in: 1.in, out: 1.out}\n",
            {"tests/x/test.yml": "language: C\nsource: x.c\nexpect: GREAT\n", "tests/x/x.c": ""},
            "tests/x/test.yml",
            "unknown verdict 'GREAT'",
        ),
    ],
)
def test_dmoj_errors(tmp_path: Path, init: str, extra: dict[str, str], where: str, fault: str) -> None:
    raises(dmoj(tmp_path / "p", init, **extra), where, fault)


def test_a_path_that_is_no_package(tmp_path: Path) -> None:
    raises(tmp_path / "absent", "absent", "no such file or directory")
    (tmp_path / "p.tar").write_text("x")
    raises(tmp_path / "p.tar", "p.tar", "not a package")
