"""The service's metrics in Prometheus' text format: queues, submissions, latencies, workers.

Imports nothing from web/ or worker/. The web serves `render()` as GET /metrics (web/metrics.py);
the workers record latencies with a `Recorder`. Everything a scrape shows is read at the scrape
from where it already lives: queue depths from Celery's lists in Redis, submissions from the
database, workers from their heartbeats (judge/service/workers.py). Only the two latency
histograms have no home of their own, so they get one in Redis.

Theory of operation. Latencies are observed in Celery pool processes on many machines, while the
scrape goes to a web process that observed nothing; an in-process prometheus_client Histogram
would show each process's own share, and a pool process has no port to scrape. So a histogram is
one Redis hash, `judge:metrics:<name>`, shared by every process: field `le=<bound>` counts the
observations in that bucket alone (above the previous bound, at most this one; `le=+Inf` above
the last), `sum` their total in seconds, `count` how many, and `dropped` how many a process lost
(below). `render()` adds the buckets up into Prometheus' cumulative ones.

A box starts many times a second, so a `Recorder` buffers observations in memory (thread-safe)
and `flush()` writes them in one MULTI/EXEC pipeline: one HINCRBY per bucket touched, one
HINCRBYFLOAT for the sum, one HINCRBY for the count. The pipeline is a transaction, so a scrape
sees all of a flush or none of it. The worker flushes once per graded submission. When Redis is
away the buffer is kept for the next flush, up to MAX_BUFFERED observations; beyond that the
oldest are dropped and counted, and the count is written with the next flush that succeeds.

The bounds are part of the stored data: a bound changed here leaves its old field unread. After
changing them, delete `judge:metrics:<name>`; Prometheus takes that as a counter reset.
"""

from __future__ import annotations

import bisect
import collections
import logging
import math
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import redis
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from judge import languages
from judge.service import queue, workers
from judge.storage import repo
from judge.storage.models import Submission, SubmissionState
from judge.verdict import Verdict

log = logging.getLogger(__name__)

KEY_PREFIX = "judge:metrics:"
MAX_BUFFERED = 10_000  # observations a process keeps while Redis is away; the oldest go first

JUDGING_LATENCY = "judge_judging_latency_seconds"
BOX_START = "judge_box_start_seconds"


@dataclass(frozen=True, slots=True)
class Histogram:
    """A histogram's help text and its bucket bounds in seconds (ascending, +Inf implied)."""

    help: str
    bounds: tuple[float, ...]

    def bucket(self, seconds: float) -> int:
        """The index of the bucket `seconds` falls in; len(bounds) is +Inf's."""
        return bisect.bisect_left(self.bounds, seconds)  # le semantics: a value on a bound is in it

    def field(self, index: int) -> str:
        """The Redis hash field of bucket `index` (len(bounds): +Inf's)."""
        return _field(self.bounds[index] if index < len(self.bounds) else math.inf)


