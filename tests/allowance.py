"""The slowness allowance: JUDGE_TEST_SLOWNESS=N for machines N times slower than the tests assume.

The sandbox tests' limits and timing bounds are set for real hardware: a 1 s CPU limit that a
Python start fits in, a compile of testlib's checker within the 10 s of CPU a compile box
gets, an idle program billed under 20 ms. Under an emulator (qemu -accel tcg, 10 to 50 times
slower: .ci/fresh-machine) the same runs take longer in CPU time as the guest counts it, so a
run that must be OK ends TLE and a bound meant for overhead trips. N (a factor, default 1)
scales exactly those: the time limits of runs that must finish (the probes' default limits,
the compile limits, `limits()`), and the bounds on overhead (`ms()`). What a test asserts
about a verdict stays as it is: a spin still ends TLE, at its own limit, which is not scaled
(a test that states a limit to be hit passes it explicitly). At N = 1 nothing changes.

Importable as `allowance` from any test module (tests/ is on sys.path for tests/conftest.py).
"""

from __future__ import annotations

import os
from dataclasses import replace

from sandbox import Limits

VARIABLE = "JUDGE_TEST_SLOWNESS"


def _factor() -> float:
    text = os.environ.get(VARIABLE, "").strip() or "1"
    try:
        factor = float(text)
    except ValueError:
        raise SystemExit(f"{VARIABLE}={text!r}: a factor is a number, 1 or more (e.g. 20)") from None
    if not factor >= 1:
        raise SystemExit(f"{VARIABLE}={text!r}: a factor is 1 or more; the tests' bounds never tighten")
    return factor


FACTOR = _factor()


def ms(bound: float) -> float:
    """A bound on time (overhead, a delay) as this machine allows it: `bound` times the factor."""
    return bound * FACTOR


def limits(lim: Limits) -> Limits:
    """`lim` with its CPU and wall time limits scaled by the factor (for runs that must finish)."""
    if FACTOR == 1:
        return lim
    return replace(
        lim, cpu_time_ms=round(lim.cpu_time_ms * FACTOR), wall_time_ms=round(lim.wall_time_ms * FACTOR)
    )
