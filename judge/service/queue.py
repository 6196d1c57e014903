"""The Celery side that the web and the workers share: configuration, task names and queues.

The web never imports the worker's code: it sends tasks by name through `client(url)`, a Celery
app with the same configuration and no tasks of its own. Queues:

* `judge.lang.<id>`, one per language: a submission goes to its language's queue, and a worker
  consumes only the queues of the languages whose self-tests passed when it started, so a
  broken toolchain is never handed work (it waits until a worker that has it comes).
* `judge.service`: webhook deliveries and problem verification, taken by every worker.

Delivery: late acknowledgement (a task is acknowledged after it ran, so one lost with its worker
is delivered again) and a prefetch of one (a worker holds no queue of its own that others could
have taken). Redis redelivers unacknowledged tasks after the visibility timeout, which is sized
to the longest job: `JUDGE_MAX_JOB_S` (default 1200 s) bounds one grading (a soft time limit
makes a grading that runs longer IE, a hard one kills it 30 s later), and the visibility timeout
is that plus 5 minutes, so a task is never handed out again while its first grading can still
be running. Losing a worker does not wait that long: the reaper (judge/service/leases.py) puts
its submissions back within seconds, and a grade task carries the submission's generation, so a
late second delivery finds its generation graded and does nothing.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import redis
from celery import Celery

GRADE_TASK = "judge.grade"
WEBHOOK_TASK = "judge.deliver_webhook"
VERIFY_TASK = "judge.verify_problem"
LANGUAGE_QUEUE_PREFIX = "judge.lang."
SERVICE_QUEUE = "judge.service"
DEFAULT_MAX_JOB_S = 1200.0
VISIBILITY_MARGIN_S = 300.0
HARD_LIMIT_MARGIN_S = 30.0


def max_job_s() -> float:
    """`JUDGE_MAX_JOB_S`: the longest one grading may take (default 1200 s)."""
    try:
        return max(10.0, float(os.environ.get("JUDGE_MAX_JOB_S") or DEFAULT_MAX_JOB_S))
    except ValueError:
        return DEFAULT_MAX_JOB_S


def visibility_timeout_s() -> float:
    return max_job_s() + VISIBILITY_MARGIN_S


def language_queue(language: str) -> str:
    return f"{LANGUAGE_QUEUE_PREFIX}{language}"


def configure(app: Celery, redis_url: str) -> None:
    app.conf.update(
        broker_url=redis_url,
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=SERVICE_QUEUE,
        task_serializer="json",
        accept_content=["json"],
        broker_transport_options={"visibility_timeout": visibility_timeout_s()},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        # a lost broker connection leaves running gradings alone (Celery 6 would cancel them):
        # their leases and the reaper decide what happens to them
        worker_cancel_long_running_tasks_on_connection_loss=False,
        enable_utc=True,
    )


@functools.cache
def client(redis_url: str) -> Celery:
    """A send-only Celery app for `redis_url` (one per process and URL)."""
    app = Celery("judge-client", set_as_current=False)
    configure(app, redis_url)
    return app


def enqueue_grade(app: Celery, submission_id: int, language: str, generation: int) -> None:
    app.send_task(GRADE_TASK, args=[submission_id, generation], queue=language_queue(language))


def enqueue_webhook(app: Celery, submission_id: int, *, attempt: int = 1, countdown: float = 0) -> None:
    app.send_task(WEBHOOK_TASK, args=[submission_id, attempt], queue=SERVICE_QUEUE, countdown=countdown)


def enqueue_verify(app: Celery, problem_id: str) -> None:
    app.send_task(VERIFY_TASK, args=[problem_id], queue=SERVICE_QUEUE)


def queue_lengths(client_: redis.Redis) -> dict[str, int]:
    """Tasks waiting in each of our queues (Celery's Redis transport keeps a queue as a list)."""
    lengths: dict[str, int] = {}
    for key in client_.scan_iter(match="judge.*", count=1000):
        name = key.decode() if isinstance(key, bytes) else str(key)
        if client_.type(key) in (b"list", "list"):
            lengths[name] = int(client_.llen(key))  # type: ignore[arg-type]
    return dict(sorted(lengths.items()))


def redis_client(redis_url: str, **kwargs: Any) -> redis.Redis:
    return redis.Redis.from_url(redis_url, **kwargs)
