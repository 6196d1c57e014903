"""A machine's cores, each lent while idle to the grading of a submission with many tests.

Theory of operation. A judge worker runs one pool process per core of its set, each boxing on
its own core (worker/tasks.py), so under load every core runs one submission's tests, one box
at a time, and no submission takes another's core. On an idle machine that leaves cores
unused while one submission's hundred tests run one after another; so a grading borrows the
cores nobody uses and runs its tests on several boxes at once (judge/parallel.py), and gives
each back as soon as its owner has work of its own.

Who uses a core is said by two lock files per core under LOCK_DIR (flock: the kernel drops a
lock with its process, so a worker that is killed holds nothing):

* `<cpu>.busy`: a pool process holds it shared while it grades and for IDLE_AFTER_S after
  (`OwnCore.busy`): under load the next task comes within that time, so a core between two
  tasks is not lent. A grading that borrows the core holds it exclusive (`Lanes.borrow`), so
  a core is either its owners' (several pool processes pinned to one core, `--concurrency`
  above the cores, all hold it shared) or one borrower's, never both.
* `<cpu>.want`: an owner about to grade holds it shared while it waits for `busy`; a borrower
  tries it (exclusive, never waiting) before each test and gives the core back when it is
  held (`Lane.keep`). So an owner whose task comes waits for the one test running on its core
  at most, never for the rest of the borrower's submission.

Only the worker's own cores (JUDGE_WORKER_CPUS) are borrowed, up to JUDGE_TEST_PARALLELISM
boxes at once for one submission (default `auto`: one per core of the set; `1`: one test at a
time, as before); a core of the set that no pool process is pinned to (`--concurrency` below
the set's size) is idle whenever no grading borrows it. The lock directory (JUDGE_CORES_DIR,
default LOCK_DIR) is the machine's, as the uid locks are (sandbox/uids.py): a core busy for any
judge on this machine is not lent.

Timing stays fair. CPU time is the box's own cgroup's, whatever runs beside it, and a borrowed
box is pinned to its core as an owner's is, so two boxes never share a core. What boxes side
by side do share is the memory bus and the last-level cache, and the worker's own Python (the
checker of the test beside) may run on a box's core for a moment: that adds wall time (never
CPU time) to the box, and wall limits are 1.5 times the CPU limit plus a second.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator, Sequence

import sandbox
from sandbox import HOST, Image, Limits
from sandbox.runtime import ManagedBox

LOCK_DIR = "/run/judge-cores"
IDLE_AFTER_S = 0.2  # a pool process's core is lent only once it has had no task for this long


def _lock_file(directory: str, cpu: str, kind: str) -> int:
    os.makedirs(directory, mode=0o755, exist_ok=True)
    return os.open(os.path.join(directory, f"{cpu}.{kind}"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


def _try(fd: int, how: int) -> bool:
    try:
        fcntl.flock(fd, how | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class OwnCore:
    """The core a pool process boxes on, held while it grades and IDLE_AFTER_S after (module
    docstring). Made in the pool process, after the fork: the lock is its own."""

    def __init__(self, cpu: str, *, idle_after_s: float = IDLE_AFTER_S, directory: str = LOCK_DIR) -> None:
        self.cpu = cpu
        self.idle_after_s = idle_after_s
        self.directory = directory
        self._busy: int | None = None  # the descriptor holding `busy` shared, while held
        self._depth = 0
        self._timer: threading.Timer | None = None
        self._mutex = threading.Lock()

    @contextlib.contextmanager
    def busy(self) -> Iterator[None]:
        """Hold the core for the block: a borrower gives it back after its test on it, if any."""
        self._enter()
        try:
            yield
        finally:
            self._leave()

    @property
    def held(self) -> bool:
        return self._busy is not None

    def _enter(self) -> None:
        with self._mutex:
            self._depth += 1
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._busy is not None:
                return
            want = _lock_file(self.directory, self.cpu, "want")
            busy = _lock_file(self.directory, self.cpu, "busy")
            try:
                fcntl.flock(want, fcntl.LOCK_SH)  # said first: a borrower stops after its test
                fcntl.flock(busy, fcntl.LOCK_SH)  # waits for that test, if one is running here
            except BaseException:
                os.close(busy)
                raise
            finally:
                os.close(want)  # closing the file drops its lock
            self._busy = busy

    def _leave(self) -> None:
        with self._mutex:
            self._depth -= 1
            if self._depth == 0 and self._busy is not None:
                self._timer = threading.Timer(self.idle_after_s, self._idle)
                self._timer.daemon = True
                self._timer.start()

    def _idle(self) -> None:
        with self._mutex:
            if self._depth == 0 and self._busy is not None and self._timer is threading.current_thread():
                os.close(self._busy)
                self._busy, self._timer = None, None

    def close(self) -> None:
        """Give the core up now (tests; a process that stops)."""
        with self._mutex:
            if self._timer is not None:
                self._timer.cancel()
            if self._busy is not None:
                os.close(self._busy)
            self._busy, self._timer, self._depth = None, None, 0


class OnCpu:
    """`sb`'s boxes, pinned to one core instead of the process's own (a borrowed core's)."""

    def __init__(self, sb: sandbox.Sandbox, cpu: str) -> None:
        self.sb = sb
        self.cpu = cpu

    def box(self, image: Image = HOST, *, uid: int | None = None, limits: Limits | None = None) -> ManagedBox:
        managed = self.sb.box(image, uid=uid, limits=limits)
        managed.box.default_cpus = self.cpu
        return managed


Boxes = sandbox.Sandbox | OnCpu  # where a test's boxes come from: this process's core, or a borrowed one


class Lane:
    """A borrowed core: held exclusive until `give_back`, or until its owner wants it (`keep`)."""

    def __init__(self, lanes: Lanes, cpu: str, busy: int, want: int) -> None:
        self.cpu = cpu
        self.sb = OnCpu(lanes.sb, cpu)
        self._lanes = lanes
        self._busy: int | None = busy
        self._want = want
        self.tests = 0  # run on this core while borrowed

    def keep(self) -> bool:
        """True when no owner waits for this core: the borrower may run one more test on it."""
        if not _try(self._want, fcntl.LOCK_EX):
            return False
        fcntl.flock(self._want, fcntl.LOCK_UN)
        return True

    def give_back(self) -> None:
        if self._busy is None:
            return
        os.close(self._busy)
        os.close(self._want)
        self._busy = None
        self._lanes._returned(self)


class Lanes:
    """The cores a grading may borrow beside its own, up to `width` boxes at once in all.

    `cpus` is the worker's set (JUDGE_WORKER_CPUS); `own` the core this process boxes on,
    never borrowed. Thread-safe. `borrowed_tests` counts the tests run on borrowed cores (the
    benchmark reports it: on a busy machine a grading may borrow nothing).
    """

    def __init__(
        self,
        sb: sandbox.Sandbox,
        cpus: Sequence[str],
        *,
        width: int,
        own: str | None = None,
        directory: str = LOCK_DIR,
    ) -> None:
        self.sb = sb
        self.width = max(1, width)
        self.others = [c for c in dict.fromkeys(cpus) if c != own]
        self.directory = directory
        self.borrowed_tests = 0
        self._lent: set[str] = set()
        self._mutex = threading.Lock()

    def borrow(self) -> Lane | None:
        """An idle core of the set, held until the Lane is given back; None when none is idle."""
        for cpu in self.others:
            with self._mutex:
                if cpu in self._lent:
                    continue
                self._lent.add(cpu)
            lane = self._take(cpu)
            if lane is not None:
                return lane
            with self._mutex:
                self._lent.discard(cpu)
        return None

    def _take(self, cpu: str) -> Lane | None:
        want = _lock_file(self.directory, cpu, "want")
        if not _try(want, fcntl.LOCK_EX):  # its owner is about to grade
            os.close(want)
            return None
        busy = _lock_file(self.directory, cpu, "busy")
        taken = _try(busy, fcntl.LOCK_EX)
        fcntl.flock(want, fcntl.LOCK_UN)
        if not taken:
            os.close(busy)
            os.close(want)
            return None
        return Lane(self, cpu, busy, want)

    def _returned(self, lane: Lane) -> None:
        with self._mutex:
            self._lent.discard(lane.cpu)
            self.borrowed_tests += lane.tests


def width_of(parallelism: int | None, cpus: Sequence[str]) -> int:
    """Boxes at once for one submission: JUDGE_TEST_PARALLELISM (None: `auto`, one per core
    of the set), never more than the set has cores."""
    cores = len(dict.fromkeys(cpus))
    return max(1, min(cores, parallelism if parallelism is not None else cores))


__all__ = ["IDLE_AFTER_S", "LOCK_DIR", "Boxes", "Lane", "Lanes", "OnCpu", "OwnCore", "width_of"]
