"""`judge bench checker`: how much memory grading takes for a large output (issue 17, finding 3).

A throwaway problem with one test whose answer is `mib` MiB of `1 2.5 x` lines, graded with
the default output validator against a Python program that prints the same lines with `X`
(so the comparison walks every token, case-insensitively, and accepts). Two figures, each
from a fresh child process so that nothing else is in its memory:

* grading: the child loads the package and grades the submission as a worker's pool process
  does (`Grader.grade`: compile box, run box, output, check); its peak resident set while
  grading (VmHWM, reset just before) against what it held before (VmRSS).
* checker: the child compares the answer file with an output file already on disk
  (`check_streams`), so the figure is the comparison's alone.

Before the output was spooled to a file and compared in windows, the grading child peaked at
about 1.2 GB for 64 MiB (the output in memory twice, then split into 8 million tokens).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import BenchError

LINE_ANSWER = b"1 2.5 x\n"
LINE_OUTPUT = b"1 2.5 X\n"
PROGRAM = """import sys
line = b"1 2.5 X\\n"
block = line * 8192
left = {size}
while left >= len(block):
    sys.stdout.buffer.write(block)
    left -= len(block)
sys.stdout.buffer.write(line * (left // len(line)))
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Measure:
    """One child's figures: MiB, seconds."""

    before_mib: float  # resident set before the work
    peak_mib: float  # peak resident set of the whole child
    seconds: float
    verdict: str

    def to_json(self) -> dict[str, object]:
        return {
            "before_mib": round(self.before_mib, 1),
            "peak_mib": round(self.peak_mib, 1),
            "grown_mib": round(self.peak_mib - self.before_mib, 1),
            "seconds": round(self.seconds, 2),
            "verdict": self.verdict,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckerBench:
    output_bytes: int
    grading: Measure
    checker: Measure

    def to_json(self) -> dict[str, object]:
        return {
            "output_bytes": self.output_bytes,
            "grading": self.grading.to_json(),
            "checker": self.checker.to_json(),
        }


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    raise BenchError(f"/proc/self/status has no {field}")


def _start() -> float:
    """The resident set now, with the peak (VmHWM) reset to it (proc(5): clear_refs 5)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass  # then the peak may include the start-up's own: still an upper bound
    return _status_mib("VmRSS")


def _peak_mib() -> float:
    return _status_mib("VmHWM")


def _make_problem(root: Path, size: int) -> None:
    """A legacy Kattis package: one secret test of `size` bytes of answer, room for it as output."""
    (root / "data" / "secret").mkdir(parents=True)
    (root / "problem.yaml").write_text(
        f"name: Big output\nlimits:\n  output: {size // (1 << 20) + 16}\n  memory: 512\n"
    )
    (root / "data" / "secret" / "1.in").write_bytes(b"")
    lines = size // len(LINE_ANSWER)
    with open(root / "data" / "secret" / "1.ans", "wb") as f:
        block = LINE_ANSWER * 8192
        left = lines
        while left >= 8192:
            f.write(block)
            left -= 8192
        f.write(LINE_ANSWER * left)


def child_grade(problem_dir: str, size: int) -> None:
    """The grading child: prints one JSON Measure."""
    from ..grading import Grader
    from ..problems import package
    from ..submission import Source

    problem = package.load(Path(problem_dir))
    grader = Grader(problem, time_limit_s=20.0)
    source = Source.single("main.py", PROGRAM.format(size=size).encode())
    before = _start()
    t0 = time.monotonic()
    result = grader.grade(source, "python3")
    seconds = time.monotonic() - t0
    print(
        json.dumps(
            Measure(
                before_mib=before, peak_mib=_peak_mib(), seconds=seconds, verdict=result.verdict.value
            ).to_json()
        )
    )


def child_check(answer: str, output: str) -> None:
    """The checker child: prints one JSON Measure."""
    from ..checkers import default

    before = _start()
    t0 = time.monotonic()
    with open(answer, "rb") as a, open(output, "rb") as o:
        if hasattr(default, "check_streams"):
            r = default.check_streams(a, o)
        else:  # the code before streaming, for a before-and-after figure
            r = default.check(a.read(), o.read())
    seconds = time.monotonic() - t0
    print(
        json.dumps(
            Measure(
                before_mib=before, peak_mib=_peak_mib(), seconds=seconds, verdict="AC" if r.accepted else "WA"
            ).to_json()
        )
    )


def _child(call: str, *args: str) -> Measure:
    code = f"import sys; from judge.bench.checker import {call}; {call}(*sys.argv[1:])"
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise BenchError(f"the {call} child failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    doc = json.loads(done.stdout.strip().splitlines()[-1])
    return Measure(
        before_mib=doc["before_mib"], peak_mib=doc["peak_mib"], seconds=doc["seconds"], verdict=doc["verdict"]
    )


def measure_checker(mib: int = 64) -> CheckerBench:
    """Grade and check a `mib` MiB output in fresh child processes; BenchError unless both accept."""
    size = mib * (1 << 20)
    size -= size % len(LINE_ANSWER)
    with tempfile.TemporaryDirectory(prefix="judge-bench-checker-") as tmp:
        root = Path(tmp)
        _make_problem(root / "problem", size)
        output = root / "output"
        with open(root / "problem" / "data" / "secret" / "1.ans", "rb") as a, open(output, "wb") as o:
            while chunk := a.read(1 << 20):
                o.write(chunk.replace(b"x", b"X"))
        grading = _child("child_grade", str(root / "problem"), str(size))
        checker = _child("child_check", str(root / "problem" / "data" / "secret" / "1.ans"), str(output))
    for what, m in (("grading", grading), ("checker", checker)):
        if m.verdict != "AC":
            raise BenchError(f"the {what} child judged the output {m.verdict}, not AC")
    return CheckerBench(output_bytes=size, grading=grading, checker=checker)


def show(report: CheckerBench) -> None:
    mib = report.output_bytes / (1 << 20)
    for what, m in (("grading", report.grading), ("checker", report.checker)):
        print(
            f"{what:8} a {mib:.0f} MiB output: {m.verdict}, peak {m.peak_mib:.0f} MiB "
            f"({m.before_mib:.0f} MiB before, +{m.peak_mib - m.before_mib:.0f} MiB), {m.seconds:.1f} s"
        )
