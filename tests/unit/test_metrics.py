"""judge/service/metrics.py and GET /metrics, against a real redis-server and a real SQLite file.

The Recorder's buckets, its flush into Redis (and what it keeps when Redis is away), and the
scrape parsed back with prometheus_client's own parser. Tests that need redis-server are skipped
where it is not installed, except under CI=true (as tests/unit/test_redis_server.py does).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable

import pytest
import redis
from flask import Flask
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy.orm import Session, sessionmaker

from judge.service import metrics, workers
from judge.service.metrics import BOX_START, HISTOGRAMS, JUDGING_LATENCY, Recorder
from judge.storage import repo
from judge.verdict import Verdict

needs_redis = pytest.mark.skipif(
    shutil.which("redis-server") is None and os.environ.get("CI") != "true",
    reason="no redis-server here; `apt-get install redis-server` (Debian's package) to run these",
)
NOWHERE = "redis://127.0.0.1:1/0"  # nobody listens on port 1


@pytest.fixture
def sessions(sqlite_sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    return sqlite_sessions  # one SQLite database: these tests are about metrics, not storage


def away() -> redis.Redis:
    return redis.Redis.from_url(NOWHERE, retry=Retry(NoBackoff(), 0))


def families(text: str) -> dict[str, Metric]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def samples(family: Metric) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for s in family.samples}


def by_label(family: Metric, label: str) -> dict[str, float]:
    return {s.labels[label]: s.value for s in family.samples}


# --- buckets and the buffer ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "seconds", "bucket"),
    [
        (JUDGING_LATENCY, 0.0, 0),
        (JUDGING_LATENCY, 0.1, 0),  # on a bound: in it (Prometheus' le is "at most")
        (JUDGING_LATENCY, 0.1000001, 1),
        (JUDGING_LATENCY, 3.0, 5),  # (2.5, 5]
        (JUDGING_LATENCY, 1800, 10),
        (JUDGING_LATENCY, 1800.5, 11),  # +Inf
        (BOX_START, 0.0004, 0),
        (BOX_START, 0.003, 3),  # (0.0025, 0.005]
        (BOX_START, 2.0, 10),  # +Inf
    ],
)
def test_bucket_of_an_observation(name: str, seconds: float, bucket: int) -> None:
    assert HISTOGRAMS[name].bucket(seconds) == bucket


def test_bounds_ascend() -> None:
    for hist in HISTOGRAMS.values():
        assert list(hist.bounds) == sorted(set(hist.bounds))


@pytest.mark.parametrize(
    ("name", "seconds", "message"),
    [
        ("judge_nonsense_seconds", 1.0, "no histogram 'judge_nonsense_seconds'"),
        (JUDGING_LATENCY, float("nan"), "not a finite number"),
        (BOX_START, float("inf"), "not a finite number"),
    ],
)
def test_observe_refuses(name: str, seconds: float, message: str) -> None:
    recorder = Recorder()
    with pytest.raises(ValueError, match=message):
        recorder.observe(name, seconds)
    assert recorder.pending() == 0


def written(redis_client: redis.Redis, name: str) -> tuple[int, float]:
    """The count and sum a flush wrote for histogram `name`: of 3 of 1..5 s, only 3, 4, 5 sum to 12."""
    stored = redis_client.hgetall(f"judge:metrics:{name}")
    return int(stored.get(b"count", 0)), float(stored.get(b"sum", 0))


@needs_redis
def test_the_buffer_drops_the_oldest_beyond_its_bound(redis_client: redis.Redis) -> None:
    recorder = Recorder(max_buffered=3)
    for s in (1.0, 2.0, 3.0, 4.0, 5.0):
        recorder.observe(JUDGING_LATENCY, s)
    assert recorder.pending() == 3
    assert recorder.dropped == 2
    assert recorder.flush(redis_client) == 3
    assert written(redis_client, JUDGING_LATENCY) == (3, 3.0 + 4.0 + 5.0)


@needs_redis
def test_a_failed_flush_keeps_the_buffer(redis_client: redis.Redis) -> None:
    recorder = Recorder(max_buffered=4)
    recorder.observe(JUDGING_LATENCY, 1.0)
    recorder.observe(BOX_START, 0.002)
    with away() as c:
        assert recorder.flush(c) == 0
        assert recorder.pending() == 2
        for s in (5.0, 6.0, 7.0):  # observed while Redis is away: the oldest now go
            recorder.observe(JUDGING_LATENCY, s)
        assert recorder.flush(c) == 0
    assert recorder.pending() == 4
    assert recorder.dropped == 1
    assert recorder.flush(redis_client) == 4
    assert written(redis_client, BOX_START) == (1, pytest.approx(0.002))
    assert written(redis_client, JUDGING_LATENCY) == (3, 5.0 + 6.0 + 7.0)  # the 1.0 was the oldest


# --- flush into a real Redis ---------------------------------------------------------------------


@needs_redis
def test_flush_writes_buckets_sum_and_count_then_clears(redis_client: redis.Redis) -> None:
    recorder = Recorder()
    for s in (0.05, 0.1, 0.3, 3.0, 4000.0):
        recorder.observe(JUDGING_LATENCY, s)
    recorder.observe(BOX_START, 0.0007)
    assert recorder.flush(redis_client) == 6
    assert recorder.pending() == 0
    stored = redis_client.hgetall("judge:metrics:judge_judging_latency_seconds")
    assert stored == {
        b"le=0.1": b"2",
        b"le=0.5": b"1",
        b"le=5.0": b"1",
        b"le=+Inf": b"1",
        b"sum": stored[b"sum"],
        b"count": b"5",
    }
    assert float(stored[b"sum"]) == pytest.approx(4003.45)
    assert redis_client.hgetall("judge:metrics:judge_box_start_seconds")[b"le=0.001"] == b"1"
    assert recorder.flush(redis_client) == 0  # nothing left: nothing written
    assert redis_client.hget("judge:metrics:judge_judging_latency_seconds", "count") == b"5"


@needs_redis
def test_flushes_add_up_and_drops_are_written_once(redis_client: redis.Redis) -> None:
    recorder = Recorder(max_buffered=2)
    for s in (1.0, 1.0, 1.0):
        recorder.observe(JUDGING_LATENCY, s)
    assert recorder.flush(redis_client) == 2
    recorder.observe(JUDGING_LATENCY, 1.0)
    assert recorder.flush(redis_client) == 1
    stored = redis_client.hgetall("judge:metrics:judge_judging_latency_seconds")
    assert stored[b"le=1.0"] == b"3" and stored[b"count"] == b"3" and stored[b"dropped"] == b"1"


@needs_redis
def test_concurrent_observers_lose_nothing(redis_client: redis.Redis) -> None:
    recorder = Recorder()
    threads, each = 8, 500
    done = threading.Event()

    def observe() -> None:
        for i in range(each):
            recorder.observe(BOX_START, (i % 10) / 1000)

    def flush() -> None:
        while not done.is_set():
            recorder.flush(redis_client)

    flusher = threading.Thread(target=flush)
    flusher.start()
    observers = [threading.Thread(target=observe) for _ in range(threads)]
    for t in observers:
        t.start()
    for t in observers:
        t.join()
    done.set()
    flusher.join()
    recorder.flush(redis_client)
    assert redis_client.hget("judge:metrics:judge_box_start_seconds", "count") == str(threads * each).encode()


# --- the scrape ----------------------------------------------------------------------------------


def _fill(sessions: sessionmaker[Session]) -> None:
    """Two accepted ad hoc runs, one wrong answer, one still queued."""
    with sessions.begin() as session:
        for verdict in (Verdict.AC, Verdict.AC, Verdict.WA, None):
            sub = repo.add_submission(session, language="c", source=b"int main(){}", stdin=b"")
            if verdict is not None:
                repo.record_result(session, sub.id, verdict=verdict)


@needs_redis
def test_render_reads_queues_submissions_histograms_and_workers(
    redis_client: redis.Redis, sessions: sessionmaker[Session]
) -> None:
    _fill(sessions)
    redis_client.lpush("judge.lang.c", b"task-1", b"task-2")
    workers.announce(redis_client, {"name": "w1", "concurrency": 3})
    recorder = Recorder()
    for s in (0.2, 0.2, 7.0):
        recorder.observe(JUDGING_LATENCY, s)
    recorder.flush(redis_client)
    with sessions() as session:
        text = metrics.render(redis_client, session).decode()
    found = families(text)

    queues = by_label(found["judge_queue_depth"], "queue")
    assert queues["judge.lang.c"] == 2
    assert queues["judge.lang.python3"] == 0  # empty queues are named too
    assert queues["judge.service"] == 0
    assert found["judge_queue_depth"].type == "gauge"

    verdicts = by_label(found["judge_submissions"], "verdict")
    assert verdicts == {v.value: {"AC": 2, "WA": 1}.get(v.value, 0) for v in Verdict}
    assert by_label(found["judge_submissions_by_state"], "state") == {
        "queued": 1,
        "compiling": 0,
        "running": 0,
        "done": 3,
    }

    latency = samples(found["judge_judging_latency_seconds"])
    assert found["judge_judging_latency_seconds"].type == "histogram"
    bucket = "judge_judging_latency_seconds_bucket"
    assert latency[bucket, (("le", "0.1"),)] == 0
    assert latency[bucket, (("le", "0.25"),)] == 2
    assert latency[bucket, (("le", "5.0"),)] == 2  # cumulative: the lower buckets are included
    assert latency[bucket, (("le", "10.0"),)] == 3
    assert latency[bucket, (("le", "+Inf"),)] == 3
    assert latency["judge_judging_latency_seconds_count", ()] == 3
    assert latency["judge_judging_latency_seconds_sum", ()] == pytest.approx(7.4)
    les = [s.labels["le"] for s in found["judge_judging_latency_seconds"].samples if "le" in s.labels]
    assert len(les) == len(HISTOGRAMS[JUDGING_LATENCY].bounds) + 1 and les[-1] == "+Inf"

    box = samples(found["judge_box_start_seconds"])
    assert box["judge_box_start_seconds_count", ()] == 0  # never observed: zeros, not absent
    assert box["judge_box_start_seconds_bucket", (("le", "+Inf"),)] == 0

    assert samples(found["judge_workers_alive"])["judge_workers_alive", ()] == 1
    assert samples(found["judge_worker_slots"])["judge_worker_slots", ()] == 3
    for family in found.values():
        assert family.documentation, f"{family.name} has no HELP"


@needs_redis
def test_render_on_an_empty_service(redis_client: redis.Redis, sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        found = families(metrics.render(redis_client, session).decode())
    assert set(by_label(found["judge_submissions"], "verdict").values()) == {0}
    assert samples(found["judge_workers_alive"])["judge_workers_alive", ()] == 0
    assert samples(found["judge_worker_slots"])["judge_worker_slots", ()] == 0


# --- GET /metrics --------------------------------------------------------------------------------


@needs_redis
def test_get_metrics_is_open_without_a_token(
    make_app: Callable[..., Flask], redis_client: redis.Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JUDGE_METRICS_TOKEN", raising=False)
    response = make_app(redis_url).test_client().get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "judge_workers_alive" in families(response.text)


@needs_redis
def test_get_metrics_asks_for_the_token_when_one_is_set(
    make_app: Callable[..., Flask], redis_client: redis.Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUDGE_METRICS_TOKEN", "s3cret")
    web = make_app(redis_url).test_client()
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic s3cret"},
        {"Authorization": "Bearer s3cretx"},
    ):
        response = web.get("/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert response.is_json
        assert response.get_json()["error"]["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    response = web.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"


def test_get_metrics_without_redis_is_503_json(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JUDGE_METRICS_TOKEN", raising=False)
    response = make_app(NOWHERE).test_client().get("/metrics")
    assert response.status_code == 503
    assert response.is_json
    assert response.get_json()["error"]["code"] == "queue_unavailable"


def test_the_token_is_checked_before_redis_is_asked(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUDGE_METRICS_TOKEN", "s3cret")
    web = make_app(NOWHERE).test_client()
    assert web.get("/metrics").status_code == 401
    assert web.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 503
