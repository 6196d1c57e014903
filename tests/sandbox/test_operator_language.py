"""An operator's language: a recipe in a file named by JUDGE_LANGUAGES, on an imported image.

The README's Languages section shows this with Swift from `docker save`; here the toolchain is
Toy, a language Debian certainly lacks: a static interpreter compiled by the test, put in an
archive laid out as `docker save` writes it, imported with `judge images import`, and
described by a TOML recipe. Then `judge languages` self-tests it in a real box (its sum and its
failing program), `judge run` judges a file by the recipe's extension, and a syntax error is
CE from the recipe's check. Nothing of the judge's code knows Toy.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from test_images import _tar, docker_save

from judge import cli, languages

pytestmark = pytest.mark.sandbox

# Toy: `sum` reads two numbers and prints their sum, `say WORD` prints a word, `exit N` exits
# with N; `toy --check FILE` refuses any other line, naming the file and the line.
TOY = r"""
int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0) { puts("toy 1.0"); return 0; }
    int check = argc == 3 && strcmp(argv[1], "--check") == 0;
    FILE *f = fopen(argv[argc - 1], "r");
    if (!f) { perror(argv[argc - 1]); return 2; }
    char line[256];
    for (int n = 1; fgets(line, sizeof line, f); n++) {
        long a, b; int code; char word[200];
        if (strcmp(line, "sum\n") == 0) {
            if (!check && scanf("%ld %ld", &a, &b) == 2) printf("%ld\n", a + b);
        } else if (sscanf(line, "say %199s", word) == 1) {
            if (!check) puts(word);
        } else if (sscanf(line, "exit %d", &code) == 1) {
            if (!check) return code;
        } else {
            fprintf(stderr, "%s:%d: unknown statement\n", argv[argc - 1], n);
            return 1;
        }
    }
    return 0;
}
"""

RECIPE = """
[toy]
name = "Toy"
extensions = [".toy"]
source = "main.toy"
image = "toy"
compile = ["/usr/bin/toy", "--check", "{source}"]
run = ["/usr/bin/toy", "{source}"]
version = ["/usr/bin/toy", "--version"]

[toy.self_test]
source = "sum\\n"
stdin = "2 3\\n"
expected = "5\\n"
error_source = "exit 3\\n"
error_exit = 3
"""


def judge(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


@pytest.fixture
def operator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A store of its own and the operator's recipe file; the registry read again around the test."""
    monkeypatch.setenv("JUDGE_IMAGE_DIR", str(tmp_path / "images"))
    (tmp_path / "languages.toml").write_text(RECIPE)
    monkeypatch.setenv("JUDGE_LANGUAGES", str(tmp_path / "languages.toml"))
    languages.reload()
    yield tmp_path
    monkeypatch.delenv("JUDGE_LANGUAGES")
    languages.reload()


def test_a_recipe_on_an_imported_image_is_a_language(operator: Path, cc: Callable[..., bytes]) -> None:
    toy = cc("#include <string.h>\n" + TOY, flags=["-static"])
    archive = operator / "toy.tar"
    layer = _tar([("usr", None, 0o755), ("usr/bin", None, 0o755), ("usr/bin/toy", toy, 0o755)])
    docker_save(archive, [layer], tag="toy:1.0")
    imported = judge("images", "import", str(archive), "--name", "toy")
    assert imported.exit_code == 0, imported.output

    report = judge("languages", "--json")  # the built-in languages fail here: their images are elsewhere
    rows = {row["id"]: row for row in json.loads(report.stdout)}
    toy_row = rows["toy"]
    assert (toy_row["self_test"], toy_row["version"], toy_row["image"]) == ("ok", "toy 1.0", "toy")

    program = operator / "greet.toy"
    program.write_text("say hello\nsum\n")
    (operator / "in.txt").write_text("40 2\n")
    ran = judge("run", str(program), "--stdin", str(operator / "in.txt"), "--json")
    doc = json.loads(ran.stdout)
    assert (doc["status"], doc["language"], doc["stdout"]) == ("OK", "toy", "hello\n42\n"), doc

    program.write_text("say hello\nprint 42\n")
    doc = json.loads(judge("run", str(program), "--json").stdout)
    assert doc["status"] == "CE" and "main.toy:2: unknown statement" in doc["compile_output"], doc


def test_a_broken_recipe_file_names_the_file_the_language_and_the_key(operator: Path) -> None:
    (operator / "languages.toml").write_text(RECIPE.replace('run = ["/usr/bin/toy"', 'run = ["toy"'))
    languages.reload()
    with pytest.raises(languages.LanguageFileError, match=r"languages.toml: \[toy\]: run must start with"):
        languages.by_id("toy")
