"""Grading keeps a program's output in a file and checks it in windows (issue 17, finding 3):
the output limit, not the worker's memory, is what bounds an output."""

from __future__ import annotations

from pathlib import Path

import pytest

from judge.bench import checker as checker_bench
from judge.grading import Grader
from judge.problems import package
from judge.submission import Source
from judge.verdict import Verdict

pytestmark = pytest.mark.sandbox


def problem(root: Path, answer: bytes, output_mib: int = 1) -> Path:
    (root / "data" / "secret").mkdir(parents=True)
    (root / "problem.yaml").write_text(f"name: Output\nlimits:\n  output: {output_mib}\n")
    (root / "data" / "secret" / "1.in").write_bytes(b"")
    (root / "data" / "secret" / "1.ans").write_bytes(answer)
    return root


def grade(root: Path, program: str) -> tuple[Verdict, str]:
    grader = Grader(package.load(root), time_limit_s=5.0)
    result = grader.grade(Source.single("main.py", program.encode()), "python3")
    assert len(result.tests) == 1
    return result.verdict, result.tests[0].message


@pytest.mark.parametrize(
    ("program", "verdict"),
    [
        # 1 MiB exactly is within the limit, and checked whole
        ("import sys\nsys.stdout.buffer.write(b'ab\\n' * ((1 << 20) // 3))", None),
        # over it: cut, the program runs on to its end, and the run is OLE, as the box's own capture has it
        (
            "import sys\nsys.stdout.buffer.write(b'x' * (3 << 20))\nprint('done', file=sys.stderr)",
            Verdict.OLE,
        ),
    ],
)
def test_the_output_limit_holds_when_the_output_goes_to_a_file(
    sandbox_ready: None, tmp_path: Path, program: str, verdict: Verdict | None
) -> None:
    answer = b"ab\n" * ((1 << 20) // 3)
    got, message = grade(problem(tmp_path / "p", answer), program)
    if verdict is None:
        assert got is Verdict.AC, message
    else:
        assert got is verdict
        assert message == f"output over the limit of {1 << 20} bytes"


def test_a_wrong_token_deep_in_the_output_is_found_and_placed(sandbox_ready: None, tmp_path: Path) -> None:
    answer = b"".join(b"%d\n" % i for i in range(200_000))
    program = "import sys\nfor i in range(200_000):\n    print(i if i != 123_456 else 'oops')\n"
    got, message = grade(problem(tmp_path / "p", answer, output_mib=4), program)
    assert got is Verdict.WA
    assert message.startswith(
        "Wrong answer on line 123457 of the output (line 123457 of the answer), token 123457: "
    ), message


@pytest.mark.slow
def test_grading_a_64_mib_output_takes_a_few_mib(sandbox_ready: None) -> None:
    """`judge bench checker`: the grading process grew by 1.35 GB for this before."""
    report = checker_bench.measure_checker(64)
    assert report.grading.verdict == "AC" and report.checker.verdict == "AC"
    assert report.grading.peak_mib - report.grading.before_mib < 48, report.to_json()
    assert report.checker.peak_mib - report.checker.before_mib < 32, report.to_json()
