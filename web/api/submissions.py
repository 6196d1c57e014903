"""`/api/v1/submissions`: submit, read, wait, follow, batch-submit, rejudge.

POST takes docs/contracts.md's body: `language`, `source` and `problem`, or instead of a problem
`stdin` with optional `expected_output`, `time_limit` (s) and `memory_limit` (MiB): an ad hoc
run. `callback_url` asks for a webhook when it is done. The submission is committed, then queued
(judge/service/queue.py); if the broker cannot take it, it is deleted again and the answer is
503, so nothing is left half-made. The answer is 201 with the submission and its Location; with
`?wait=true` it comes when the submission is done, or at the bound (`timeout`, default 30 s, at
most 60 s), whichever is first; a client tells by `state`.

`GET .../events` is a server-sent event stream (web/streams.py, which the pages use too).
The views parse and answer; storing and queueing are judge/service/submissions.py's, whose
refusals (judge.errors.Refused) become errors by web/api/errors.py's table.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request, url_for

from judge.errors import Refused
from judge.service import submissions
from judge.service.documents import submission_json
from judge.service.submissions import NewSubmission
from judge.storage import repo
from judge.storage.models import Submission, SubmissionState, User
from web.api import ID, MAX_ID
from web.api import blueprint as bp
from web.api.auth import is_staff, may_see, require_organiser, require_user
from web.api.body import json_fault, read_json, unstorable
from web.api.errors import ApiError, refusal, seconds_arg
from web.context import context
from web.streams import event_stream, held_wait

MAX_BATCH = 100
WAIT_DEFAULT_S = 30.0
WAIT_MAX_S = 60.0


def _json_body() -> dict[str, Any]:
    doc = read_json()
    if json_fault() is not None:  # refused before it was parsed (web/api/body.py)
        raise ApiError(
            400, "bad_request", f"the body must be a JSON object that costs little to parse: {json_fault()}"
        )
    if not isinstance(doc, dict):
        raise ApiError(400, "bad_request", "the body must be a JSON object (Content-Type: application/json)")
    fault = unstorable(doc)
    if fault is not None:
        raise ApiError(422, "invalid_field", fault)
    return doc


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

    return held_wait(
        submission_id, user, bound, lambda: _load(submission_id, user), state=state if own else None
    )


def _answer(sub: Submission, status: int, user: User) -> tuple[dict[str, Any], int, dict[str, str]]:
    return (
        submission_json(sub, secret_feedback=is_staff(user)),
        status,
        {"Location": url_for("api.get_submission", submission_id=sub.id)},
    )


@bp.post("/submissions")
def post_submission() -> tuple[dict[str, Any], int, dict[str, str]]:
    user = require_user("submit")
    bound = _wanted_bound()
    (sid,) = submissions.create(context(), [NewSubmission.from_json(_json_body(), user.id)])
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
            wanted.append(NewSubmission.from_json(item, user.id))
        except Refused as e:
            raise refusal(e, f"submissions[{i}]: {e.message}") from None
    ids = submissions.create(context(), wanted)
    with context().sessions() as session:  # one query for them all, not one each
        docs = [
            submission_json(s, secret_feedback=is_staff(user)) for s in repo.submissions_of(session, ids=ids)
        ]
    return {"submissions": docs}, 201


@bp.get("/submissions")
def list_submissions() -> dict[str, Any]:
    """The caller's submissions (an organiser's: everyone's), newest first, `limit` at a time."""
    user = require_user()
    try:
        limit = max(1, min(int(request.args.get("limit", 50)), 500))
        before = int(request.args["before"]) if "before" in request.args else None
        if before is not None:  # past what the database's integers hold: every id is before it
            before = None if before > MAX_ID else max(before, 0)
    except ValueError:
        raise ApiError(400, "bad_request", "limit and before must be integers") from None
    with context().sessions() as session:
        subs = repo.list_submissions(
            session,
            user_id=None if is_staff(user) else user.id,
            limit=limit,
            before=before,
            problem_id=request.args.get("problem"),
        )
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


@bp.get(f"/submissions/<{ID}:submission_id>/deliveries")
def submission_deliveries(submission_id: int) -> dict[str, Any]:
    """The webhook delivery log of a submission: every attempt, oldest first."""
    user = require_user()
    sub = _load(submission_id, user)
    with context().sessions() as session:
        log = [
            {
                "attempt": d.attempt,
                "url": d.url,
                "ok": d.ok,
                "status_code": d.status_code,
                "error": d.error,
                "duration": round(d.duration_s, 3),
                "at": d.created_at.isoformat().replace("+00:00", "Z"),
            }
            for d in repo.deliveries_of(session, submission_id)
        ]
    return {"submission": sub.id, "callback_url": sub.callback_url, "deliveries": log}


@bp.post(f"/submissions/<{ID}:submission_id>/rejudge")
def rejudge_submission(submission_id: int) -> tuple[dict[str, Any], int]:
    user = require_organiser()
    sub = _load(submission_id, user)
    submissions.rejudge(context(), [(sub.id, sub.language)])
    return submission_json(_load(submission_id, user), secret_feedback=True), 202