HISTOGRAMS: Mapping[str, Histogram] = {
    JUDGING_LATENCY: Histogram(
        "Seconds from a submission's creation to its first result being stored (rejudges not counted).",
        (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800),
    ),
    BOX_START: Histogram(
        "Seconds a run waited for a fresh, ready sandbox box (near 0 when the pool had one).",
        (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
    ),
}


def _le(bound: float) -> str:
    """A bound as Prometheus writes `le`: 0.25, 1.0, +Inf."""
    return "+Inf" if bound == math.inf else repr(float(bound))


def _field(bound: float) -> str:
    return f"le={_le(bound)}"


def _key(name: str) -> str:
    return f"{KEY_PREFIX}{name}"


class Recorder:
    """Observations of HISTOGRAMS buffered in this process until `flush()` writes them to Redis.

    Thread-safe. One per process: after a fork the child starts empty (the parent flushes its own).
    """

    def __init__(self, max_buffered: int = MAX_BUFFERED) -> None:
        self.max_buffered = max_buffered
        self.dropped = 0  # observations this process lost to a full buffer, ever
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()  # a new one: a fork may have copied the old one held
        self._pending: collections.deque[tuple[str, float]] = collections.deque()
        self._unwritten_drops: collections.Counter[str] = collections.Counter()

    def _forked(self) -> None:
        if self._pid != os.getpid():
            self._reset()

    def observe(self, name: str, seconds: float) -> None:
        """Buffer one observation. ValueError for a name not in HISTOGRAMS or a non-finite value;
        a negative one (clocks of two machines apart) counts as 0."""
        if name not in HISTOGRAMS:
            raise ValueError(f"no histogram {name!r}; the known ones are {', '.join(HISTOGRAMS)}")
        if not math.isfinite(seconds):
            raise ValueError(f"{name}: {seconds!r} is not a finite number of seconds")
        self._forked()
        with self._lock:
            self._pending.append((name, max(seconds, 0.0)))
            self._trim()

    def pending(self) -> int:
        """Observations buffered and not yet written."""
        self._forked()
        with self._lock:
            return len(self._pending)

    def _trim(self) -> None:
        """Drop the oldest observations beyond max_buffered (the lock is held)."""
        while len(self._pending) > self.max_buffered:
            name, _ = self._pending.popleft()
            self._unwritten_drops[name] += 1
            self.dropped += 1

    def flush(self, client: redis.Redis) -> int:
        """Write the buffer to Redis in one transaction and clear it; the observations written.

        On a Redis error nothing is written (MULTI/EXEC), the observations go back to the buffer
        for the next flush (the oldest dropped beyond max_buffered), and this returns 0: metrics
        never fail the grading that records them. A connection lost after EXEC was sent, before
        its reply, can count a flush twice; metrics accept that rare over-count.
        """
        self._forked()
        with self._lock:
            taken, self._pending = list(self._pending), collections.deque()
            drops, self._unwritten_drops = self._unwritten_drops, collections.Counter()
        if not taken and not drops:
            return 0
        try:
            _write(client, taken, drops)
        except redis.RedisError as e:
            with self._lock:
                self._pending.extendleft(reversed(taken))  # before those observed meanwhile
                self._unwritten_drops.update(drops)
                self._trim()
                kept = len(self._pending)
            log.warning(
                "cannot write %d metric observations to Redis (%s); %d kept for the next flush",
                len(taken),
                e,
                kept,
            )
            return 0
        return len(taken)


def _write(client: redis.Redis, taken: list[tuple[str, float]], drops: Mapping[str, int]) -> None:
    buckets: collections.Counter[tuple[str, int]] = collections.Counter()
    sums: collections.defaultdict[str, float] = collections.defaultdict(float)
    counts: collections.Counter[str] = collections.Counter()
    for name, seconds in taken:
        buckets[name, HISTOGRAMS[name].bucket(seconds)] += 1
        sums[name] += seconds
        counts[name] += 1
    pipe = client.pipeline(transaction=True)
    for (name, index), n in buckets.items():
        pipe.hincrby(_key(name), HISTOGRAMS[name].field(index), n)
    for name, total in sums.items():
        pipe.hincrbyfloat(_key(name), "sum", total)
    for name, n in counts.items():
        pipe.hincrby(_key(name), "count", n)
    for name, n in drops.items():
        pipe.hincrby(_key(name), "dropped", n)
    pipe.execute()


# --- the scrape ----------------------------------------------------------------------------------


def render(client: redis.Redis, session: Session) -> bytes:
    """Every metric, read now, in Prometheus' text format 0.0.4 (web/metrics.py's CONTENT_TYPE).

    Raises redis.RedisError when Redis is away, and SQLAlchemy's errors when the database is.
    """
    registry = CollectorRegistry(auto_describe=False)
    registry.register(JudgeCollector(client, session))
    return generate_latest(registry)


class JudgeCollector(Collector):
    """The judge's metrics, read from Redis and the database at each `collect()`."""

    def __init__(self, client: redis.Redis, session: Session) -> None:
        self.client = client
        self.session = session

    def collect(self) -> Iterator[Metric]:
        yield _labelled(
            GaugeMetricFamily,
            "judge_queue_depth",
            "Tasks waiting in each Celery queue.",
            "queue",
            queue_depths(self.client),
        )
        yield _labelled(
            GaugeMetricFamily,
            "judge_submissions",
            "Stored submissions that are done, by verdict.",
            "verdict",
            verdict_counts(self.session),
        )
        yield _labelled(
            GaugeMetricFamily,
            "judge_submissions_by_state",
            "Stored submissions in each state.",
            "state",
            repo.count_by_state(self.session),
        )
        stored = _read_histograms(self.client)
        for name, hist in HISTOGRAMS.items():
            yield _histogram(name, hist, stored[name])
        yield _labelled(
            CounterMetricFamily,
            "judge_metrics_dropped_observations",
            "Observations a worker dropped because Redis was away longer than its buffer lasts.",
            "histogram",
            {name: int(_number(stored[name].get("dropped"))) for name in HISTOGRAMS},
        )
        alive = workers.workers(self.client)
        yield GaugeMetricFamily(
            "judge_workers_alive", "Workers whose heartbeat is current.", value=len(alive)
        )
        yield GaugeMetricFamily(
            "judge_worker_slots",
            "Submissions the alive workers can grade at once (the sum of their concurrency).",
            value=sum(int(w.get("concurrency") or 0) for w in alive),
        )


def queue_depths(client: redis.Redis) -> dict[str, int]:
    """Tasks waiting in every language's queue and the service queue (0 when empty), and in any
    other queue of ours that holds tasks (a language no longer known here)."""
    depths = {queue.language_queue(lang.id): 0 for lang in languages.LANGUAGES}
    depths[queue.SERVICE_QUEUE] = 0
    depths.update(queue.queue_lengths(client))
    return depths


def verdict_counts(session: Session) -> dict[str, int]:
    """Done submissions by verdict, every verdict named (0 where none)."""
    counts = {v.value: 0 for v in Verdict}
    rows = session.execute(
        select(Submission.verdict, func.count())
        .where(Submission.state == SubmissionState.DONE, Submission.verdict.is_not(None))
        .group_by(Submission.verdict)
    )
    for verdict, n in rows:
        counts[Verdict(verdict).value] = n
    return counts


def _labelled(
    family: type[GaugeMetricFamily] | type[CounterMetricFamily],
    name: str,
    help_: str,
    label: str,
    values: Mapping[str, int],
) -> Metric:
    metric = family(name, help_, labels=[label])
    for value, n in values.items():
        metric.add_metric([value], n)
    return metric


def _read_histograms(client: redis.Redis) -> dict[str, dict[str, str]]:
    pipe = client.pipeline(transaction=False)  # each HGETALL is atomic, and a flush is one transaction
    for name in HISTOGRAMS:
        pipe.hgetall(_key(name))
    return {
        name: {_text(k): _text(v) for k, v in raw.items()}
        for name, raw in zip(HISTOGRAMS, pipe.execute(), strict=True)
    }


def _histogram(name: str, hist: Histogram, stored: Mapping[str, str]) -> HistogramMetricFamily:
    """Prometheus' cumulative buckets from the per-bucket counts; its _count is the +Inf bucket."""
    cumulative, running = [], 0
    for index, bound in enumerate((*hist.bounds, math.inf)):
        running += int(_number(stored.get(hist.field(index))))
        cumulative.append((_le(bound), float(running)))
    return HistogramMetricFamily(name, hist.help, buckets=cumulative, sum_value=_number(stored.get("sum")))


def _number(text: str | None) -> float:
    return float(text) if text else 0.0


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
