"""Requests that stay open on a submission: `?wait=true` and the server-sent event stream.

Both APIs (web/api/submissions.py, web/judge0.py) and the pages (web/pages/contestant.py) use
these, so the holds per user (web/holds.py) count them all together. Waiting and following use
the progress channel (judge/service/progress.py): subscribe first, then read the stored
submission, then listen, so no event falls between the two. The event stream sends
`submission` (the document as it stands), then `state` and `test` events as they happen, and
`done` with the final document; a comment every 15 s keeps proxies from closing it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import redis
from flask import Response, stream_with_context

from judge.service import progress
from judge.service.documents import submission_json
from judge.storage import repo
from judge.storage.models import STAFF_ROLES, Submission, SubmissionState, User
from web import holds
from web.api.errors import ApiError
from web.context import context, hold_limits

KEEPALIVE_S = 15.0
STREAM_MAX_S = 3600.0


def held_wait(
    submission_id: int,
    user: User,
    bound: float,
    load: Callable[[], Submission],
    *,
    state: Callable[[], SubmissionState | None] | None = None,
) -> Submission:
    """The submission once done, or as it stands when `bound` seconds have passed; at once when
    the user has JUDGE_WAITS_PER_USER waits open already (web/holds.py). Both APIs wait this way."""
    lease = None
    if user.role not in STAFF_ROLES:
        lease = holds.take(context().redis, "waits", user.id, hold_limits().waits)
        if lease is None:
            return load()
    try:
        return wait_done(submission_id, bound, load, state=state)
    finally:
        if lease is not None:
            lease.release()


def wait_done(
    submission_id: int,
    bound: float,
    load: Callable[[], Submission],
    *,
    state: Callable[[], SubmissionState | None] | None = None,
) -> Submission:
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
            raise ApiError(
                429,
                "too_many_streams",
                f"you have {bound} event streams open already, the most "
                "one user may; close one (or poll GET /api/v1/submissions/{id})",
            )
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

    response = Response(
        stream_with_context(stream()),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
    response.call_on_close(close)  # also when the stream never started
    return response


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"
