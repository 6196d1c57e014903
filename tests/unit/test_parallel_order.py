"""judge/parallel.py without boxes: whatever order two lanes finish in, the results, the verdict's
test and the events are a sequential run's; an exception in a lane or a callback stops it all.

Each "test" is a function of its case: the slow one waits until a later one has finished, so
the later result is there first, every time, with no timing involved.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from judge.cores import Lanes
from judge.parallel import run_tests

WAIT_S = 10.0  # only a broken runner waits this long


def two_lanes(tmp_path: Path) -> Lanes:
    sb: Any = None  # the cases below make no box
    return Lanes(sb, ["1"], width=2, own="0", directory=str(tmp_path / "cores"))


class Cases:
    """Cases 0..n-1; `slow` waits for `after` to have finished; `failing` fail."""

    def __init__(self, n: int, *, slow: int, after: int, failing: frozenset[int] = frozenset()) -> None:
        self.cases = list(range(n))
        self.slow, self.failing = slow, failing
        self.finished: list[int] = []
        self.waited_for = threading.Event()
        self.after = after
        self.lock = threading.Lock()

    def run(self, case: int, _sb: object) -> tuple[int, bool]:
        if case == self.slow:
            assert self.waited_for.wait(WAIT_S), f"case {self.after} never ran beside case {case}"
        with self.lock:
            self.finished.append(case)
        if case == self.after:
            self.waited_for.set()
        return case, case not in self.failing


def run(cases: Cases, lanes: Lanes, events: list[str], **kw: Any) -> list[tuple[int, bool]]:
    return run_tests(
        cases.cases,
        cases.run,
        own=None,
        lanes=lanes,  # type: ignore[arg-type]
        failed=lambda r: not r[1],
        progress=lambda c: events.append(f"before {c}"),
        on_test=lambda i, r: events.append(f"after {i}"),
        **kw,
    )


def sequential_events(n: int) -> list[str]:
    return [e for i in range(n) for e in (f"before {i}", f"after {i}")]


def test_results_and_events_keep_test_order_when_a_later_test_ends_first(tmp_path: Path) -> None:
    cases, events = Cases(8, slow=2, after=3), list[str]()
    results = run(cases, two_lanes(tmp_path), events)
    assert results == [(i, True) for i in range(8)]
    assert cases.finished.index(3) < cases.finished.index(2)
    assert events == sequential_events(8)


def test_the_first_failure_in_test_order_decides_though_a_later_one_failed_first(tmp_path: Path) -> None:
    cases, events = Cases(8, slow=2, after=3, failing=frozenset({2, 3})), list[str]()
    results = run(cases, two_lanes(tmp_path), events)
    assert results == [(0, True), (1, True), (2, False)]
    assert max(cases.finished) == 3  # ran beside test 2, failed first, was dropped; nothing after it
    assert events == sequential_events(3)


def test_run_all_keeps_every_result_after_a_failure(tmp_path: Path) -> None:
    cases, events = Cases(6, slow=1, after=2, failing=frozenset({1})), list[str]()
    results = run(cases, two_lanes(tmp_path), events, stop_at_failure=False)
    assert results == [(0, True), (1, False), (2, True), (3, True), (4, True), (5, True)]
    assert events == sequential_events(6)


def test_an_exception_in_a_lane_is_raised_and_the_lanes_are_given_back(tmp_path: Path) -> None:
    lanes = two_lanes(tmp_path)

    def explode(case: int, _sb: object) -> tuple[int, bool]:
        if case == 3:
            raise RuntimeError("a bug in a test's run")
        return case, True

    with pytest.raises(RuntimeError, match="a bug"):
        run_tests(
            list(range(10)),
            explode,
            own=None,
            lanes=lanes,  # type: ignore[arg-type]
            failed=lambda r: not r[1],
        )
    lane = lanes.borrow()
    assert lane is not None  # the borrowed core was given back
    lane.give_back()


def test_a_callback_that_raises_stops_the_tests(tmp_path: Path) -> None:
    started: list[int] = []
    told = threading.Event()

    def note(case: int, _sb: object) -> tuple[int, bool]:
        started.append(case)
        if case >= 2:  # tests 2 and 3 run on either lane until the service hears of test 1
            assert told.wait(WAIT_S)
        return case, True

    def lost(index: int, _r: object) -> None:
        if index == 1:
            told.set()
            raise LookupError("the claim is lost")

    with pytest.raises(LookupError):
        run_tests(
            list(range(50)),
            note,
            own=None,
            lanes=two_lanes(tmp_path),  # type: ignore[arg-type]
            failed=lambda r: not r[1],
            on_test=lost,
        )
    assert sorted(started)[:3] == [0, 1, 2] and max(started) <= 3  # what ran ended; nothing started after
