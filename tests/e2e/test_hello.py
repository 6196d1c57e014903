"""Every language end to end: its hello world runs cleanly, and its syntax error is a CE that says where.

programs/ holds, for each language of the registry, a hello world (`ok_hello_<id>.<ext>`;
Java's is `ok_hello.java`) with the stdout it must print, and `ce_syntax.<ext>`.
test_programs.py runs them for their status like every other program; this file makes sure
a new language cannot arrive without them, and looks closer: a hello world prints nothing on
stderr (a JVM warning or a runtime's notice would show there first) and is reported under
its language's id; a compile error's output names the source file, so the compiler's own
explanation reached the contestant, not just "exited with code 1".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from click.testing import Result

from judge import languages
from judge.languages import Language

JudgeCli = Callable[[Sequence[str]], Result]  # the judge_cli fixture (conftest.py)

PROGRAMS = Path(__file__).parent / "programs"
LIMITS = ["--time", "1", "--memory", "64", "--output-limit", "1"]


def hello(lang: Language) -> Path | None:
    """The language's hello world: `ok_hello_<id>.<ext>`, or else a plain `ok_hello.<ext>`."""
    for name in (f"ok_hello_{lang.id}", "ok_hello"):
        for ext in lang.extensions:
            if (PROGRAMS / f"{name}{ext}").exists():
                return PROGRAMS / f"{name}{ext}"
    return None


def syntax_error(lang: Language) -> Path | None:
    found = [PROGRAMS / f"ce_syntax{ext}" for ext in lang.extensions]
    return next((p for p in found if p.exists()), None)


def run(judge_cli: JudgeCli, program: Path) -> dict[str, object]:
    result = judge_cli(["run", str(program), "--json", *LIMITS])
    assert result.exit_code == 0, result.output
    doc: dict[str, object] = json.loads(result.stdout)
    return doc


@pytest.mark.parametrize("lang", languages.LANGUAGES, ids=lambda lang: lang.id)
def test_every_language_has_a_hello_world_and_a_syntax_error(lang: Language) -> None:
    program = hello(lang)
    assert program is not None, f"add programs/ok_hello_{lang.id}{lang.extensions[0]} and its .out"
    assert program.with_suffix(".out").exists(), f"{program.name} needs a .out beside it"
    if lang.compile is not None:  # SQL and Octave cannot check their syntax before running, as in Judge0
        assert syntax_error(lang) is not None, f"add programs/ce_syntax{lang.extensions[0]}"


@pytest.mark.sandbox
@pytest.mark.parametrize("lang", languages.LANGUAGES, ids=lambda lang: lang.id)
def test_hello_world_runs_cleanly(lang: Language, judge_cli: JudgeCli) -> None:
    program = hello(lang)
    assert program is not None
    doc = run(judge_cli, program)
    assert (doc["status"], doc["language"]) == ("OK", lang.id), doc
    assert doc["stdout"] == program.with_suffix(".out").read_text()
    assert doc["stderr"] == "", doc["stderr"]


@pytest.mark.sandbox
@pytest.mark.parametrize(
    "lang", [lang for lang in languages.LANGUAGES if lang.compile is not None], ids=lambda lang: lang.id
)
def test_a_syntax_error_is_explained_by_the_compiler(lang: Language, judge_cli: JudgeCli) -> None:
    program = syntax_error(lang)
    assert program is not None
    doc = run(judge_cli, program)
    assert doc["status"] == "CE", doc
    source_name = lang.source_file(program.read_text())
    assert source_name in str(doc["compile_output"]), doc["compile_output"]
