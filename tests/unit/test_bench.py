"""The benchmark's arithmetic and its interleaving, with fake candidates (no boxes)."""

from __future__ import annotations

import random

import pytest

from judge.bench import interleave, percentiles


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        ([5.0], {"p50": 5.0, "p90": 5.0, "p99": 5.0}),
        ([1.0, 2.0], {"p50": 1.5, "p90": 1.9, "p99": 1.99}),
        ([float(x) for x in range(101)], {"p50": 50.0, "p90": 90.0, "p99": 99.0}),
        ([3.0, 1.0, 2.0], {"p50": 2.0, "p90": 2.8, "p99": 2.98}),
    ],
)
def test_percentiles(samples: list[float], expected: dict[str, float]) -> None:
    assert percentiles(samples) == expected


def test_percentiles_of_nothing() -> None:
    with pytest.raises(ValueError):
        percentiles([])


def test_interleave_runs_every_candidate_once_per_round_in_shuffled_orders() -> None:
    calls: list[str] = []
    candidates = {name: (lambda name=name: calls.append(name)) for name in ("box", "subprocess", "bwrap")}
    samples = interleave(candidates, runs=30, warmup=2, rng=random.Random(1))
    assert {name: len(xs) for name, xs in samples.items()} == {"box": 30, "subprocess": 30, "bwrap": 30}
    assert all(x >= 0 for xs in samples.values() for x in xs)
    rounds = [tuple(calls[i : i + 3]) for i in range(0, len(calls), 3)]
    assert len(rounds) == 32 and all(sorted(r) == ["box", "bwrap", "subprocess"] for r in rounds)
    assert len(set(rounds)) > 1, "the order must be shuffled afresh each round"
