"""Submissions of several files, as a folder or a zip, through `judge run` and real boxes.

Each case is a few files that only work together (a header and two units, a package, a
helper class), so a program that ran on its entry point alone would fail.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from click.testing import Result

JudgeCli = Callable[[Sequence[str]], Result]

CASES: dict[str, dict[str, str]] = {
    "cpp": {
        "solve.cpp": '#include <iostream>\n#include "add.h"\n'
        "int main() { long a, b; std::cin >> a >> b; std::cout << add(a, b) << '\\n'; }\n",
        "add.h": "long add(long a, long b);\n",
        "add.cpp": '#include "add.h"\nlong add(long a, long b) { return a + b; }\n',
    },
    "python3": {
        "main.py": "from pkg.add import add\nprint(add(*map(int, input().split())))\n",
        "pkg/__init__.py": "",
        "pkg/add.py": "def add(a, b):\n    return a + b\n",
    },
    "java": {
        "Solution.java": "import java.util.Scanner;\nclass Solution {\n"
        "    public static void main(String[] args) {\n"
        "        Scanner in = new Scanner(System.in);\n"
        "        System.out.println(Adder.add(in.nextLong(), in.nextLong()));\n    }\n}\n",
        "Adder.java": "class Adder { static long add(long a, long b) { return a + b; } }\n",
    },
    "kotlin": {
        "solve.kt": 'fun main() {\n    val (a, b) = readLine()!!.split(" ").map { it.toLong() }\n'
        "    println(add(a, b))\n}\n",
        "add.kt": "fun add(a: Long, b: Long) = a + b\n",
    },
    "go": {
        "main.go": 'package main\n\nimport "fmt"\n\nfunc main() {\n\tvar a, b int64\n'
        "\tfmt.Scan(&a, &b)\n\tfmt.Println(add(a, b))\n}\n",
        "add.go": "package main\n\nfunc add(a, b int64) int64 { return a + b }\n",
    },
    "rust": {
        "main.rs": "mod add;\nuse std::io::Read;\nfn main() {\n    let mut s = String::new();\n"
        "    std::io::stdin().read_to_string(&mut s).unwrap();\n"
        "    let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect();\n"
        '    println!("{}", add::add(v[0], v[1]));\n}\n',
        "add.rs": "pub fn add(a: i64, b: i64) -> i64 { a + b }\n",
    },
}


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


@pytest.mark.sandbox
@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
@pytest.mark.parametrize("lang", sorted(CASES))
def test_several_files_run_together(lang: str, as_zip: bool, tmp_path: Path, judge_cli: JudgeCli) -> None:
    folder = tmp_path / "src"
    _write(folder, CASES[lang])
    source = folder
    if as_zip:
        source = tmp_path / "src.zip"
        with zipfile.ZipFile(source, "w") as z:
            for name, text in CASES[lang].items():
                z.writestr(name, text)
    stdin = tmp_path / "in.txt"
    stdin.write_text("2 3\n")
    result = judge_cli(["run", str(source), "--json", "--stdin", str(stdin)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["status"], doc["stdout"], doc["language"]) == ("OK", "5\n", lang), doc


@pytest.mark.sandbox
def test_main_names_the_entry_point(tmp_path: Path, judge_cli: JudgeCli) -> None:
    _write(tmp_path, {"a.py": "print('a')\n", "b.py": "import a\nprint('b')\n"})
    result = judge_cli(["run", str(tmp_path), "--main", "b.py", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["stdout"] == "a\nb\n"
