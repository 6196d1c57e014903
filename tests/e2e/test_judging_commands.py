"""`judge verify` and `judge grade` through the command line: exit codes, JSON fields, CSV."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from click.testing import Result

JudgeCli = Callable[[Sequence[str]], Result]
HELLO = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "problemtools" / "hello"

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(not HELLO.exists(), reason=f"the conformance corpus is not at {HELLO}"),
]


def test_verify_reports_the_contract_fields_and_exits_0(judge_cli: JudgeCli) -> None:
    result = judge_cli(["verify", str(HELLO), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["problem"] == "hello" and doc["time_limit"] >= 1
    sub = next(s for s in doc["submissions"] if s["path"] == "submissions/wrong_answer/hello.cc")
    assert set(sub) >= {
        "path",
        "language",
        "expected",
        "verdict",
        "score",
        "max_time",
        "max_memory",
        "ok",
        "tests",
    }
    assert (sub["verdict"], sub["ok"], sub["expected"]) == ("WA", True, ["WA"])
    assert sub["tests"] and set(sub["tests"][0]) >= {"name", "verdict", "time", "memory"}


def test_verify_exits_1_when_a_submission_gets_another_verdict(judge_cli: JudgeCli, tmp_path: Path) -> None:
    pkg = tmp_path / "hello"
    shutil.copytree(HELLO, pkg)
    (pkg / "submissions" / "accepted" / "wrong.py").write_text("print('goodbye')\n")
    result = judge_cli(["verify", str(pkg), "--json"])
    assert result.exit_code == 1
    wrong = next(s for s in json.loads(result.stdout)["submissions"] if s["path"].endswith("wrong.py"))
    assert (wrong["verdict"], wrong["ok"]) == ("WA", False)


def test_grade_writes_json_and_csv(judge_cli: JudgeCli, tmp_path: Path) -> None:
    good = HELLO / "submissions" / "accepted" / "hello.cc"
    bad = HELLO / "submissions" / "wrong_answer" / "hello.cc"
    out = tmp_path / "grades.csv"
    result = judge_cli(
        ["grade", str(HELLO), str(good), str(bad), "--time-limit", "2", "--json", "--csv", str(out)]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [s["verdict"] for s in doc["submissions"]] == ["AC", "WA"]
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["verdict"] for r in rows if r["test"] == ""} == {"AC", "WA"}
    assert any(r["test"].startswith("secret/") for r in rows)


def test_a_broken_package_is_a_usage_error_naming_the_file(judge_cli: JudgeCli, tmp_path: Path) -> None:
    pkg = tmp_path / "broken"
    shutil.copytree(HELLO, pkg)
    next((pkg / "data" / "secret").glob("*.ans")).unlink()
    result = judge_cli(["verify", str(pkg)])
    assert result.exit_code == 2
    assert "data/secret" in result.output and ".ans" in result.output


def test_verify_runs_the_input_validators(judge_cli: JudgeCli, tmp_path: Path) -> None:
    pkg = tmp_path / "hello"
    shutil.copytree(HELLO, pkg)
    validators = pkg / "input_validators"
    validators.mkdir(exist_ok=True)
    (validators / "picky.py").write_text("import sys\nsys.stdin.read()\nsys.exit(43)\n")
    result = judge_cli(["verify", str(pkg), "--json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["input_validation"]["checks"] >= 1
    assert any("picky.py exited with code 43" in why for why in doc["input_validation"]["invalid"])


def test_include_files_reach_every_submission_of_their_language(judge_cli: JudgeCli, tmp_path: Path) -> None:
    pkg = tmp_path / "hello"
    shutil.copytree(HELLO, pkg)
    (pkg / "include" / "cpp").mkdir(parents=True)
    (pkg / "include" / "cpp" / "greeting.h").write_text('#define GREETING "Hello World!"\n')
    (pkg / "submissions" / "accepted" / "with_include.cpp").write_text(
        '#include <cstdio>\n#include "greeting.h"\nint main() { std::puts(GREETING); }\n'
    )
    result = judge_cli(["verify", str(pkg), "--json"])
    doc = json.loads(result.stdout)
    sub = next(s for s in doc["submissions"] if s["path"].endswith("with_include.cpp"))
    assert (sub["verdict"], sub["ok"]) == ("AC", True), sub
