"""Fair shares of the workers (issue 17, finding 6): one user's backlog does not hold up another
user's submission, and ad hoc traffic does not hold up submissions to problems.

The first tests drive judge/service/queue.py's Lua scripts on a real Redis; the last ones the
whole service (tests/service/conftest.py: two pool processes), where a language's queue alone
would be first come, first served."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from service_kit import Service

from judge.service import queue
from judge.service.redis_server import EmbeddedRedis


@pytest.fixture
def client(tmp_path: Path) -> Iterator[redis.Redis]:
    server = EmbeddedRedis(tmp_path / "redis")
    url = server.start()
    try:
        yield queue.redis_client(url)
    finally:
        server.stop()


def taken(client: redis.Redis, language: str = "python3") -> list[int]:
    order = []
    while (picked := queue.take(client, language)) is not None:
        order.append(picked[0])
    return order


def test_users_take_turns_and_a_newcomer_goes_before_the_one_just_served(client: redis.Redis) -> None:
    for sid in range(1, 6):
        queue.file(client, sid, "python3", 0, user=1, kind="adhoc")
    assert queue.take(client, "python3") == (1, 0)  # user 1 served: to the back of the round
    queue.file(client, 100, "python3", 0, user=2, kind="adhoc")
    queue.file(client, 101, "python3", 0, user=2, kind="adhoc")
    queue.file(client, 200, "python3", 0, user=3, kind="adhoc")
    assert taken(client) == [100, 200, 2, 101, 3, 4, 5]


def test_classes_go_strictly_by_urgency(client: redis.Redis) -> None:
    queue.file(client, 1, "c", 0, user=1, kind="rejudge")
    queue.file(client, 2, "c", 0, user=1, kind="adhoc")
    queue.file(client, 3, "c", 0, user=1, kind="contest")
    queue.file(client, 4, "c", 1, user=None, kind="retry")
    queue.file(client, 5, "python3", 0, user=1, kind="contest")
    assert taken(client, "c") == [4, 3, 2, 1]
    assert taken(client, "python3") == [5]


def test_a_taken_entry_that_nobody_claimed_is_filed_again(client: redis.Redis) -> None:
    queue.file(client, 7, "c", 3, user=5, kind="contest")
    queue.file(client, 8, "c", 0, user=5, kind="contest")
    queue.file(client, 9, "c", 0, user=5, kind="contest")
    assert queue.take(client, "c") == (7, 3)  # and then its worker dies before claiming it
    assert queue.take(client, "c") == (8, 0)  # and this one's worker was graded meanwhile elsewhere
    sent: list[tuple[int, str, int]] = []
    assert queue.refile_lost(client, lambda s, g: True, lambda *a: sent.append(a)) == []  # not yet due
    later = time.time() + queue.TAKE_DEADLINE_S + 1
    assert queue.refile_lost(client, lambda s, g: s == 7, lambda *a: sent.append(a), now_s=later) == [7]
    assert sent == [(7, "c", 3)]  # a new ticket for it; 8 is no longer queued: forgotten
    assert taken(client, "c") == [7, 9]  # first in its user's line again
    queue.release(client, 7)
    queue.release(client, 9)
    assert client.hlen(queue.TAKEN_KEY) == 0


SLOW = "import time\ntime.sleep(1)\nprint(1)\n"


def _flood(service: Service, as_: str, n: int) -> list[int]:
    """`n` slow ad hoc runs of one user, sent in one request (so that few are done before the rest
    are queued)."""
    r = service.call(
        "POST",
        "/submissions/batch",
        as_=as_,
        json={"submissions": [{"language": "python3", "source": SLOW, "stdin": ""}] * n},
    )
    assert r.status_code == 201, r.text
    return [int(s["id"]) for s in r.json()["submissions"]]


def _done(service: Service, ids: list[int]) -> int:
    states = [service.call("GET", f"/submissions/{i}", as_="organiser").json()["state"] for i in ids]
    return states.count("done")


def _all_graded_once(service: Service, ids: list[int]) -> None:
    for i in ids:
        doc = service.wait_done(i, timeout_s=300)
        assert (doc["state"], doc["verdict"], len(doc["tests"])) == ("done", "AC", 1), doc


@pytest.mark.sandbox
def test_another_users_submission_does_not_wait_for_a_backlog(service: Service) -> None:
    backlog = _flood(service, "alice", 30)
    before = _done(service, backlog)
    t0 = time.monotonic()
    doc = service.submit({"language": "python3", "source": "print(42)", "stdin": ""}, as_="bob")
    waited = time.monotonic() - t0
    assert (doc["verdict"], doc["stdout"]) == ("AC", "42\n")
    ahead = _done(service, backlog) - before
    # first come, first served would grade all the rest first; fair shares let bob in after the
    # gradings that were running (two pool processes), give or take one finishing meanwhile
    assert ahead <= 5 < 30 - before, f"{ahead} of alice's 30 were done while bob waited ({waited:.1f} s)"
    _all_graded_once(service, backlog)


@pytest.mark.sandbox
def test_a_problem_submission_does_not_wait_for_ad_hoc_runs(service: Service, sum_problem: str) -> None:
    backlog = _flood(service, "alice", 20)
    before = _done(service, backlog)
    doc = service.submit(
        {
            "language": "python3",
            "problem": sum_problem,
            "source": "a, b = map(int, input().split())\nprint(a + b)\n",
        },
        as_="alice",
    )
    assert doc["verdict"] == "AC", doc
    ahead = _done(service, backlog) - before
    assert ahead <= 5 < 20 - before, (
        f"{ahead} of alice's 20 ad hoc runs were done while her problem submission waited"
    )
    _all_graded_once(service, backlog)
