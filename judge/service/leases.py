"""Who is grading what, right now: short leases in Redis, kept alive while a grading runs.

Theory of operation. Several workers on several machines take tasks from one Redis. A task is
acknowledged only after it ran (late acknowledgement), so a worker that dies mid-grading does not
lose it: Redis hands the task out again after the visibility timeout. That alone is slow (the
timeout must outlast the longest grading) and cannot tell a dead worker from a slow one. Leases
make both fast and exact:

* Before it claims a submission in the database (judge/storage/repo.py `claim`), a grading takes
  the lease `judge:lease:<submission>:<generation>` (SET NX, time-to-live `lease_s`, default 15 s)
  and a thread renews it every third of that while the grading runs.
* A grading whose lease is taken by someone else does nothing: that one is at work.
* The reaper (`reap`, run by every worker every `lease_s`) looks at the submissions in
  `compiling` or `running`. One whose lease is gone lost its holder: a worker killed, a machine
  cut off from Redis, a pool process that died. It is put back to `queued` with the next
  generation (a compare-and-set: two reapers never both do it) and sent to its queue again.
* The holder that was given up on may still be running (cut off from Redis, not from the
  database): its result carries the old generation and is refused (repo.LostClaim). So every
  submission ends once, with one result, whoever finishes first.

A machine cut off from Redis can still reach the database in some networks and not in others;
either way the outcome is the same: the result that counts is the one of the current generation.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import redis
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from judge.service.settings import Settings
from judge.storage import repo

log = logging.getLogger(__name__)

KEY_PREFIX = "judge:lease:"


def lease_s() -> float:
    """`JUDGE_LEASE_S`: how long a holder that stops renewing keeps its submissions (default 15)."""
    return Settings.from_env().lease_s


def key(submission_id: int, generation: int) -> str:
    return f"{KEY_PREFIX}{submission_id}:{generation}"


def holder_name() -> str:
    """This process as a holder: the worker's name (`JUDGE_WORKER_NAME`) and the pid."""
    return f"{Settings.from_env().worker_name}/{os.getpid()}"


@dataclass
class Lease:
    """A lease taken by `acquire`; renewed by a thread until `release`."""

    client: redis.Redis
    key: str
    holder: str
    ttl_s: float
    lost: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _renew(self) -> None:
        ms = int(self.ttl_s * 1000)
        while not self._stop.wait(self.ttl_s / 3):
            try:
                # renew only our own lease: a holder that lost it must not take it back
                renewed = self.client.eval(
                    "if redis.call('get', KEYS[1]) == ARGV[1] then "
                    "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end",
                    1,
                    self.key,
                    self.holder,
                    str(ms),
                )
            except redis.RedisError:
                continue  # cut off: keep trying; the reaper decides elsewhere
            if not renewed:
                self.lost.set()
                log.warning("lease %s was lost; this grading's result will be refused", self.key)
                return

    def start(self) -> Lease:
        self._thread = threading.Thread(target=self._renew, name="judge-lease", daemon=True)
        self._thread.start()
        return self

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1)
        try:
            self.client.eval(
                "if redis.call('get', KEYS[1]) == ARGV[1] then "
                "return redis.call('del', KEYS[1]) else return 0 end",
                1,
                self.key,
                self.holder,
            )
        except redis.RedisError:
            pass  # it expires by itself

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def acquire(
    client: redis.Redis, submission_id: int, generation: int, holder: str, ttl_s: float | None = None
) -> Lease | None:
    """The lease on one generation of a submission, renewed until released; None if it is held."""
    ttl = ttl_s or lease_s()
    k = key(submission_id, generation)
    if not client.set(k, holder, nx=True, px=int(ttl * 1000)):
        return None
    return Lease(client, k, holder, ttl).start()


def held(client: redis.Redis, submission_id: int, generation: int) -> bool:
    return bool(client.exists(key(submission_id, generation)))


def reap(
    sessions: sessionmaker[Session], client: redis.Redis, enqueue: Callable[[int, str, int], None]
) -> list[int]:
    """Put back every submission whose grading lost its holder; the ids put back.

    `enqueue(id, language, generation)` sends the new task. A submission whose lease cannot be
    read (Redis away) is left alone: no lease seen is not the same as no lease.
    """
    with sessions() as session:
        busy = repo.in_progress(session)
    requeued: list[int] = []
    for sub in busy:
        try:
            if held(client, sub.id, sub.generation):
                continue
        except redis.RedisError:
            return requeued
        with sessions.begin() as session:
            generation = repo.requeue_stuck(session, sub.id, sub.generation)
        if generation is None:
            continue  # it moved on meanwhile (done, or another reaper was first)
        log.warning(
            "submission %s: its grader %s is gone; queued again (generation %s)",
            sub.id,
            sub.graded_by or "?",
            generation,
        )
        try:
            enqueue(sub.id, sub.language, generation)
        except Exception:  # kombu raises several kinds for a broker that is away
            log.exception("submission %s: cannot queue it again now; the next reap retries", sub.id)
            with sessions.begin() as session:
                repo.unsent(session, sub.id, generation)
            continue
        requeued.append(sub.id)
    return requeued


def reaper(
    sessions: sessionmaker[Session],
    client: redis.Redis,
    enqueue: Callable[[int, str, int], None],
    stop: threading.Event,
    every_s: float | None = None,
) -> threading.Thread:
    """A daemon thread that reaps every `every_s` (default: the lease's length) until `stop`."""

    def loop() -> None:
        while not stop.wait(every_s or lease_s()):
            try:
                reap(sessions, client, enqueue)
            except (OperationalError, InterfaceError, redis.RedisError) as e:  # away: said in a line
                log.warning("reaping waits: %s", str(getattr(e, "orig", None) or e).splitlines()[0])
            except Exception:  # a reaper that dies would lose nothing but its watch
                log.exception("reaping failed; trying again")

    thread = threading.Thread(target=loop, name="judge-reaper", daemon=True)
    thread.start()
    return thread
