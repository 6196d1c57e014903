"""`judge verify` on the conformance corpus: every submission against the verdict its authors wrote down.

The corpus (../shared/conformance, beside the project; never copied into it) holds 14 problem
packages from Kattis problemtools, DOMjudge, BAPCtools and DMOJ with 298 submissions, and
EXPECTED.tsv says which verdicts each may get (`A|B` is either). One test per package runs
the whole package self-test, as `judge verify` does, through real boxes, and compares every
row that is in a language the judge has. Rows the judge cannot judge (a language it does
not have) are counted, not hidden: the test prints them.

KNOWN_DIFFERENCES lists the rows where our verdict differs from the upstream expectation
because of a setting of ours, each with the setting; the README lists them too. A row there
must still differ (so the list cannot go stale silently).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from judge import verify
from judge.verdict import Verdict

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "conformance"
EXPECTED = CORPUS / "EXPECTED.tsv"

# (problem_dir, submission_path) -> the setting of ours that explains the difference
H = "domjudge/hello"
D = "dmoj/helloworld"
SMALLEST_MEMORY = "dmoj_policy: the smallest memory limit is 4 MiB, not 1 KiB, so hello world passes (AC)"
KNOWN_DIFFERENCES: dict[tuple[str, str], str] = {
    (
        H,
        "submissions/multiple/test-memstatic.cc",
    ): "config_dependent: a compile box limits any file to 64 MiB, so its 512 MB binary is CE",
    (
        H,
        "submissions/multiple/test-multithread.c",
    ): "config_dependent: the stack limit is the memory limit, so a thread's default stack is not the "
    "2 MiB the program insists on (it aborts: RTE)",
    (
        H,
        "submissions/wrong_answer/test-permissions.c",
    ): "config_dependent: no DOMjudge judgehost file /etc/root-permission-test.txt in the image (RTE)",
    (
        H,
        "submissions/wrong_answer/test-write-file.c",
    ): "config_dependent: the working directory /box is writable, so the program's check fails (RTE)",
    (
        D,
        "tests/java8_ce_with_package/helloworld.java",
    ): "dmoj_policy: Java packages are accepted, as DOMjudge does (AC)",
    (
        D,
        "tests/java_no_public_class/no_public_class.java",
    ): "dmoj_policy: a Java class need not be public, as DOMjudge has it (AC)",
    (
        D,
        "tests/java8_ir_no_entry_point/helloworld.java",
    ): "dmoj_policy: no main method is CE before running, as DOMjudge has it (DMOJ: RTE)",
    (
        D,
        "tests/java_unsafe/HelloWorld.java",
    ): "dmoj_policy: no Java agent; the sun.misc.Unsafe allocation is stopped by the memory limit (MLE)",
    (D, "tests/java8_grace/grace.java"): SMALLEST_MEMORY,
    (D, "tests/java_grace/grace.java"): SMALLEST_MEMORY,
    (D, "tests/monocs_grace/helloworld.cs"): SMALLEST_MEMORY,
    (D, "tests/py3_grace/helloworld.py"): SMALLEST_MEMORY,
    (D, "tests/pypy3_grace/helloworld.py"): SMALLEST_MEMORY,
    (
        D,
        "tests/monocs_mle/helloworld.cs",
    ): "dmoj_policy: memory is what a program uses (the cgroup), not the address space Mono reserves; "
    "hello world uses 3 MiB of its 8 (AC)",
    (
        "domjudge/fltcmp",
        "submissions/accepted/fltcmp-test-write-files-between-submissions.R",
    ): "config_dependent: the R program insists on DOMjudge's judgehost layout (TMPDIR under "
    "/testcaseNNNNN/write_tmp); a box's TMPDIR is /tmp, so it prints why and stops (WA)",
    (
        "domjudge/fltcmp",
        "submissions/accepted/fltcmp-test-write-files-between-testcases.R",
    ): "config_dependent: as its twin above, DOMjudge's TMPDIR layout (WA)",
    (
        D,
        "tests/bf_rte_high/fail.b",
    ): "dmoj_policy: Brainfuck is Debian's beef, whose tape grows as the program moves right, so "
    "`+[>+]` ends at the memory limit (MLE), where DMOJ's fixed tape is RTE",
    (
        D,
        "tests/bf_rte_low/fail.b",
    ): "dmoj_policy: beef lets the pointer move left of the first cell without an error, so `<[]` "
    "ends cleanly with no output (WA), where DMOJ's interpreter is RTE",
    (
        D,
        "tests/sandbox_py3_bad_file/helloworld.py",
    ): "dmoj_policy: /dev/full is one of a box's devices, so opening it succeeds (AC)",
    (
        H,
        "submissions/run_time_error/test-chroot-escape.sh",
    ): "no chroot: a box is a mount namespace of its own, `ischroot` says no, and the script prints the "
    "answer without trying the escape (AC)",
}


# rows whose outcome here depends on chance, so either verdict is taken
MAY_DIFFER: dict[tuple[str, str], str] = {
    (
        H,
        "submissions/wrong_answer/test-cpu-pinning.c",
    ): "config_dependent: boxes are not pinned to one CPU core; forked children land on the parent's "
    "core or not by chance (WA or RTE)",
}


def rows() -> list[dict[str, str]]:
    if not EXPECTED.exists():
        return []
    with open(EXPECTED, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def problems() -> list[str]:
    return sorted({r["problem_dir"] for r in rows()})


def expected_set(text: str) -> set[str]:
    return {"AC" if v == "PAC" else v for v in text.split("|")}


pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(not EXPECTED.exists(), reason=f"the conformance corpus is not at {CORPUS}"),
]


@pytest.mark.parametrize("problem", problems() or ["(none)"])
def test_verify_gives_every_submission_its_expected_verdict(problem: str, sandbox_ready: None) -> None:
    report = verify.verify(CORPUS / problem, jobs=2)
    by_rel = {c.sub.rel.rstrip("/"): c for c in report.checked}
    wrong: list[str] = []
    unjudged: list[str] = []
    for row in rows():
        if row["problem_dir"] != problem:
            continue
        key = (problem, row["submission_path"])
        checked = by_rel.get(row["submission_path"].rstrip("/"))
        assert checked is not None, f"{row['submission_path']}: not found by the loader"
        if checked.result is None:
            unjudged.append(f"{row['submission_path']} ({row['language_detail']})")
            continue
        got = checked.result.verdict.value
        # the loader's expectations equal the TSV's (tests/unit/test_packages.py); ok also knows
        # that MLE is RTE in the ICPC formats and what a partially accepted score must be
        assert {v.value for v in checked.sub.expected} == expected_set(row["expected_verdict"])
        good = checked.ok is True
        if key in MAY_DIFFER:
            continue
        if key in KNOWN_DIFFERENCES:
            assert not good, f"{key} is listed as a known difference but now agrees: remove it"
            continue
        if not good:
            message = checked.result.message or next(
                (t.message for t in checked.result.tests if t.verdict is not Verdict.AC), ""
            )
            wrong.append(
                f"{row['submission_path']} [{row['language']}]: expected {row['expected_verdict']}, "
                f"got {got} ({message[:200]!r})"
            )
    if unjudged:
        print(f"\n{problem}: not judged (no such language here): {', '.join(unjudged)}")
    assert not wrong, (
        f"{problem} (time limit {report.time_limit_s} s, {report.time_limit_source}):\n" + "\n".join(wrong)
    )
