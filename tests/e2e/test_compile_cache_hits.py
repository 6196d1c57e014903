"""The compile cache in real grading (judge/compile_cache.py): a hit is the same verdict without
the compile box, and an entry made for another source is never served."""

from __future__ import annotations

from pathlib import Path

import pytest

from judge import compile_cache
from judge.grading import Grader
from judge.problems import package
from judge.submission import Source
from judge.verdict import Verdict

pytestmark = pytest.mark.sandbox

AC = b'#include <stdio.h>\nint main(void){long a,b;scanf("%ld %ld",&a,&b);printf("%ld\\n",a+b);}\n'
WA = b'#include <stdio.h>\nint main(void){long a,b;scanf("%ld %ld",&a,&b);printf("%ld\\n",a-b);}\n'


@pytest.fixture
def grader(sandbox_ready: None, tmp_path: Path) -> Grader:
    root = tmp_path / "sum"
    (root / "data" / "secret").mkdir(parents=True)
    (root / "problem.yaml").write_text("name: Sum\n")
    for i, (a, b) in enumerate([(1, 2), (5, 7)]):
        (root / "data" / "secret" / f"{i}.in").write_text(f"{a} {b}\n")
        (root / "data" / "secret" / f"{i}.ans").write_text(f"{a + b}\n")
    return Grader(package.load(root), time_limit_s=2.0)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> compile_cache.CompileCache:
    monkeypatch.setenv("JUDGE_COMPILE_CACHE_DIR", str(tmp_path / "cache"))
    made = compile_cache.default()
    assert made is not None
    return made


def grade(grader: Grader, source: bytes) -> Verdict:
    return grader.grade(Source.single("sum.c", source), "c").verdict


def test_a_hit_gives_the_same_verdict_without_compiling(
    grader: Grader, cache: compile_cache.CompileCache, boxes: list[float]
) -> None:
    assert grade(grader, AC) is Verdict.AC
    assert (cache.hits, cache.misses) == (0, 1)
    first = len(boxes)
    assert first == 3  # the compile box and one box per test
    assert grade(grader, AC) is Verdict.AC
    assert cache.hits == 1
    assert len(boxes) - first == 2  # no compile box this time
    assert grade(grader, WA) is Verdict.WA  # another source: compiled, not served the other's program
    assert (cache.hits, cache.misses) == (1, 2)
    assert grade(grader, WA) is Verdict.WA
    assert cache.hits == 2


def test_a_poisoned_entry_is_not_served(grader: Grader, cache: compile_cache.CompileCache) -> None:
    """The accepted program's entry planted under the wrong answer's key: WA is still WA."""
    assert grade(grader, AC) is Verdict.AC
    (entry,) = Path(cache.directory).glob("*" + compile_cache.SUFFIX)
    assert grade(grader, WA) is Verdict.WA
    wa_entry = next(p for p in Path(cache.directory).glob("*" + compile_cache.SUFFIX) if p != entry)
    wa_entry.write_bytes(entry.read_bytes())
    assert grade(grader, WA) is Verdict.WA
    assert cache.misses == 3  # the planted entry was refused and the source compiled again
    assert grade(grader, WA) is Verdict.WA  # and its own, fresh entry serves it from now on
    assert cache.hits == 1


def test_the_benchmark_rejudges_from_the_cache(sandbox_ready: None) -> None:
    from judge.bench.compile_cache import measure_compile_cache

    report = measure_compile_cache(count=3, tests=1).to_json()
    assert report["cache_hits"] == 3  # every rejudge with the cache was a hit; verdicts checked inside
    assert report["submissions"] == 3 and report["cache_bytes"] > 0
    assert set(report["per_submission_with_cache_ms"]) == {"p50", "p90", "p99"}  # type: ignore[arg-type]
