"""The worker's tasks: thin shells that call judge/service with this process's context.

Each pool process makes its context after the fork (`worker_process_init`): its sandbox, pinned
to one CPU of the worker's set (`JUDGE_WORKER_CPUS`, pool process i takes the i-th, round robin), a database
engine, a Redis client for progress events, and the grading service that keeps packages loaded.
A grade or verify task holds its CPU (judge/cores.py `OwnCore`) while it runs, and the grading
may borrow the set's idle CPUs for a problem's tests (`Lanes`, up to JUDGE_TEST_PARALLELISM).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import dataclass
from typing import Any

import billiard
import redis
from celery import Task
from celery.signals import worker_process_init

import sandbox
from judge import cores
from judge.service import judge0, metrics, problems, queue, webhooks
from judge.service.documents import submission_json
from judge.service.grade import Graded, GradingService, StorageUnavailable
from judge.service.settings import Settings
from judge.storage import connect, repo, session_factory
from worker.app import app

CLAIM_RETRY_S = 30.0  # a grade task whose claim the database refused comes again after this

log = logging.getLogger(__name__)


@dataclass
class Context:
    settings: Settings
    service: GradingService
    secret_key: str
    recorder: metrics.Recorder
    own_core: cores.OwnCore | None = None  # the CPU this process boxes on, held while it grades


_context: Context | None = None


def _pin() -> str | None:
    """This pool process's CPU: the i-th of JUDGE_WORKER_CPUS for pool process i (0-based)."""
    cpus = Settings.from_env().worker_cpus
    if not cpus:
        return None
    index = getattr(billiard.current_process(), "index", None) or 0
    return cpus[index % len(cpus)]


@worker_process_init.connect
def _init_process(**_: Any) -> None:
    global _context
    _context = None
    context()


def context() -> Context:
    global _context
    if _context is None:
        settings = Settings.from_env()
        # one compile cache per worker machine, shared by its pool processes (judge/compile_cache.py)
        os.environ.setdefault("JUDGE_COMPILE_CACHE_DIR", str(settings.data_dir / "compile-cache"))
        sb = sandbox.default()
        sb.cpus = own = _pin()
        sessions = session_factory(connect(settings.database_url))
        steps = session_factory(connect(settings.database_url, durable=False))  # judge/storage/db.py
        service = GradingService(
            sessions=sessions,
            step_sessions=steps,
            data_dir=settings.data_dir,
            redis_client=queue.redis_client(settings.redis_url, socket_timeout=10, socket_connect_timeout=5),
            sb=sb,
            attempts=settings.grade_attempts,
            retry_s=settings.grade_retry_s,
            db_retry_s=settings.db_retry_s,
        )
        recorder = metrics.Recorder()
        sb.on_box_start = lambda s: recorder.observe(metrics.BOX_START, s)

        def judged(latency_s: float) -> None:
            recorder.observe(metrics.JUDGING_LATENCY, latency_s)
            recorder.flush(service.redis)  # never raises; kept for the next one if Redis is away

        service.on_judged = judged
        where = settings.cores_dir or cores.LOCK_DIR
        if own is not None:
            service.lanes = cores.Lanes(
                sb,
                settings.worker_cpus,
                own=own,
                directory=where,
                width=cores.width_of(settings.test_parallelism, settings.worker_cpus),
            )
        _context = Context(
            settings,
            service,
            settings.secret_key(),
            recorder,
            cores.OwnCore(own, directory=where) if own is not None else None,
        )
        log.info("pool process %s boxes on CPU %s", os.getpid(), sb.cpus or "any")
    return _context


