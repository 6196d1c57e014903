"""Organisers' endpoints: batches of submissions, rejudging, the queue and the workers.

A batch is one problem's submissions sent together, one per contestant: either multipart with
the field `problem` and a zip `archive` whose every file is one contestant's submission (the
label is the file's name without its extension, the language comes from the extension; a
single top folder is looked through), or JSON `{"problem", "name"?, "submissions": [{"label",
"language", "source"}]}`. Everything is checked before anything is stored. Results come as JSON
or CSV (`?format=csv`): label, submission, language, state, verdict, score, time, memory.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from flask import Response, request
from werkzeug.datastructures import FileStorage

from judge import languages
from judge.errors import UnknownLanguage
from judge.problems.archive import CheckedZip
from judge.problems.files import PackageError
from judge.service import queue, workers
from judge.storage import repo
from judge.storage.models import Batch, Problem
from web.api import ID
from web.api import blueprint as bp
from web.api.auth import require_organiser
from web.api.body import read_json, unstorable
from web.api.errors import ApiError
from web.api.submissions import MAX_SOURCE_BYTES, create, requeue
from web.app import MAX_UPLOAD_BYTES
from web.context import context

MAX_BATCH_FILES = 5000
MAX_BATCH_BYTES = MAX_UPLOAD_BYTES  # unpacked: no more than the same batch sent as JSON could carry
Found = tuple[str, str, bytes]  # (label, language, source) of one contestant


def upload_zip(upload: FileStorage, label: str = "archive") -> list[tuple[str, str, bytes]]:
    """from_zip of an uploaded archive, read from a file on disk, never whole into memory."""
    with tempfile.TemporaryDirectory(prefix="judge-batch-") as tmp:
        path = Path(tmp) / "batch.zip"
        upload.save(path)
        return from_zip(path, label)


def from_zip(data: bytes | Path, label: str = "archive") -> list[tuple[str, str, bytes]]:
    """(label, language, source) for each file of a batch archive (bytes, or a file).

    The archive is checked whole first, as a package is (judge/problems/archive.py: paths that
    leave their folder, links, zip bombs, absurd entry counts), with a batch's own bound on bytes:
    422 `bad_archive` naming the entry and the fault.
    """
    try:
        with CheckedZip(data, label, max_bytes=MAX_BATCH_BYTES) as zf:
            return _unique(_read_batch(zf))
    except PackageError as e:
        raise ApiError(422, "bad_archive", str(e)) from None


def _read_batch(zf: CheckedZip) -> list[tuple[str, str, bytes]]:
    files = [i for i in zf.infos if not i.is_dir() and not i.filename.split("/")[-1].startswith(".")
             and "__MACOSX" not in i.filename]
    if len(files) > MAX_BATCH_FILES:
        raise ApiError(413, "too_large", f"{len(files)} files; at most {MAX_BATCH_FILES} in a batch")
    tops = {f.filename.split("/")[0] for f in files}
    nested = len(tops) == 1 and all("/" in f.filename for f in files)
    found = []
    for info in files:
        parts = info.filename.split("/")[1 if nested else 0:]
        if len(parts) != 1:
            raise ApiError(422, "bad_archive", f"{info.filename}: one file per contestant, no folders")
        if info.file_size > MAX_SOURCE_BYTES:
            raise ApiError(413, "too_large", f"{info.filename}: over {MAX_SOURCE_BYTES} bytes")
        name = parts[0]
        try:
            lang = languages.by_extension(name)
        except UnknownLanguage as e:
            raise ApiError(422, "unknown_language", f"{info.filename}: {e}") from None
        found.append((name.rsplit(".", 1)[0], lang.id, zf.read(info)))
    if not found:
        raise ApiError(422, "bad_archive", "the archive holds no submissions")
    return found


def _unique(found: list[tuple[str, str, bytes]]) -> list[tuple[str, str, bytes]]:
    """The submissions, refused when two share a label: a contestant has one submission here."""
    seen: set[str] = set()
    for label, _, _ in found:
        if label in seen:
            raise ApiError(422, "duplicate_label", f"two submissions for {label!r}; one per contestant")
        seen.add(label)
    return found


def _from_json(items: Any) -> list[tuple[str, str, bytes]]:
    if not isinstance(items, list) or not items:
        raise ApiError(422, "invalid_field", "'submissions' must be a non-empty list")
    if len(items) > MAX_BATCH_FILES:
        raise ApiError(413, "too_large", f"{len(items)} submissions; at most {MAX_BATCH_FILES} in a batch")
    found = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("label", "language",
                                                                                       "source")):
            raise ApiError(422, "invalid_field", f"submissions[{i}]: needs string label, language and source")
        try:
            languages.by_id(item["language"])
        except UnknownLanguage as e:
            raise ApiError(422, "unknown_language", f"submissions[{i}]: {e}") from None
        source = item["source"].encode()
        if len(source) > MAX_SOURCE_BYTES:
            raise ApiError(413, "too_large", f"submissions[{i}]: over {MAX_SOURCE_BYTES} bytes")
        found.append((item["label"][:200], item["language"], source))
    return _unique(found)


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
        found = _from_json(doc.get("submissions"))
    else:
        problem_id, name = request.form.get("problem"), request.form.get("name") or ""
        archive = request.files.get("archive")
        if archive is None:
            raise ApiError(422, "invalid_field",
                           "send a zip as the multipart field 'archive', or a JSON body")
        found = upload_zip(archive, Path(archive.filename or "archive.zip").name)
    if not isinstance(problem_id, str):
        raise ApiError(422, "invalid_field", "'problem' is required")
    if not isinstance(name, str):
        raise ApiError(422, "invalid_field", "'name' must be a string")
    return make_batch(user.id, problem_id, name[:200], found), 201


def make_batch(user_id: int, problem_id: str, name: str, found: list[Found]) -> dict[str, Any]:
    """Store a batch and its submissions, then queue them; nothing stays if that fails.

    `found` is (label, language, source) per contestant, as from_zip and _from_json give.
    """
    ctx = context()
    with ctx.sessions.begin() as session:
        if session.get(Problem, problem_id) is None:
            raise ApiError(404, "unknown_problem", f"no problem {problem_id!r}")
        batch_id = repo.add_batch(session, problem_id=problem_id, user_id=user_id, name=name).id
    wanted = [{"language": lang, "source": source, "user_id": user_id, "problem_id": problem_id,
               "batch_id": batch_id, "label": label} for label, lang, source in found]
    try:
        ids = create(wanted)
    except ApiError:
        with ctx.sessions.begin() as session:
            gone = session.get(Batch, batch_id)
            if gone is not None:
                session.delete(gone)
        raise
    made = [{"id": i, "label": w["label"], "language": w["language"]}
            for i, w in zip(ids, wanted, strict=True)]
    return {"id": batch_id, "problem": problem_id, "name": name, "count": len(ids), "submissions": made}


def batch_rows(batch_id: int) -> tuple[Batch, list[dict[str, Any]]]:
    with context().sessions() as session:
        batch = session.get(Batch, batch_id)
        if batch is None:
            raise ApiError(404, "not_found", f"no batch {batch_id}")
        rows = [{"label": s.label, "submission": s.id, "language": s.language, "state": s.state.value,
                 "verdict": s.verdict.value if s.verdict else None, "score": s.score,
                 "time": round(s.time_s, 3) if s.time_s is not None else None, "memory": s.memory_bytes,
                 "tests": [{"name": t.name, "verdict": t.verdict.value, "time": round(t.time_s, 3),
                            "memory": t.memory_bytes} for t in s.tests]}
                for s in repo.submissions_of(session, batch_id=batch_id)]
        return batch, rows


@bp.get(f"/batches/<{ID}:batch_id>")
def get_batch(batch_id: int) -> dict[str, Any]:
    require_organiser()
    batch, rows = batch_rows(batch_id)
    return {"id": batch.id, "problem": batch.problem_id, "name": batch.name, "count": len(rows),
            "created_at": batch.created_at.isoformat().replace("+00:00", "Z"),
            "states": dict(Counter(r["state"] for r in rows)),
            "verdicts": dict(Counter(r["verdict"] for r in rows if r["verdict"]))}


@bp.get(f"/batches/<{ID}:batch_id>/results")
def get_batch_results(batch_id: int) -> Response | dict[str, Any]:
    require_organiser()
    batch, rows = batch_rows(batch_id)
    if request.args.get("format", "json") == "csv":
        return results_csv(batch_id, rows)
    return {"id": batch.id, "problem": batch.problem_id, "results": rows}


def rejudge_all(**of: Any) -> tuple[dict[str, Any], int]:
    """Rejudge every submission of a batch or a problem (repo.submissions_of's filter)."""
    with context().sessions() as session:
        ids = [(s.id, s.language) for s in repo.submissions_of(session, with_tests=False, **of)]
    requeue(ids)
    return {"rejudged": [i for i, _ in ids]}, 202


def results_csv(batch_id: int, rows: list[dict[str, Any]]) -> Response:
    """A batch's results as a CSV download: one row per contestant."""
    out = io.StringIO()
    columns = ["label", "submission", "language", "state", "verdict", "score", "time", "memory"]
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=batch-{batch_id}.csv"})


@bp.post(f"/batches/<{ID}:batch_id>/rejudge")
def rejudge_batch(batch_id: int) -> tuple[dict[str, Any], int]:
    require_organiser()
    with context().sessions() as session:
        if session.get(Batch, batch_id) is None:
            raise ApiError(404, "not_found", f"no batch {batch_id}")
    return rejudge_all(batch_id=batch_id)


@bp.post("/problems/<problem_id>/rejudge")
def rejudge_problem(problem_id: str) -> tuple[dict[str, Any], int]:
    require_organiser()
    with context().sessions() as session:
        if session.get(Problem, problem_id) is None:
            raise ApiError(404, "unknown_problem", f"no problem {problem_id!r}")
    return rejudge_all(problem_id=problem_id)


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
