"""`judge bench compile-cache`: rejudging submissions with and without the compile cache.

A problem (a + b, `tests` tests) and `count` different C submissions (an accepted program
with its own comment each, every fifth a wrong answer) are graded once with the cache on,
which fills it, as their first judging did. Then each is rejudged twice, once with the cache
and once without, the two in an order drawn afresh per submission, so the machine's drift
falls on both alike. Each rejudge is timed from the call to the verdict (`Grader.grade`:
compile or cache, every test, the checker); every verdict must equal the first judging's,
or BenchError says which differed.

The figures: the rejudge's total seconds and per-submission p50 and p90 either way, the ratio
of the totals, the cache's hits, its size, and the load average beside them (the machine is
shared). The cache lives in a temporary directory and goes with it.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import compile_cache
from ..grading import Grader
from ..problems import package
from ..submission import Source
from ..verdict import Verdict
from . import BenchError, percentiles

SUM = (
    "#include <stdio.h>\n/* submission %d */\n"
    'int main(void){long a,b;scanf("%%ld %%ld",&a,&b);printf("%%ld\\n",a OP b);}\n'
)
AC, WA = SUM.replace("OP", "+"), SUM.replace("OP", "-")
ENV = "JUDGE_COMPILE_CACHE_DIR"


@dataclass(frozen=True, slots=True, kw_only=True)
class CompileCacheBench:
    count: int
    tests: int
    with_cache_s: float
    without_cache_s: float
    with_cache_ms: dict[str, float]
    without_cache_ms: dict[str, float]
    hits: int
    cache_bytes: int
    load_average: list[float] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "submissions": self.count,
            "tests_each": self.tests,
            "rejudge_with_cache_s": self.with_cache_s,
            "rejudge_without_cache_s": self.without_cache_s,
            "without_over_with": (
                round(self.without_cache_s / self.with_cache_s, 2) if self.with_cache_s else None
            ),
            "per_submission_with_cache_ms": self.with_cache_ms,
            "per_submission_without_cache_ms": self.without_cache_ms,
            "cache_hits": self.hits,
            "cache_bytes": self.cache_bytes,
            "load_average": self.load_average,
        }


def _problem(root: Path, tests: int) -> Path:
    rng = random.Random(23)
    (root / "data" / "secret").mkdir(parents=True)
    (root / "problem.yaml").write_text("name: Sum (judge bench compile-cache)\n")
    for i in range(tests):
        a, b = rng.randint(-(10**9), 10**9), rng.randint(-(10**9), 10**9)
        (root / "data" / "secret" / f"{i:03}.in").write_text(f"{a} {b}\n")
        (root / "data" / "secret" / f"{i:03}.ans").write_text(f"{a + b}\n")
    return root


def measure_compile_cache(count: int = 100, tests: int = 5) -> CompileCacheBench:
    sources = [((WA if i % 5 == 4 else AC) % i).encode() for i in range(count)]
    before = os.environ.get(ENV)
    with tempfile.TemporaryDirectory(prefix="bench-compile-cache-") as tmp:
        grader = Grader(package.load(_problem(Path(tmp) / "sum", tests)), time_limit_s=2.0)

        def grade(i: int, cached: bool) -> tuple[Verdict, float]:
            if cached:
                os.environ[ENV] = str(Path(tmp) / "cache")
            else:
                os.environ.pop(ENV, None)
            t0 = time.perf_counter()
            verdict = grader.grade(Source.single("sum.c", sources[i]), "c").verdict
            return verdict, time.perf_counter() - t0

        try:
            first = [grade(i, True)[0] for i in range(count)]  # the first judging fills the cache
            cache = compile_cache.default()
            assert cache is not None
            hits_before = cache.hits
            times: dict[bool, list[float]] = {True: [], False: []}
            rng = random.Random()
            for i in range(count):
                for cached in rng.sample([True, False], 2):
                    verdict, seconds = grade(i, cached)
                    if verdict is not first[i]:
                        raise BenchError(
                            f"submission {i} was {first[i]} and is now {verdict} "
                            f"({'with' if cached else 'without'} the cache)"
                        )
                    times[cached].append(seconds)
            hits = cache.hits - hits_before
            size = cache.size_bytes()
        finally:
            if before is None:
                os.environ.pop(ENV, None)
            else:
                os.environ[ENV] = before
    return CompileCacheBench(
        count=count,
        tests=tests,
        with_cache_s=round(sum(times[True]), 3),
        without_cache_s=round(sum(times[False]), 3),
        with_cache_ms=percentiles([t * 1000 for t in times[True]]),
        without_cache_ms=percentiles([t * 1000 for t in times[False]]),
        hits=hits,
        cache_bytes=size,
        load_average=[round(x, 2) for x in os.getloadavg()],
    )