@app.task(
    bind=True,
    name=queue.GRADE_TASK,
    soft_time_limit=queue.max_job_s(),
    time_limit=queue.max_job_s() + queue.HARD_LIMIT_MARGIN_S,
    max_retries=None,
)
def grade(self: Task, submission_id: int, generation: int | None = None, language: str | None = None) -> None:
    """A ticket (judge/service/queue.py): grade the submission of its language that is due, by
    class and user; with none filed, its own. While the database refuses a claim, the task comes
    again later: the submission is still queued, so no reaper would (judge/service/grade.py)."""
    service = context().service
    lang = language or _language_of(self)
    with _holding_own_core():  # another grading's lane on this CPU ends its test first
        try:
            while lang is not None:
                try:
                    picked = queue.take(service.redis, lang)
                except redis.RedisError as e:
                    log.warning("the fair queue cannot be read (%s); grading this ticket's own submission", e)
                    break
                if picked is None:
                    break
                if _grade_taken(service, *picked):
                    return
            _after(submission_id, service.grade(submission_id, generation))
        except StorageUnavailable as e:
            log.warning("%s; the task comes again in %.0f s", e, CLAIM_RETRY_S)
            raise self.retry(countdown=CLAIM_RETRY_S) from e


def _holding_own_core() -> contextlib.AbstractContextManager[None]:
    """This pool process's CPU held for the block (judge/cores.py), where the process has one."""
    core = context().own_core
    return core.busy() if core is not None else contextlib.nullcontext()


def _grade_taken(service: GradingService, submission_id: int, generation: int) -> bool:
    """Grade a submission taken from the fair queue; False when there was nothing to do (graded
    already, a stale generation, held by another grading): the ticket takes the next one."""
    claimed = False

    def on_claim() -> None:
        nonlocal claimed
        claimed = True
        _release(service.redis, submission_id)

    graded = service.grade(submission_id, generation, on_claim=on_claim)
    if not claimed:  # once claimed, on_claim released it (or, with Redis away, the refiler will)
        _release(service.redis, submission_id)
    _after(submission_id, graded)
    return claimed


def _language_of(task: Task) -> str | None:
    """A ticket sent without its language (before fair queues): the queue it came from says it."""
    key = str((task.request.delivery_info or {}).get("routing_key") or "")
    prefix = queue.LANGUAGE_QUEUE_PREFIX
    return key.removeprefix(prefix) if key.startswith(prefix) else None


def _release(client: redis.Redis, submission_id: int) -> None:
    try:
        queue.release(client, submission_id)
    except redis.RedisError as e:  # the reaper files it again if it is still queued, else forgets it
        log.warning("submission %s: cannot release its fair-queue entry (%s)", submission_id, e)


def _after(submission_id: int, graded: Graded | None) -> None:
    if graded is not None and graded.callback_url is not None:
        queue.enqueue_webhook(app, submission_id)


@app.task(name=queue.WEBHOOK_TASK)
def deliver_webhook(submission_id: int, attempt: int = 1) -> None:
    ctx = context()
    with ctx.service.sessions() as session:
        sub = repo.get_submission(session, submission_id)
        if sub is None or sub.callback_url is None:
            return
        url, user_id = sub.callback_url, sub.user_id
        as_judge0 = judge0.options(sub).get("callback") == "judge0"  # Judge0's shape: PUT, base64
        doc = judge0.document(sub, b64=True) if as_judge0 else submission_json(sub)
        body = json.dumps(doc).encode()
        finished_ms = round(sub.finished_at.timestamp() * 1000) if sub.finished_at else 0
    result = webhooks.post(
        url,
        body,
        key=webhooks.user_key(ctx.secret_key, user_id),
        delivery=f"{submission_id}.{finished_ms}",
        attempt=attempt,
        method="PUT" if as_judge0 else "POST",
    )
    with ctx.service.sessions.begin() as session:
        repo.log_delivery(
            session,
            submission_id,
            url=url,
            attempt=attempt,
            ok=result.ok,
            status_code=result.status_code,
            error=result.error,
            duration_s=result.duration_s,
        )
    if not result.ok and attempt < webhooks.MAX_ATTEMPTS:
        queue.enqueue_webhook(app, submission_id, attempt=attempt + 1, countdown=webhooks.backoff_s(attempt))


@app.task(name=queue.VERIFY_TASK)
def verify_problem(problem_id: str) -> None:
    ctx = context()
    with _holding_own_core():
        problems.verify_stored(ctx.service.sessions, ctx.settings.data_dir, problem_id, sb=ctx.service.sb)
    ctx.recorder.flush(ctx.service.redis)
