"""`/api/v1/submissions`: submit, read, wait, follow, batch-submit, rejudge.

POST takes docs/contracts.md's body: `language`, `source` and `problem`, or instead of a problem
`stdin` with optional `expected_output`, `time_limit` (s) and `memory_limit` (MiB): an ad hoc
run. `callback_url` asks for a webhook when it is done. The submission is committed, then queued
(judge/service/queue.py); if the broker cannot take it, it is deleted again and the answer is
503, so nothing is left half-made. The answer is 201 with the submission and its Location; with
`?wait=true` it comes when the submission is done, or at the bound (`timeout`, default 30 s, at
most 60 s), whichever is first; a client tells by `state`.

Waiting and following use the progress channel (judge/service/progress.py): subscribe first,
then read the stored submission, then listen, so no event falls between the two.
`GET .../events` is a server-sent event stream: `submission` (the document as it stands), then
`state` and `test` events as they happen, and `done` with the final document; a comment every
15 s keeps proxies from closing it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import redis
from flask import Response, request, stream_with_context, url_for

from judge import languages
from judge.errors import UnknownLanguage
from judge.service import progress, queue, webhooks
from judge.service.documents import submission_json
from judge.service.grade import AD_HOC_MEMORY_MIB, AD_HOC_TIME_S
from judge.storage import repo
from judge.storage.models import Problem, Submission, SubmissionState, User, WebhookDelivery
from web import holds
from web.api import ID, MAX_ID
from web.api import blueprint as bp
from web.api.auth import is_staff, may_see, require_organiser, require_user, visible_problems
from web.api.body import json_fault, read_json, unstorable
from web.api.errors import ApiError, seconds_arg
from web.context import context, hold_limits

MAX_SOURCE_BYTES = 256 * 1024
MAX_STDIN_BYTES = 16 * 1024 * 1024
MAX_TIME_LIMIT_S = 30.0
MEMORY_LIMIT_MIB = (16, 4096)
MAX_BATCH = 100
WAIT_DEFAULT_S = 30.0
WAIT_MAX_S = 60.0
KEEPALIVE_S = 15.0
STREAM_MAX_S = 3600.0


def _json_body() -> dict[str, Any]:
    doc = read_json()
    if json_fault() is not None:  # refused before it was parsed (web/api/body.py)
        raise ApiError(400, "bad_request", f"the body must be a JSON object that costs little to parse: "
                       f"{json_fault()}")
    if not isinstance(doc, dict):
        raise ApiError(400, "bad_request", "the body must be a JSON object (Content-Type: application/json)")
    fault = unstorable(doc)
    if fault is not None:
        raise ApiError(422, "invalid_field", fault)
    return doc


def _text(doc: dict[str, Any], key: str, *, limit: int, required: bool = False) -> bytes | None:
    value = doc.get(key)
    if value is None:
        if required:
            raise ApiError(422, "invalid_field", f"{key!r} is required")
        return None
    if not isinstance(value, str):
        raise ApiError(422, "invalid_field", f"{key!r} must be a string")
    data = value.encode("utf-8")
    if len(data) > limit:
        raise ApiError(413, "too_large", f"{key!r} is {len(data)} bytes; at most {limit} are taken")
    return data


def _number(doc: dict[str, Any], key: str, lo: float, hi: float) -> float | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise ApiError(422, "invalid_field", f"{key!r} must be a number from {lo:g} to {hi:g}")
    return float(value)


def parse(doc: dict[str, Any], user_id: int) -> dict[str, Any]:
    """The arguments of repo.add_submission from one request object; ApiError when it is wrong."""
    lang = doc.get("language")
    if not isinstance(lang, str):
        raise ApiError(422, "invalid_field", "'language' is required: a language id (GET /api/v1/languages)")
    try:
        languages.by_id(lang)
    except UnknownLanguage as e:
        raise ApiError(422, "unknown_language", str(e)) from None
    fields: dict[str, Any] = {"language": lang, "user_id": user_id,
                              "source": _text(doc, "source", limit=MAX_SOURCE_BYTES, required=True)}
    callback = doc.get("callback_url")
    if callback is not None:
        why = webhooks.check_url(callback) if isinstance(callback, str) else "callback_url must be a string"
        if why:
            raise ApiError(422, "invalid_field", why)
        fields["callback_url"] = callback
    problem = doc.get("problem")
    if problem is not None:
        if not isinstance(problem, str):
            raise ApiError(422, "invalid_field", "'problem' must be a problem id (GET /api/v1/problems)")
        extra = [k for k in ("stdin", "expected_output", "time_limit", "memory_limit") if k in doc]
        if extra:
            raise ApiError(422, "invalid_field",
                           f"{', '.join(extra)}: only for ad hoc runs, not with 'problem'")
        fields["problem_id"] = problem
        return fields
    if "stdin" not in doc:
        raise ApiError(422, "invalid_field", "give 'problem', or 'stdin' for an ad hoc run")
    fields["stdin"] = _text(doc, "stdin", limit=MAX_STDIN_BYTES, required=True)
    fields["expected_output"] = _text(doc, "expected_output", limit=MAX_STDIN_BYTES)
    fields["time_limit_s"] = _number(doc, "time_limit", 0.001, MAX_TIME_LIMIT_S) or AD_HOC_TIME_S
    memory = _number(doc, "memory_limit", *MEMORY_LIMIT_MIB)
    fields["memory_mib"] = int(memory) if memory is not None else AD_HOC_MEMORY_MIB
    return fields


def _check_problems(session: Any, wanted: list[dict[str, Any]]) -> None:
    """404 for a problem that does not exist or that the submitter may not open yet (a contest's
    before it starts: web/api/auth.py), 409 for one still without a time limit."""
    open_ids: set[str] | None = None
    for fields in wanted:
        pid = fields.get("problem_id")
        if pid is None:
            continue
        if open_ids is None:
            user = session.get(User, fields.get("user_id"))
            open_ids = {p.id for p in visible_problems(session, staff=user is not None and is_staff(user))}
        problem = session.get(Problem, pid)
        if problem is None or pid not in open_ids:
            raise ApiError(404, "unknown_problem", f"no problem {pid!r}")
        if problem.time_limit_s <= 0:
            raise ApiError(409, "problem_not_ready", f"problem {pid!r} states no time limit and is still "
                           "being verified; try again when GET /api/v1/problems/{id} shows a time limit")


def create(wanted: list[dict[str, Any]]) -> list[int]:
    """Commit the submissions, then queue them; if queueing fails, delete them and answer 503.
    While the disk is nearly full (JUDGE_MIN_FREE_MB), nothing is stored: 507."""
    ctx = context()
    short = ctx.settings.short_of_space()
    if short is not None:
        raise ApiError(507, "storage_full", short)
    with ctx.sessions.begin() as session:
        _check_problems(session, wanted)
        made = [repo.add_submission(session, **fields) for fields in wanted]
        ids = [(s.id, s.language, s.user_id, "adhoc" if s.problem_id is None else "contest") for s in made]
    try:
        for sid, lang, user, kind in ids:  # a fair share per user and class: judge/service/queue.py
            queue.enqueue_grade(ctx.celery, sid, lang, 0, user=user, kind=kind)
    except Exception as e:  # kombu raises several kinds for a broker that is away
        with ctx.sessions.begin() as session:
            for sid, *_ in ids:
                sub = session.get(Submission, sid)
                if sub is not None:
                    session.delete(sub)
        raise ApiError(503, "queue_unavailable", f"the queue cannot take submissions now ({e})") from None
    return [sid for sid, *_ in ids]


def requeue(ids: list[tuple[int, str]]) -> None:
    """Rejudge: back to queued (the old result cleared), then queued again."""
    ctx = context()
    with ctx.sessions.begin() as session:
        sent = [(sid, lang, repo.set_state(session, sid, SubmissionState.QUEUED).generation)
                for sid, lang in ids]
    for sid, lang, generation in sent:
        queue.enqueue_grade(ctx.celery, sid, lang, generation, kind="rejudge")


def _wanted_bound() -> float | None:
    if request.args.get("wait", "").lower() not in ("1", "true", "yes"):
        return None
    return seconds_arg("timeout", WAIT_DEFAULT_S, WAIT_MAX_S)


def _load(submission_id: int, user: User) -> Submission:
    with context().sessions() as session:
        sub = repo.get_submission(session, submission_id)
    if sub is None or not may_see(user, sub):
        raise ApiError(404, "not_found", f"no submission {submission_id}")
    return sub


def _wait(submission_id: int, user: User, bound: float, *, own: bool = False) -> Submission:
    """`own`: the caller made the submission just now, so it may see it, and only its state is
    read until it is done (no test rows, no document): the whole of it is read once, at the end."""

    def state() -> SubmissionState | None:
        with context().sessions() as session:
            return repo.state_of(session, submission_id)

    return held_wait(submission_id, user, bound, lambda: _load(submission_id, user),
                     state=state if own else None)


def held_wait(submission_id: int, user: User, bound: float, load: Callable[[], Submission], *,
              state: Callable[[], SubmissionState | None] | None = None) -> Submission:
    """The submission once done, or as it stands when `bound` seconds have passed; at once when
    the user has JUDGE_WAITS_PER_USER waits open already (web/holds.py). Both APIs wait this way."""
    lease = None
    if not is_staff(user):
        lease = holds.take(context().redis, "waits", user.id, hold_limits().waits)
        if lease is None:
            return load()
    try:
        return wait_done(submission_id, bound, load, state=state)
    finally:
        if lease is not None:
            lease.release()


def wait_done(submission_id: int, bound: float, load: Callable[[], Submission], *,
              state: Callable[[], SubmissionState | None] | None = None) -> Submission:
    """`load()` once the submission is done, or when `bound` seconds have passed: subscribed to its
    progress first, so the `done` event cannot slip between the first read and the listening.
    `state()`, when given, is what is read before the end instead of `load()`: the state alone
    (None: the submission is gone, and `load()` says so)."""
    look = state or (lambda: load().state)
    pubsub = context().redis.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
    try:
        pubsub.subscribe(progress.channel(submission_id))
        deadline = time.monotonic() + bound
        now = look()
        while now not in (SubmissionState.DONE, None) and (left := deadline - time.monotonic()) > 0:
            message = pubsub.get_message(timeout=min(left, 1.0))
            if message is not None and json.loads(message["data"]).get("event") == "done":
                break
            if message is None:  # re-read now and then: an event lost with a broker restart
                now = look()
        return load()
    finally:
        pubsub.close()


def _answer(sub: Submission, status: int, user: User) -> tuple[dict[str, Any], int, dict[str, str]]:
    return (submission_json(sub, secret_feedback=is_staff(user)), status,
            {"Location": url_for("api.get_submission", submission_id=sub.id)})


@bp.post("/submissions")
def post_submission() -> tuple[dict[str, Any], int, dict[str, str]]:
    user = require_user("submit")
    bound = _wanted_bound()
    (sid,) = create([parse(_json_body(), user.id)])
    sub = _wait(sid, user, bound, own=True) if bound is not None else _load(sid, user)
    return _answer(sub, 201, user)


@bp.post("/submissions/batch")
def post_submissions_batch() -> tuple[dict[str, Any], int]:
    user = require_user("submit")
    items = _json_body().get("submissions")
    if not isinstance(items, list) or not items:
        raise ApiError(422, "invalid_field", "'submissions' must be a non-empty list of submissions")
    if len(items) > MAX_BATCH:
        raise ApiError(413, "too_large", f"{len(items)} submissions; at most {MAX_BATCH} in one request")
    wanted = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ApiError(422, "invalid_field", f"submissions[{i}] must be an object")
        try:
            wanted.append(parse(item, user.id))
        except ApiError as e:
            raise ApiError(e.status, e.code, f"submissions[{i}]: {e.message}") from None
    ids = create(wanted)
    with context().sessions() as session:  # one query for them all, not one each
        docs = [submission_json(s, secret_feedback=is_staff(user))
                for s in repo.submissions_of(session, ids=ids)]
    return {"submissions": docs}, 201


@bp.get("/submissions")
def list_submissions() -> dict[str, Any]:
    """The caller's submissions (an organiser's: everyone's), newest first, `limit` at a time."""
    from sqlalchemy import select

    user = require_user()
    try:
        limit = max(1, min(int(request.args.get("limit", 50)), 500))
        before = int(request.args["before"]) if "before" in request.args else None
        if before is not None:  # past what the database's integers hold: every id is before it
            before = None if before > MAX_ID else max(before, 0)
    except ValueError:
        raise ApiError(400, "bad_request", "limit and before must be integers") from None
    query = select(Submission).order_by(Submission.id.desc()).limit(limit)
    if not is_staff(user):
        query = query.where(Submission.user_id == user.id)
    if before is not None:
        query = query.where(Submission.id < before)
    if "problem" in request.args:
        query = query.where(Submission.problem_id == request.args["problem"])
    with context().sessions() as session:
        subs = list(session.scalars(query))
        docs = [submission_json(s, with_tests=False) for s in subs]
    return {"submissions": docs, "next_before": docs[-1]["id"] if len(docs) == limit else None}


