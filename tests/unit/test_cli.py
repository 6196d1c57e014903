"""The `judge` command's argument handling, with click's CliRunner. No box is ever made here:
`sandbox.default` is replaced by one that fails the test, except where a test makes it raise
a SandboxError on purpose to see status IE."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import sandbox
from judge import cli, submission
from sandbox import MiB


@pytest.fixture(autouse=True)
def no_boxes(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> sandbox.Sandbox:
        raise AssertionError("a unit test reached the sandbox")

    monkeypatch.setattr(sandbox, "default", refuse)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "sum.c"
    path.write_text("int main(void) { return 0; }\n")
    return path


def judge(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args))


def assert_usage_error(r: Result, *words: str) -> None:
    assert r.exit_code == cli.EXIT_USAGE, r.output
    assert isinstance(r.exception, SystemExit), r.exception  # no traceback
    assert r.stdout == ""
    for word in words:
        assert word in r.stderr


def test_missing_source(tmp_path: Path) -> None:
    assert_usage_error(judge("run", str(tmp_path / "nope.c")), "does not exist")


def test_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "prog.swift"
    path.write_text("puts 1")
    assert_usage_error(judge("run", str(path), "--json"), "prog.swift", "--lang")


def test_unknown_language(source: Path) -> None:
    assert_usage_error(judge("run", str(source), "--lang", "swift"), "--lang", "swift")


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--time", "0"),
        ("--time", "-1"),
        ("--time", "abc"),
        ("--wall-time", "0"),
        ("--memory", "1"),
        ("--memory", "lots"),
        ("--output-limit", "0"),
    ],
)
def test_bad_limits(source: Path, option: str, value: str) -> None:
    assert_usage_error(judge("run", str(source), option, value), option)


def test_unknown_image_for_run_and_exec(source: Path) -> None:
    assert_usage_error(judge("run", str(source), "--image", "debian"), "debian", "host")
    assert_usage_error(judge("exec", "--image", "debian", "--", "true"), "debian", "host")


def test_exec_needs_an_image_and_a_command() -> None:
    assert_usage_error(judge("exec", "--", "true"), "--image")
    assert_usage_error(judge("exec", "--image", "host"), "COMMAND")


def test_source_too_large(tmp_path: Path) -> None:
    path = tmp_path / "big.py"
    path.write_bytes(b"#" * (submission.MAX_BYTES + 1))
    assert_usage_error(judge("run", str(path)), "at most")


def test_several_files_need_a_clear_entry_point_and_language(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("print(1)\n")
    (tmp_path / "b.py").write_text("print(2)\n")
    assert_usage_error(judge("run", str(tmp_path)), "cannot tell which of a.py, b.py")
    assert_usage_error(judge("run", str(tmp_path), "--main", "c.py"), "no such file")
    (tmp_path / "c.rb").write_text("puts 1\n")
    (tmp_path / "d.rb").write_text("puts 2\n")
    assert_usage_error(judge("run", str(tmp_path)), "name the language with --lang")


def test_limits_from_the_command_line() -> None:
    lim = cli.make_limits(1.5, None, 64, 0.5)
    assert (lim.cpu_time_ms, lim.wall_time_ms, lim.memory_bytes, lim.output_bytes) == (
        1500,
        4500,
        64 * MiB,
        MiB // 2,
    )
    assert cli.make_limits(2, 10, 256, 64).wall_time_ms == 10_000


def test_a_broken_sandbox_is_ie_with_its_message(source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> sandbox.Sandbox:
        raise sandbox.HostSetupError("the sandbox needs root")

    monkeypatch.setattr(sandbox, "default", broken)
    r = judge("run", str(source), "--json")
    assert r.exit_code == cli.EXIT_INTERNAL
    doc = json.loads(r.stdout)
    assert doc["status"] == "IE" and "needs root" in doc["message"] and "compile_output" in doc
    r = judge("exec", "--image", "host", "--", "true")
    assert r.exit_code == cli.EXIT_INTERNAL and "needs root" in r.stderr and r.stdout == ""


def test_help_lists_the_commands() -> None:
    r = judge("--help")
    assert r.exit_code == 0
    for command in ("run", "exec", "bench", "languages"):
        assert command in r.stdout
