"""A submission's tests on several boxes at once, with the verdict a sequential run gives.

Theory of operation (judge/cores.py says where the boxes come from). The calling thread is the
coordinator: it starts one lane on the process's own core, borrows idle cores for more lanes
(again after every result, while tests remain to be started) and reports results. Each lane is
a thread that drives one box at a time on its core (the box runtime runs the program in
processes of its own): it takes the next test in test order, runs and checks it, and hands the
result back. So tests start in test order, and when test k has started every test before it has.

ICPC stop-at-first-failure is kept exactly. When test k fails, no test after k starts; tests
before k still run to the end, since one of them may fail too, and the earliest failure is the
verdict, as a sequential run's would be. Tests after it that had already started (a fast test
beside a slow one that fails) are dropped: the result, the stored tests and the live events are
those of a sequential run, which never ran them. `run_all` (judge verify) stops at nothing.
A scoring problem runs each test group's own cases this way, one group after another, with
its on_reject (break: stop at the first failure; continue: stop at nothing) (judge/grading.py).

The coordinator reports in test order only, from its own thread, one at a time: `progress`
hears of test 0 before any test starts and of test i before its result, `on_test` gets each
result in order, whatever order the lanes finish in; a later test that finished first waits
for the ones before it. A borrowed lane gives its core back as soon as its owner wants it
(after the test it runs) and when no test is left to start. If a lane raises (a bug: a test's
own failures are IE results), or a callback does (the service's LostClaim), no further test
starts, the lanes finish what they run, and the exception goes on in the caller's thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from .cores import Boxes, Lane, Lanes

T = TypeVar("T")
R = TypeVar("R")
log = logging.getLogger(__name__)
WAKE_S = 0.05  # the coordinator looks for idle cores again this often while tests remain


class _Run(Generic[T, R]):
    def __init__(
        self,
        cases: Sequence[T],
        run: Callable[[T, Boxes], R],
        failed: Callable[[R], bool],
        *,
        stop_at_failure: bool,
    ) -> None:
        self.cases = cases
        self.run = run
        self.failed = failed
        self.stop_at_failure = stop_at_failure
        self.cond = threading.Condition()
        self.results: dict[int, R] = {}
        self.next = 0  # the next test to start
        self.end = len(cases)  # no test at or after this starts: the first failure + 1, or closing
        self.lanes = 0  # running
        self.error: BaseException | None = None
        self.borrowed = 0  # tests run on borrowed cores
        self.cores: set[str] = set()

    def _take(self) -> int | None:
        with self.cond:
            if self.error is not None or self.next >= self.end:
                return None
            self.next += 1
            return self.next - 1

    def lane(self, sb: Boxes, borrowed: Lane | None) -> None:
        try:
            while borrowed is None or borrowed.keep():
                index = self._take()
                if index is None:
                    break
                result = self.run(self.cases[index], borrowed.sb if borrowed is not None else sb)
                with self.cond:
                    self.results[index] = result
                    if borrowed is not None:
                        borrowed.tests += 1
                        self.borrowed += 1
                    if self.stop_at_failure and self.failed(result):
                        self.end = min(self.end, index + 1)
                    self.cond.notify_all()
        except BaseException as e:
            with self.cond:
                self.error = self.error or e
                self.cond.notify_all()
        finally:
            if borrowed is not None:
                borrowed.give_back()
            with self.cond:
                self.lanes -= 1
                self.cond.notify_all()

    def start(self, sb: Boxes, borrowed: Lane | None) -> threading.Thread:
        with self.cond:
            self.lanes += 1
            if borrowed is not None:
                self.cores.add(borrowed.cpu)
        thread = threading.Thread(
            target=self.lane,
            args=(sb, borrowed),
            daemon=True,
            name=f"judge-lane-{borrowed.cpu if borrowed else 'own'}",
        )
        thread.start()
        return thread

    def wants_more(self, width: int) -> bool:
        with self.cond:
            return self.error is None and self.lanes < width and self.end - self.next > self.lanes

    def close(self, threads: list[threading.Thread]) -> None:
        with self.cond:
            self.end = min(self.end, self.next)
            self.cond.notify_all()
        for thread in threads:
            thread.join()


def run_tests(
    cases: Sequence[T],
    run: Callable[[T, Boxes], R],
    *,
    own: Boxes,
    lanes: Lanes,
    failed: Callable[[R], bool],
    stop_at_failure: bool = True,
    progress: Callable[[T], None] | None = None,
    on_test: Callable[[int, R], None] | None = None,
) -> list[R]:
    """The results of `run(case, sb)` for the cases a sequential run would judge, in order:
    every case, or up to and with the first that `failed` when `stop_at_failure` (module
    docstring). `own` is the sandbox of this process's core; `lanes` lends the others."""
    if not cases:
        return []
    state = _Run(cases, run, failed, stop_at_failure=stop_at_failure)
    if progress is not None:
        progress(cases[0])
    threads = [state.start(own, None)]
    reported: list[R] = []
    look_again = 0.0
    try:
        while len(reported) < len(cases):
            while time.monotonic() >= look_again and state.wants_more(lanes.width):
                lane = lanes.borrow()
                if lane is None:  # every core busy (under load, always): not before WAKE_S again
                    look_again = time.monotonic() + WAKE_S
                    break
                threads.append(state.start(own, lane))
            index = len(reported)
            with state.cond:
                if state.error is not None:
                    raise state.error
                if index not in state.results:
                    state.cond.wait(WAKE_S)
                    continue
                result = state.results.pop(index)
            if progress is not None and index > 0:
                progress(cases[index])
            if on_test is not None:
                on_test(index, result)
            reported.append(result)
            if stop_at_failure and failed(result):
                break
    finally:
        state.close(threads)
    if state.borrowed:
        log.info(
            "%d of %d tests ran on borrowed cores (%s); %d results kept",
            state.borrowed,
            state.next,
            ",".join(sorted(state.cores)),
            len(reported),
        )
    return reported


__all__ = ["run_tests"]