@bp.get(f"/submissions/<{ID}:submission_id>")
def get_submission(submission_id: int) -> tuple[dict[str, Any], int]:
    user = require_user()
    bound = _wanted_bound()
    sub = _wait(submission_id, user, bound) if bound is not None else _load(submission_id, user)
    return submission_json(sub, secret_feedback=is_staff(user)), 200


@bp.get(f"/submissions/<{ID}:submission_id>/events")
def submission_events(submission_id: int) -> Response:
    user = require_user()
    _load(submission_id, user)  # 404 before the stream starts
    return event_stream(submission_id, user_id=user.id, staff=is_staff(user))


def event_stream(submission_id: int, *, user_id: int, staff: bool) -> Response:
    """The server-sent events of a submission the caller may see (the pages use it too). The
    worker's `done` document is the contestant's (documents.py); organisers' first one is whole.
    A contestant holds at most JUDGE_STREAMS_PER_USER streams at once (web/holds.py): one more
    is 429 `too_many_streams`."""
    ctx = context()
    sessions = ctx.sessions
    lease = None
    if not staff:
        bound = hold_limits().streams
        lease = holds.take(ctx.redis, "streams", user_id, bound)
        if lease is None:
            raise ApiError(429, "too_many_streams", f"you have {bound} event streams open already, the most "
                           "one user may; close one (or poll GET /api/v1/submissions/{id})")
    # subscribed before the answer starts, so a broker that is away is a 503, not a broken stream
    pubsub = ctx.redis.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]

    def close() -> None:
        pubsub.close()
        if lease is not None:
            lease.release()

    try:
        pubsub.subscribe(progress.channel(submission_id))
    except BaseException:
        close()
        raise
    secret_feedback = staff

    def stream() -> Iterator[str]:
        try:
            with sessions() as session:
                sub = repo.get_submission(session, submission_id)
                assert sub is not None
                doc = submission_json(sub, secret_feedback=secret_feedback)
            yield _sse("submission", doc)
            if doc["state"] == SubmissionState.DONE.value:
                yield _sse("done", {"event": "done", "submission": doc})
                return
            start = last = renewed = time.monotonic()
            while time.monotonic() - start < STREAM_MAX_S:
                if lease is not None and time.monotonic() - renewed >= KEEPALIVE_S:
                    renewed = time.monotonic()
                    lease.renew()  # every 15 s, events or none: the lease lasts 60 s
                try:
                    message = pubsub.get_message(timeout=1.0)
                except redis.RedisError:
                    lost = {"code": "queue_unavailable", "message": "lost the broker"}
                    yield _sse("error", {"error": lost})
                    return
                if message is None:
                    if time.monotonic() - last >= KEEPALIVE_S:
                        last = time.monotonic()
                        yield ": keep-alive\n\n"
                    continue
                event = json.loads(message["data"])
                yield _sse(str(event.get("event", "message")), event)
                if event.get("event") == "done":
                    return
        finally:
            close()

    response = Response(stream_with_context(stream()), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    response.call_on_close(close)  # also when the stream never started
    return response


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


@bp.get(f"/submissions/<{ID}:submission_id>/deliveries")
def submission_deliveries(submission_id: int) -> dict[str, Any]:
    """The webhook delivery log of a submission: every attempt, oldest first."""
    from sqlalchemy import select

    user = require_user()
    sub = _load(submission_id, user)
    with context().sessions() as session:
        rows = session.scalars(select(WebhookDelivery).where(WebhookDelivery.submission_id == submission_id)
                               .order_by(WebhookDelivery.id))
        log = [{"attempt": d.attempt, "url": d.url, "ok": d.ok, "status_code": d.status_code,
                "error": d.error, "duration": round(d.duration_s, 3),
                "at": d.created_at.isoformat().replace("+00:00", "Z")} for d in rows]
    return {"submission": sub.id, "callback_url": sub.callback_url, "deliveries": log}


@bp.post(f"/submissions/<{ID}:submission_id>/rejudge")
def rejudge_submission(submission_id: int) -> tuple[dict[str, Any], int]:
    user = require_organiser()
    sub = _load(submission_id, user)
    requeue([(sub.id, sub.language)])
    return submission_json(_load(submission_id, user), secret_feedback=True), 202
