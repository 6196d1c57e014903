"""Recipe files (judge/languages/loader.py): what a good one gives, and how each mistake is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from judge import languages
from judge.languages.loader import BUILTIN, LanguageFileError, load
from sandbox import MiB

GOOD = """
[toy]
name = "Toy"
extensions = [".toy", ".ty"]
source = "main.toy"
image = "toy"
compile = ["/usr/bin/toy", "--check", "{source}"]
run = ["/usr/bin/toy", "{source}"]
version = ["/usr/bin/toy", "--version"]
artifacts = ["main", { glob = "*.class", mode = 0o644 }]
env = { TOY_HOME = "/opt/toy" }
extra_time_ms = 100
extra_memory_mib = 16
compile_limits = { cpu_time_ms = 20000, memory_mib = 1024 }

[toy.self_test]
source = "sum"
stdin = "2 3\\n"
expected = "5\\n"
error_source = "exit 3"
error_exit = 3
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "languages.toml"
    path.write_text(text)
    return path


def test_a_recipe_file_gives_languages(tmp_path: Path) -> None:
    (toy,) = load(write(tmp_path, GOOD))
    assert (toy.id, toy.name, toy.extensions, toy.source_name, toy.image) == (
        "toy",
        "Toy",
        (".toy", ".ty"),
        "main.toy",
        "toy",
    )
    assert toy.artifacts == (("main", 0o755), ("*.class", 0o644))
    assert toy.env == (("TOY_HOME", "/opt/toy"),)
    assert (toy.extra_time_ms, toy.extra_memory_bytes) == (100, 16 * MiB)
    assert (toy.compile_limits.cpu_time_ms, toy.compile_limits.memory_bytes) == (20_000, 1024 * MiB)
    assert toy.compile_limits.wall_time_ms == 20_000  # the default, kept
    assert (toy.self_test.error_source, toy.self_test.error_exit) == ("exit 3", 3)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (('name = "Toy"', 'nmae = "Toy"'), "[toy]: unknown keys ['nmae']"),
        (('image = "toy"\n', ""), "[toy]: missing image"),
        (('extensions = [".toy", ".ty"]', 'extensions = ["toy"]'), "each with its dot"),
        (('run = ["/usr/bin/toy"', 'run = ["toy"'), "run must start with a program's path"),
        (('"--check", "{source}"', '"--check", "{file}"'), "compile: unknown placeholder {file}"),
        (('"--version"]', '"{source}"]'), "version: unknown placeholder {source}"),
        (("extra_time_ms = 100", "extra_time_ms = -1"), "extra_time_ms must be a whole number"),
        (("memory_mib = 1024", "memory_mb = 1024"), "compile_limits: unknown keys ['memory_mb']"),
        (("error_exit = 3", "error_exit = 0"), "error_exit must be an exit code from 1 to 255"),
        (('error_source = "exit 3"\n', ""), "error_source and error_exit go together"),
        (('source = "main.toy"', 'source = "../main.toy"'), "source must be a plain file name"),
        (("[toy]\n", "[Toy]\n"), "a language id is lower case"),
        (('stdin = "2 3\\n"', "stdin = 2"), "[toy].self_test: stdin must be a string"),
        (("[toy.self_test]", "[toy.self_test\n"), "not valid TOML"),
    ],
)
def test_each_mistake_names_the_file_the_language_and_the_key(
    tmp_path: Path, change: tuple[str, str], says: str
) -> None:
    old, new = change
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(LanguageFileError) as e:
        load(path)
    assert str(path) in str(e.value) and says in str(e.value), str(e.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(LanguageFileError, match="cannot read language recipes .*nothing.toml"):
        load(tmp_path / "nothing.toml")


def test_the_operators_file_joins_the_registry_and_may_not_take_an_extension(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUDGE_LANGUAGES", str(write(tmp_path, GOOD)))
    languages.reload()
    try:
        assert languages.by_extension("a.ty").id == "toy"
        assert languages.ids()[-1] == "toy"
        write(tmp_path, GOOD.replace('[".toy", ".ty"]', '[".toy", ".c"]'))
        languages.reload()
        with pytest.raises(LanguageFileError, match=r"\.c is claimed by both c and toy"):
            languages.ids()
    finally:
        monkeypatch.delenv("JUDGE_LANGUAGES")
        languages.reload()
    assert "toy" not in languages.ids()


def test_the_built_in_file_is_read_like_any_other() -> None:
    built_in = load(BUILTIN)
    assert len(built_in) == 37 and {lang.image for lang in built_in} >= {"gcc-extra", "scripting", "beam"}
    assert not {lang.id for lang in built_in} & {lang.id for lang in languages.CODED}
    new = built_in[10:]  # issue 22's, after the ten that were Python files before
    assert all(lang.self_test.error_source or lang.id == "brainfuck" for lang in new)
