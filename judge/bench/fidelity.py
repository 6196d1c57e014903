"""`judge bench fidelity`: how exact the sandbox's CPU time and peak memory are.

CPU: a C busy loop of about 0.5 s runs N times in fresh boxes, interleaved with the same
binary run by a plain subprocess (CPU time from wait4's rusage), so that the spread of the
box can be told apart from the spread of the machine: on a shared VM both move together.
Each round runs the two in an order drawn afresh, so neither always runs on the warmer CPU.
`cpu_spread_ratio` is the box's coefficient of variation over the subprocess's, from the same
run (issue 23's goal: at most 1.1); `cpu_pair_ratio` is each round's box/subprocess time,
whose own spread says how much the box adds to a run's time beyond the machine's drift.
Memory: a C program that touches 64 MiB runs in fresh boxes; the reported cgroup peak is
compared with 64 MiB.

The goals (issue 2): CPU-time spread at most 1.5% over 30 runs; 64 MiB reported within 2%.
A shared VM's speed drifts far more than that, so issue 23 measures the ratio instead.
They are met or missed in this printout, never in a test that fails on timing.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import sandbox
from sandbox import Limits

BUSY_C = r"""
#include <stdlib.h>
int main(int c, char **v) {
    volatile unsigned long x = 0;
    unsigned long n = c > 1 ? strtoul(v[1], 0, 10) : 600000000UL;
    for (unsigned long i = 0; i < n; i++) x += i;
    return 0;
}
"""
TOUCH_C = r"""
#include <stdlib.h>
#include <string.h>
int main(int c, char **v) {
    size_t n = (size_t)strtoul(v[1], 0, 10) << 20;
    char *p = malloc(n);
    memset(p, 1, n);
    return p[n - 1] == 1 ? 0 : 1;
}
"""


def _build(tmp: Path, name: str, source: str) -> bytes:
    src = tmp / f"{name}.c"
    src.write_text(source)
    subprocess.run(["cc", "-O1", "-static", "-o", str(tmp / name), str(src)], check=True)
    return (tmp / name).read_bytes()


def _calibrate(path: Path, target_s: float = 0.5) -> int:
    """Loop count that takes about target_s of CPU on this machine."""
    n = 100_000_000
    _, _, ru = os.wait4(subprocess.Popen([str(path), str(n)]).pid, 0)
    spent = ru.ru_utime + ru.ru_stime
    return max(1, int(n * target_s / max(spent, 1e-3)))


def _summary(xs: list[float], digits: int = 2) -> dict[str, float]:
    mean = statistics.fmean(xs)
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return {
        "mean": round(mean, digits),
        "stdev": round(sd, digits),
        "cv_percent": round(100 * sd / mean, 2),
        "median": round(statistics.median(xs), digits),
        "min": round(min(xs), digits),
        "max": round(max(xs), digits),
    }


def measure(runs: int = 30, memory_runs: int = 10, mib: int = 64) -> dict[str, Any]:
    sb = sandbox.default()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        busy = _build(tmp, "busy", BUSY_C)
        touch = _build(tmp, "touch", TOUCH_C)
        n = _calibrate(tmp / "busy")
        limits = Limits(cpu_time_ms=10_000, wall_time_ms=30_000)
        box_ms: list[float] = []
        plain_ms: list[float] = []
        rng = random.Random()

        def in_box() -> None:
            r = sb.run(["./busy", str(n)], limits, files={"busy": (busy, 0o755)})
            if r.status != "OK":
                raise RuntimeError(f"busy loop in a box ended {r.status}: {r.message}")
            box_ms.append(r.cpu_time_ms)

        def plain() -> None:
            _, _, ru = os.wait4(subprocess.Popen([str(tmp / "busy"), str(n)]).pid, 0)
            plain_ms.append((ru.ru_utime + ru.ru_stime) * 1000)

        for _ in range(runs):
            for step in rng.sample([in_box, plain], 2):
                step()
        peaks: list[float] = []
        for _ in range(memory_runs):
            r = sb.run(
                ["./touch", str(mib)], Limits(memory_bytes=(mib + 64) << 20), files={"touch": (touch, 0o755)}
            )
            if r.status != "OK":
                raise RuntimeError(f"touch {mib} MiB in a box ended {r.status}: {r.message}")
            peaks.append(r.memory_bytes / (1 << 20))
    diffs = [b - p for b, p in zip(box_ms, plain_ms, strict=True)]
    pairs = [b / p for b, p in zip(box_ms, plain_ms, strict=True) if p > 0]
    errors = [100 * (p - mib) / mib for p in peaks]
    box, sub = _summary(box_ms), _summary(plain_ms)
    return {
        "runs": runs,
        "loop_iterations": n,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpu_box_ms": box,
        "cpu_subprocess_ms": sub,
        "cpu_spread_ratio": round(box["cv_percent"] / sub["cv_percent"], 3) if sub["cv_percent"] else None,
        "cpu_pair_ratio": _summary(pairs, 4) if pairs else None,
        "cpu_box_minus_subprocess_ms": _summary(diffs),
        "memory_target_mib": mib,
        "memory_box_mib": _summary(peaks),
        "memory_error_percent": {
            "median": round(statistics.median(errors), 2),
            "max_abs": round(max(abs(e) for e in errors), 2),
        },
    }
