"""Every example program ends with the status its file name states, through `judge run --json`.

The folder's rule is in programs/README.md: `<status>_<what>.<ext>`, with an optional
`.in` (stdin) and `.out` (exact stdout) sharing the stem. A few programs get a closer look
in CLOSER: the status alone would not show that the right thing happened.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from click.testing import Result

from judge import languages

JudgeCli = Callable[[Sequence[str]], Result]  # the judge_cli fixture (conftest.py)

PROGRAMS = Path(__file__).parent / "programs"
KNOWN = {ext for lang in languages.LANGUAGES for ext in lang.extensions}
CASES = sorted(p for p in PROGRAMS.iterdir() if p.suffix in KNOWN)
LIMITS = ["--time", "1", "--memory", "64", "--output-limit", "1"]
STATUSES = {"ok", "tle", "mle", "ole", "rte", "ce"}

CLOSER: dict[str, Callable[[dict[str, object]], bool]] = {
    "rte_exit3.py": lambda doc: doc["exit_code"] == 3 and doc["signal"] is None,
    "rte_segv.c": lambda doc: doc["signal"] == 11,
    "rte_ptrace.c": lambda doc: doc["signal"] == 31 and "ptrace" in str(doc["message"]),
    "rte_exception.java": lambda doc: doc["exit_code"] == 1 and "IllegalStateException" in str(doc["stderr"]),
    "ole_flood.py": lambda doc: doc["stdout_truncated"] is True,
    "ce_syntax.cpp": lambda doc: "error" in str(doc["compile_output"]),
    "ce_no_class.java": lambda doc: "declares a main method" in str(doc["message"]),
    "tle_spin.py": lambda doc: 1.0 <= float(str(doc["cpu_time"])) < 1.5,
}


def expected_status(program: Path) -> str:
    return program.name.split("_", 1)[0].upper()


def test_every_program_states_a_known_status() -> None:
    assert CASES, f"no programs in {PROGRAMS}"
    for program in CASES:
        assert program.name.split("_", 1)[0] in STATUSES, f"{program.name}: name must start with a status"
    for name in CLOSER:
        assert (PROGRAMS / name).exists(), f"CLOSER names a missing program: {name}"


@pytest.mark.sandbox
@pytest.mark.parametrize("program", CASES, ids=lambda p: p.name)
def test_program_ends_with_the_status_its_name_states(program: Path, judge_cli: JudgeCli) -> None:
    args = ["run", str(program), "--json", *LIMITS]
    stdin = program.with_suffix(".in")
    if stdin.exists():
        args += ["--stdin", str(stdin)]
    result = judge_cli(args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    expected = expected_status(program)
    assert doc["status"] == expected, (doc["message"], doc["compile_output"], doc["stderr"])
    out = program.with_suffix(".out")
    if expected == "OK" and out.exists():
        assert doc["stdout"] == out.read_text()
    if expected == "CE":
        assert doc["compile_output"] or doc["message"]
    check = CLOSER.get(program.name)
    assert check is None or check(doc), doc
