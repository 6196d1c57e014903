"""Claims, leases and the reaper: one result per submission, whoever grades it, whatever dies.

Real SQLite (and PostgreSQL where JUDGE_TEST_POSTGRES_URL names one) and a real redis-server;
the worker-level story (a machine cut off mid-grading) is tests/service/test_hosts.py.
"""

from __future__ import annotations

import os
import shutil
import time

import pytest
import redis
from sqlalchemy.orm import Session, sessionmaker

from judge.service import leases
from judge.storage import repo
from judge.storage.models import Submission, SubmissionState
from judge.verdict import Verdict

needs_redis = pytest.mark.skipif(
    shutil.which("redis-server") is None and not os.environ.get("CI"),
    reason="redis-server is not installed (apt install redis-server)",
)


def submit(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as session:
        return repo.add_submission(session, language="c", source=b"int main(){}", stdin=b"").id


def state(sessions: sessionmaker[Session], sid: int) -> tuple[SubmissionState, int, str | None]:
    with sessions() as session:
        sub = session.get(Submission, sid)
        assert sub is not None
        return sub.state, sub.generation, sub.graded_by


def record(sessions: sessionmaker[Session], sid: int, verdict: Verdict, claim: repo.Claim) -> None:
    with sessions.begin() as session:
        repo.record_result(session, sid, verdict=verdict, claim=claim)


def test_only_the_last_holder_of_the_current_generation_stores_a_result(
    sessions: sessionmaker[Session],
) -> None:
    sid = submit(sessions)
    with sessions.begin() as session:
        first = repo.claim(session, sid, 0, "host-a/1")
    assert first == repo.Claim(0, "host-a/1")
    assert state(sessions, sid) == (SubmissionState.COMPILING, 0, "host-a/1")
    with sessions.begin() as session:  # host-a's lease ran out: host-b takes the grading over
        second = repo.claim(session, sid, 0, "host-b/2")
    assert second is not None
    with pytest.raises(repo.LostClaim, match="no longer held by host-a/1"):
        with sessions.begin() as session:
            repo.set_state(session, sid, SubmissionState.RUNNING, claim=first)
    with pytest.raises(repo.LostClaim):
        record(sessions, sid, Verdict.TLE, first)
    assert state(sessions, sid) == (SubmissionState.COMPILING, 0, "host-b/2")  # nothing was written
    record(sessions, sid, Verdict.AC, second)
    with sessions.begin() as session:  # a late delivery of the same task: already graded
        assert repo.claim(session, sid, 0, "host-c/3") is None
    with sessions() as session:
        sub = session.get(Submission, sid)
        assert sub is not None and sub.verdict is Verdict.AC and sub.state is SubmissionState.DONE


def test_a_rejudge_starts_a_generation_that_old_tasks_and_gradings_cannot_touch(
    sessions: sessionmaker[Session],
) -> None:
    sid = submit(sessions)
    with sessions.begin() as session:
        old = repo.claim(session, sid, 0, "host-a/1")
    assert old is not None
    with sessions.begin() as session:
        assert repo.set_state(session, sid, SubmissionState.QUEUED).generation == 1
    with pytest.raises(repo.LostClaim):
        record(sessions, sid, Verdict.WA, old)
    with sessions.begin() as session:
        assert repo.claim(session, sid, 0, "host-b/2") is None  # the task sent before the rejudge
        new = repo.claim(session, sid, 1, "host-b/2")
    assert new == repo.Claim(1, "host-b/2")
    record(sessions, sid, Verdict.AC, new)
    assert state(sessions, sid) == (SubmissionState.DONE, 1, "host-b/2")


def test_requeue_stuck_is_a_compare_and_set(sessions: sessionmaker[Session]) -> None:
    sid = submit(sessions)
    with sessions.begin() as session:
        assert repo.requeue_stuck(session, sid, 0) is None  # queued, not stuck
        repo.claim(session, sid, 0, "host-a/1")
    with sessions.begin() as session:
        assert repo.requeue_stuck(session, sid, 0) == 1
    with sessions.begin() as session:
        assert repo.requeue_stuck(session, sid, 0) is None  # a second reaper comes too late
    assert state(sessions, sid) == (SubmissionState.QUEUED, 1, None)


@needs_redis
def test_a_lease_is_exclusive_renewed_while_held_and_released(redis_client: redis.Redis) -> None:
    lease = leases.acquire(redis_client, 7, 0, "host-a/1", ttl_s=1.0)
    assert lease is not None
    assert leases.acquire(redis_client, 7, 0, "host-b/2", ttl_s=1.0) is None
    assert leases.acquire(redis_client, 7, 1, "host-b/2", ttl_s=1.0) is not None  # another generation
    time.sleep(2.5)  # past its time to live: renewal kept it
    assert leases.held(redis_client, 7, 0) and not lease.lost.is_set()
    lease.release()
    assert not leases.held(redis_client, 7, 0)
    again = leases.acquire(redis_client, 7, 0, "host-b/2", ttl_s=1.0)
    assert again is not None
    redis_client.set(leases.key(7, 0), "host-c/3")  # someone else holds it now
    assert again.lost.wait(3), "a holder whose lease was taken must notice"
    again.release()
    assert redis_client.get(leases.key(7, 0)) == b"host-c/3"  # release never deletes another's lease


@needs_redis
def test_the_reaper_requeues_what_lost_its_holder_once(
    sessions: sessionmaker[Session], redis_client: redis.Redis
) -> None:
    lost, alive, done = submit(sessions), submit(sessions), submit(sessions)
    with sessions.begin() as session:
        for sid in (lost, alive, done):
            repo.claim(session, sid, 0, "host-a/1")
    record(sessions, done, Verdict.AC, repo.Claim(0, "host-a/1"))
    lease = leases.acquire(redis_client, alive, 0, "host-a/1", ttl_s=5)
    sent: list[tuple[int, str, int]] = []
    assert leases.reap(sessions, redis_client, lambda *a: sent.append(a)) == [lost]
    assert sent == [(lost, "c", 1)]
    assert state(sessions, lost) == (SubmissionState.QUEUED, 1, None)
    assert state(sessions, alive) == (SubmissionState.COMPILING, 0, "host-a/1")
    assert leases.reap(sessions, redis_client, lambda *a: sent.append(a)) == []  # nothing twice
    assert lease is not None
    lease.release()


@needs_redis
def test_a_requeue_that_cannot_be_sent_is_tried_again(
    sessions: sessionmaker[Session], redis_client: redis.Redis
) -> None:
    sid = submit(sessions)
    with sessions.begin() as session:
        repo.claim(session, sid, 0, "host-a/1")

    def broker_away(*_: object) -> None:
        raise ConnectionError("broker away")

    assert leases.reap(sessions, redis_client, broker_away) == []
    assert state(sessions, sid) == (SubmissionState.RUNNING, 1, "(unsent)")
    sent: list[tuple[int, str, int]] = []
    assert leases.reap(sessions, redis_client, lambda *a: sent.append(a)) == [sid]
    assert sent == [(sid, "c", 2)]
