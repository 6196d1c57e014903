"""`judge bench tests`: a submission with many tests, POST to verdict, on one core and on two.

Set-up. Two `judge serve --workers 2 --languages c` side by side (judge/bench/service.py
`serve`), each on a data directory of its own: one with JUDGE_TEST_PARALLELISM=1 (one test at a
time, as every grading was before judge/cores.py), one with JUDGE_TEST_PARALLELISM=2 (a grading
may borrow the other core while it is idle). Both import the same problem: `count` tests
(default 100), each an n to double after a loop of `work` million steps (a test's own CPU
time, shown in the figures), time limit 1 s.

Latency. `runs` rounds; in each, one `POST /api/v1/submissions?wait=true` of the accepted C
program to each service, in an order drawn afresh per round, each timed from before the POST to
the answer (its verdict: compile, every test, the checker, store, publish). Before each POST
the benchmark waits until the workers have been idle for longer than cores.IDLE_AFTER_S, so
that they hold no core (judge/cores.py): an idle machine, as a contestant would meet it. Every
answer must be AC with every test, or BenchError says which was not.

The two services say which cores they hold in a lock directory of their own (JUDGE_CORES_DIR),
not the machine's: on a machine shared with other judges (this project's CI, other sessions'
tests), theirs would hold the cores whenever they grade, and the two-core side would measure a
busy machine instead. Their load still falls on both sides alike, and the load average says how
much there was.

The figures: each side's median and p90 time to verdict, the ratio of the medians, the
tests' CPU time (each test's, summed, median over the runs), and how many of the two-core
side's gradings said they ran tests on a borrowed core (its worker's log): on a machine whose
other core is busy with someone else's judge, the two sides measure the same thing, and
this says so. The load average is beside them (the machine may be shared).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import statistics
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..cores import IDLE_AFTER_S
from . import BenchError, percentiles
from .service import _Client, _multipart, serve

PROGRAM = (
    '#include <stdio.h>\nint main(void){long n;if(scanf("%ld",&n)!=1)return 1;\n'
    'for(volatile long i=0;i<WORKL;i++);\nprintf("%ld\\n",2*n);return 0;}\n'
)
BORROWED = "tests ran on borrowed cores"  # judge/parallel.py's log line
SIDES = (1, 2)  # JUDGE_TEST_PARALLELISM of each service


@dataclass(frozen=True, slots=True, kw_only=True)
class TestsBench:
    __test__ = False  # not a pytest class, whatever its name

    tests: int
    runs: int
    work: int
    ms: dict[int, list[float]]
    cpu_s: dict[int, list[float]]
    borrowed: dict[int, int]
    load_average: list[float] = field(default_factory=list)

    def median(self, side: int) -> float:
        return round(statistics.median(self.ms[side]), 1)

    def to_json(self) -> dict[str, object]:
        one, two = self.median(1), self.median(2)
        return {
            "tests_per_submission": self.tests,
            "runs": self.runs,
            "work_million_steps": self.work,
            "tests_cpu_s": {str(s): round(statistics.median(self.cpu_s[s]), 3) for s in SIDES},
            "one_core_ms": percentiles(self.ms[1]),
            "two_cores_ms": percentiles(self.ms[2]),
            "one_core_median_ms": one,
            "two_cores_median_ms": two,
            "one_over_two": round(one / two, 2) if two else None,
            "gradings_that_borrowed": {str(s): self.borrowed[s] for s in SIDES},
            "load_average": self.load_average,
        }


def _package(path: Path, tests: int, source: str) -> bytes:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            "double/problem.yaml",
            "problem_format_version: 2023-07-draft\nname: Double\nlimits:\n  time_limit: 1.0\n",
        )
        for i in range(tests):
            zf.writestr(f"double/data/secret/{i:03}.in", f"{i}\n")
            zf.writestr(f"double/data/secret/{i:03}.ans", f"{2 * i}\n")
        zf.writestr("double/submissions/accepted/double.c", source)
    return path.read_bytes()


def measure_tests(*, count: int = 100, runs: int = 15, work: int = 2) -> TestsBench:
    source = PROGRAM.replace("WORK", str(work * 1_000_000))
    one = json.dumps({"language": "c", "problem": "double", "source": source}).encode()
    ms: dict[int, list[float]] = {s: [] for s in SIDES}
    cpu: dict[int, list[float]] = {s: [] for s in SIDES}
    tmp = Path(tempfile.mkdtemp(prefix="judge-bench-tests-"))
    try:
        with contextlib.ExitStack() as stack:
            clients: dict[int, _Client] = {}
            for side in SIDES:
                folder = tmp / f"parallelism-{side}"
                folder.mkdir()
                env = {"JUDGE_TEST_PARALLELISM": str(side), "JUDGE_CORES_DIR": str(tmp / "cores")}
                clients[side] = stack.enter_context(serve(folder, 2, ["c"], env_extra=env))[0]
                package = _package(folder / "double.zip", count, source)
                body, ctype = _multipart("package", "double.zip", package)
                problem = clients[side].call("POST", "/problems?wait=300", body, ctype, timeout=600)
                if not problem["verification"]["ok"]:
                    raise BenchError(f"the benchmark's problem did not verify: {problem}")
            for side in SIDES:  # warm-up: each worker process loads the package and its grader
                for _ in range(4):
                    clients[side].call("POST", "/submissions?wait=true&timeout=120", one)
            borrowed_before = {s: _borrowed(tmp / f"parallelism-{s}") for s in SIDES}
            rng = random.Random()
            for _ in range(runs):
                for side in rng.sample(SIDES, len(SIDES)):
                    time.sleep(IDLE_AFTER_S + 0.1)  # every worker idle: no core held
                    t0 = time.perf_counter()
                    doc = clients[side].call("POST", "/submissions?wait=true&timeout=120", one, timeout=180)
                    ms[side].append((time.perf_counter() - t0) * 1000)
                    if doc["verdict"] != "AC" or len(doc["tests"]) != count:
                        raise BenchError(
                            f"parallelism {side}: submission {doc['id']} is {doc['verdict']} "
                            f"with {len(doc['tests'])} of {count} tests"
                        )
                    cpu[side].append(sum(t["time"] for t in doc["tests"]))
            borrowed = {s: _borrowed(tmp / f"parallelism-{s}") - borrowed_before[s] for s in SIDES}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return TestsBench(
        tests=count,
        runs=runs,
        work=work,
        ms=ms,
        cpu_s=cpu,
        borrowed=borrowed,
        load_average=[round(x, 2) for x in os.getloadavg()],
    )


def _borrowed(folder: Path) -> int:
    """The gradings that ran tests on a borrowed core, by the serve's log so far."""
    try:
        return (folder / "serve.log").read_text(errors="replace").count(BORROWED)
    except FileNotFoundError:
        return 0
