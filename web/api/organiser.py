"""Organisers' endpoints: batches of submissions, rejudging, the queue and the workers.

A batch is one problem's submissions sent together, one per contestant: either multipart with
the field `problem` and a zip `archive` whose every file is one contestant's submission (the
label is the file's name without its extension, the language comes from the extension; a
single top folder is looked through), or JSON `{"problem", "name"?, "submissions": [{"label",
"language", "source"}]}`. Everything is checked before anything is stored. Results come as JSON
or CSV (`?format=csv`): label, submission, language, state, verdict, score, time, memory.
The views parse and answer; judge/service/batches.py and submissions.py do the work.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from flask import Response, request

from judge.service import batches, queue, submissions, workers
from judge.storage import repo
from web.api import ID
from web.api import blueprint as bp
from web.api.auth import require_organiser
from web.api.body import read_json, unstorable
from web.api.errors import ApiError
from web.context import context


@bp.post("/batches")
def create_batch() -> tuple[dict[str, Any], int]:
    user = require_organiser()
    if request.is_json:
        doc = read_json()
        if not isinstance(doc, dict):
            raise ApiError(400, "bad_request", "the body must be a JSON object")
        fault = unstorable(doc)
        if fault is not None:
            raise ApiError(422, "invalid_field", fault)
        problem_id, name = doc.get("problem"), doc.get("name") or ""
        found = batches.from_json(doc.get("submissions"))
    else:
        problem_id, name = request.form.get("problem"), request.form.get("name") or ""
        archive = request.files.get("archive")
        if archive is None:
            raise ApiError(
                422, "invalid_field", "send a zip as the multipart field 'archive', or a JSON body"
            )
        found = batches.from_upload(archive.stream, Path(archive.filename or "archive.zip").name)
    if not isinstance(problem_id, str):
        raise ApiError(422, "invalid_field", "'problem' is required")
    if not isinstance(name, str):
        raise ApiError(422, "invalid_field", "'name' must be a string")
    made = batches.make_batch(
        context(), user_id=user.id, problem_id=problem_id, name=name[:200], entries=found
    )
    return {
        "id": made.id,
        "problem": made.problem_id,
        "name": made.name,
        "count": len(made.submissions),
        "submissions": [{"id": i, "label": label, "language": lang} for i, label, lang in made.submissions],
    }, 201


@bp.get(f"/batches/<{ID}:batch_id>")
def get_batch(batch_id: int) -> dict[str, Any]:
    require_organiser()
    batch, rows = batches.results(context(), batch_id)
    return {
        "id": batch.id,
        "problem": batch.problem_id,
        "name": batch.name,
        "count": len(rows),
        "created_at": batch.created_at.isoformat().replace("+00:00", "Z"),
        "states": dict(Counter(r.state for r in rows)),
        "verdicts": dict(Counter(r.verdict for r in rows if r.verdict)),
    }


@bp.get(f"/batches/<{ID}:batch_id>/results")
def get_batch_results(batch_id: int) -> Response | dict[str, Any]:
    require_organiser()
    batch, rows = batches.results(context(), batch_id)
    if request.args.get("format", "json") == "csv":
        return Response(
            batches.results_csv(rows),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename=batch-{batch_id}.csv"},
        )
    return {"id": batch.id, "problem": batch.problem_id, "results": [r.as_json() for r in rows]}


@bp.post(f"/batches/<{ID}:batch_id>/rejudge")
def rejudge_batch(batch_id: int) -> tuple[dict[str, Any], int]:
    require_organiser()
    return {"rejudged": batches.rejudge(context(), batch_id)}, 202


@bp.post("/problems/<problem_id>/rejudge")
def rejudge_problem(problem_id: str) -> tuple[dict[str, Any], int]:
    require_organiser()
    return {"rejudged": submissions.rejudge_problem(context(), problem_id)}, 202


@bp.get("/queue")
def get_queue() -> dict[str, Any]:
    require_organiser()
    ctx = context()
    with ctx.sessions() as session:
        states = repo.count_by_state(session)
    return {"submissions": states, "queues": queue.queue_lengths(ctx.redis)}


@bp.get("/workers")
def get_workers() -> dict[str, Any]:
    require_organiser()
    return {"workers": workers.workers(context().redis)}
