"""The other `judge` commands end to end: exec, languages, bench sandbox, and run's arguments."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from click.testing import Result

from judge import languages

JudgeCli = Callable[[Sequence[str]], Result]  # the judge_cli fixture (conftest.py)

CONTRACT_FIELDS = {
    "status",
    "exit_code",
    "signal",
    "cpu_time",
    "wall_time",
    "memory",
    "stdout",
    "stderr",
    "stdout_truncated",
    "stderr_truncated",
    "message",
}


@pytest.mark.sandbox
def test_exec_runs_a_command_as_it_is(judge_cli: JudgeCli) -> None:
    result = judge_cli(["exec", "--image", "host", "--json", "--", "echo", "hi", "there"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert CONTRACT_FIELDS <= set(doc) and "compile_output" not in doc
    assert (doc["status"], doc["exit_code"], doc["stdout"]) == ("OK", 0, "hi there\n")
    assert isinstance(doc["cpu_time"], float) and isinstance(doc["memory"], int)


@pytest.mark.sandbox
def test_exec_reports_the_status_not_an_error(judge_cli: JudgeCli) -> None:
    result = judge_cli(["exec", "--image", "host", "--json", "--time", "0.2", "--", "sh", "-c", "exit 7"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["status"] == "RTE"


@pytest.mark.sandbox
def test_exec_of_a_missing_command_is_a_usage_error(judge_cli: JudgeCli) -> None:
    result = judge_cli(["exec", "--image", "host", "--", "/no/such/program"])
    assert result.exit_code == 2
    assert "/no/such/program" in result.stderr and "Traceback" not in result.output


@pytest.mark.sandbox
def test_run_passes_arguments_after_the_double_dash(judge_cli: JudgeCli, tmp_path: Path) -> None:
    source = tmp_path / "args.py"
    source.write_text("import sys\nprint(' '.join(sys.argv[1:]))\n")
    result = judge_cli(["run", str(source), "--json", "--", "-x", "two words"])
    doc = json.loads(result.stdout)
    assert (doc["status"], doc["stdout"], doc["language"]) == ("OK", "-x two words\n", "python3")


@pytest.mark.sandbox
def test_run_with_lang_overrides_the_extension(judge_cli: JudgeCli, tmp_path: Path) -> None:
    source = tmp_path / "prog.txt"
    source.write_text("print(6 * 7)\n")
    doc = json.loads(judge_cli(["run", str(source), "--lang", "python3", "--json"]).stdout)
    assert (doc["status"], doc["stdout"]) == ("OK", "42\n")


@pytest.mark.sandbox
def test_languages_all_pass_their_self_test(judge_cli: JudgeCli) -> None:
    result = judge_cli(["languages", "--json"])
    docs = json.loads(result.stdout)
    assert [d["id"] for d in docs] == languages.ids()
    for doc in docs:
        assert {"id", "name", "version", "image", "extensions", "self_test"} <= set(doc)
        assert doc["self_test"] == "ok", doc
        assert doc["version"] and not doc["version"].startswith("unavailable"), doc
    assert result.exit_code == 0


@pytest.mark.sandbox
def test_bench_sandbox_reports_the_contract_fields(judge_cli: JudgeCli) -> None:
    result = judge_cli(["bench", "sandbox", "--runs", "5", "--seconds", "0.3", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["runs"] == 5
    for key in ("box_ms", "subprocess_ms"):
        assert set(doc[key]) == {"p50", "p90", "p99"} and 0 < doc[key]["p50"] <= doc[key]["p99"]
    assert (doc["bwrap_ms"] is None) == (shutil.which("bwrap") is None)
    assert doc["boxes_per_second"] > 0
    assert doc["cpu_ms_per_box"] > 0 and doc["cpu_bound_boxes_per_second"] > 0
