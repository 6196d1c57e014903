"""`judge verify` on a package with the shapes real contest packages have (issue 19), in real boxes.

One Kattis-format package, written here, whose submissions and data each carry one thing the
reference judges (problemtools, DOMjudge) read a certain way, and the verdict their juries
expect from it:

- `accepted/Bits.kt`: Kotlin 2 (`readln()` 1.6, `countOneBits()` 1.5): AC, not CE on Kotlin 1.3;
- `accepted/bits.py3`: problemtools' extension for Python 3: judged, as Python 3;
- `accepted/linked.py`: a symbolic link to bits.py3 in the same package: followed, AC;
- `run_time_error/overflow.c`: writes past a local array on the biggest input: "stack
  smashing detected" (RTE) with the stack protector of Ubuntu's GCC, whose defaults the C
  recipe writes out; Debian's plain `gcc -O2` would print the right answer;
- `accepted/bits.swift`: a language this judge does not have: not judged, naming Swift;
- `accepted/pipe.py`: a FIFO, which nobody can read as a program: not judged and a failed
  verification naming the fault, never a CE;
- `input_validators/bits.ctd`: checktestdata, run boxed, refuses `data/secret/3.in` ("007":
  checktestdata's INT allows no leading zeros), which every solution would take;
  `input_validators/bits.viva` is reported as not run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from click.testing import Result

JudgeCli = Callable[[Sequence[str]], Result]

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

FILES = {
    "problem.yaml": "name: Bits\n",
    ".timelimit": "2\n",
    "input_validators/bits.ctd": "INT(0, 1000000000) NEWLINE\nEOF\n",
    "input_validators/bits.viva": "<0 <= n <= 1000000000>\n",
    "data/sample/1.in": "5\n",
    "data/sample/1.ans": "2\n",
    "data/secret/1.in": "1000000000\n",
    "data/secret/1.ans": "13\n",
    "data/secret/2.in": "0\n",
    "data/secret/2.ans": "0\n",
    "data/secret/3.in": "007\n",
    "data/secret/3.ans": "3\n",
    "submissions/accepted/Bits.kt": "fun main() {\n    val n = readln().trim().toInt()\n"
    "    println(n.countOneBits())\n}\n",
    "submissions/accepted/bits.py3": "print(bin(int(input())).count('1'))\n",
    "submissions/accepted/bits.swift": "print(1)\n",
    "submissions/accepted/bits.c": '#include <stdio.h>\nint main(void) { unsigned n; scanf("%u", &n); '
    'printf("%d\\n", __builtin_popcount(n)); return 0; }\n',
    "submissions/run_time_error/overflow.c": """#include <stdio.h>
#include <stdlib.h>
/* the digits go into 8 bytes: 1000000000 and its NUL are 11, three past the end */
static unsigned read_number(void) {
    char digits[8];
    if (scanf("%s", digits) != 1) return 0;
    return (unsigned)strtoul(digits, NULL, 10);
}
int main(void) {
    printf("%d\\n", __builtin_popcount(read_number()));
    return 0;
}
""",
    "submissions/wrong_answer/off.py3": "print(bin(int(input())).count('1') + 1)\n",
}


def make_package(root: Path) -> Path:
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    os.symlink("bits.py3", root / "submissions/accepted/linked.py")
    os.mkfifo(root / "submissions/accepted/pipe.py")
    return root


def test_verify_gives_each_shape_the_jurys_verdict(judge_cli: JudgeCli, tmp_path: Path) -> None:
    pkg = make_package(tmp_path / "bits")
    result = judge_cli(["verify", str(pkg), "--json"])
    doc = json.loads(result.stdout)
    subs = {s["path"].removeprefix("submissions/"): s for s in doc["submissions"]}
    got = {path: (s["language"], s["verdict"], s["ok"]) for path, s in subs.items()}
    assert got["accepted/Bits.kt"] == ("kotlin", "AC", True), subs["accepted/Bits.kt"]
    assert got["accepted/bits.py3"] == ("python3", "AC", True)
    assert got["accepted/linked.py"] == ("python3", "AC", True)
    assert got["accepted/bits.c"] == ("c", "AC", True)
    assert got["wrong_answer/off.py3"] == ("python3", "WA", True)
    overflow = subs["run_time_error/overflow.c"]
    assert (overflow["verdict"], overflow["ok"]) == ("RTE", True), overflow
    # the canary check's abort (__stack_chk_fail), on the one test whose input is too long
    assert [t["message"] for t in overflow["tests"] if t["verdict"] == "RTE"] == ["killed by SIGABRT"]

    swift = subs["accepted/bits.swift"]
    assert (swift["verdict"], swift["ok"]) == (None, None)
    assert "not judged" in swift["note"] and "Swift" in swift["note"]
    pipe = subs["accepted/pipe.py"]
    assert (pipe["verdict"], pipe["ok"]) == (None, False), pipe  # the package's fault, not a CE
    assert "cannot read it" in pipe["note"] and "not a regular file" in pipe["note"]

    invalid = doc["input_validation"]["invalid"]
    assert doc["input_validation"]["checks"] == 4  # one script, four inputs
    assert len(invalid) == 1 and invalid[0].startswith(
        "secret/3.in: the checktestdata script bits.ctd rejects it"
    ), invalid
    assert "007" in invalid[0]  # checktestdata's own message, from the box's stderr
    assert doc["input_validation"]["not_run"] == [
        "input_validators/bits.viva: VIVA, a Java program this judge does not ship"
    ]
    assert result.exit_code == 1 and doc["ok"] is False
    # where the time went: Kotlin alone compiles for seconds; every phase was timed
    timings = doc["timings"]
    assert set(timings) >= {"judging_s", "input_validation_s", "compile_s", "program_runs_s"}
    assert timings["compile_s"] > 0 and timings["input_validation_s"] > 0


def test_a_link_leaving_the_package_is_refused_naming_it(judge_cli: JudgeCli, tmp_path: Path) -> None:
    pkg = tmp_path / "bits"
    for name in ("problem.yaml", "data/sample/1.in", "data/sample/1.ans", "submissions/accepted/bits.py3"):
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(FILES[name])
    (tmp_path / "outside.py").write_text("print(2)\n")
    os.symlink("../../../outside.py", pkg / "submissions/accepted/away.py")
    result = judge_cli(["verify", str(pkg)])
    assert result.exit_code == 2
    assert "submissions/accepted/away.py" in result.output and "leaves the package" in result.output
