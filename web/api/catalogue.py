"""Languages, problems and the caller's account.

`GET /languages` lists every language the judge knows, with whether a worker takes it now and
the version its self-test saw (from the workers' announcements, judge/service/workers.py).
`POST /problems` (organisers) imports a package (multipart field `package`, a zip; optional
field `id`), queues its verification, and waits up to `wait` seconds (default 60, at most 300;
0 answers at once) for the report: 201 with it, or 202 while it is still running.
A problem's document lists its `statements`: each language with the problem's name there and the
URLs of `/problems/{id}/statement?language=` (sanitised HTML with MathML, as the pages show it)
and of the package's PDF; images are served under `/problems/{id}/images/` (web/statements.py).
"""

from __future__ import annotations

import time
from typing import Any

from flask import request, send_file, url_for
from werkzeug.wrappers import Response

from judge import languages
from judge.errors import JudgeError
from judge.problems.statement import Statement
from judge.service import problems, webhooks, workers
from judge.storage import repo
from judge.storage.models import Problem, User
from judge.storage.repo import StorageError
from web import statements
from web.api import blueprint as bp
from web.api.auth import is_staff, require_organiser, require_user
from web.api.errors import ApiError, seconds_arg
from web.context import context
from web.statements import problem_json

IMPORT_WAIT_DEFAULT_S = 60.0
IMPORT_WAIT_MAX_S = 300.0


@bp.get("/languages")
def get_languages() -> dict[str, Any]:
    require_user()
    offered: dict[str, str] = {}
    for w in workers.workers(context().redis):
        for lang in w.get("languages", []):
            offered.setdefault(lang, str(w.get("versions", {}).get(lang, "")))
    return {
        "languages": [
            {
                "id": lang.id,
                "name": lang.name,
                "extensions": list(lang.extensions),
                "image": lang.image,
                "available": lang.id in offered,
                "version": offered.get(lang.id) or None,
            }
            for lang in languages.LANGUAGES
        ]
    }


def _visible_problem(problem_id: str) -> Problem:
    user = require_user()
    with context().sessions() as session:
        p = next(
            (p for p in repo.visible_problems(session, staff=is_staff(user)) if p.id == problem_id), None
        )
    if p is None:
        raise ApiError(404, "unknown_problem", f"no problem {problem_id!r}")
    return p


def _statement_in(p: Problem) -> Statement:
    """The statement in `?language=` (one the problem has), else in English or its first."""
    language = request.args.get("language")
    if language is not None and language not in statements.languages_of(p.path):
        raise ApiError(404, "unknown_language", f"problem {p.id!r} has no statement in {language!r}")
    return statements.statement(p.path, language or "en")


@bp.get("/problems/<problem_id>/statement")
def get_statement(problem_id: str) -> dict[str, Any]:
    """The statement as the pages show it: sanitised HTML with MathML, images served below."""
    p = _visible_problem(problem_id)
    st = _statement_in(p)
    prefix = url_for("api.get_statement_image", problem_id=p.id, name="x")[:-1]
    return {
        "problem": p.id,
        "language": st.language,
        "languages": list(st.languages),
        "name": st.name or p.name,
        "kind": st.kind,
        "html": st.html.replace('src="images/', f'src="{prefix}'),
        "pdf": url_for("api.get_statement_pdf", problem_id=p.id, language=st.language or None)
        if st.pdf
        else None,
    }


@bp.get("/problems/<problem_id>/statement.pdf")
def get_statement_pdf(problem_id: str) -> Response:
    pdf = _statement_in(_visible_problem(problem_id)).pdf
    if pdf is None:
        raise ApiError(404, "no_pdf", f"problem {problem_id!r} has no statement PDF in that language")
    return send_file(pdf, mimetype="application/pdf")


@bp.get("/problems/<problem_id>/images/<name>")
def get_statement_image(problem_id: str, name: str) -> Response:
    p = _visible_problem(problem_id)
    found = next((st.images[name] for st in statements.all_statements(p.path) if name in st.images), None)
    if found is None:
        raise ApiError(404, "unknown_image", f"no image {name!r} in problem {problem_id!r}'s statements")
    response = send_file(found)
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; style-src 'unsafe-inline'"
    return response  # an SVG opened on its own runs no script


@bp.get("/problems")
def get_problems() -> dict[str, Any]:
    user = require_user()
    with context().sessions() as session:
        return {"problems": [problem_json(p) for p in repo.visible_problems(session, staff=is_staff(user))]}


@bp.get("/problems/<problem_id>")
def get_problem(problem_id: str) -> dict[str, Any]:
    """A problem; the verification report (which quotes the hidden tests' checker messages) for
    organisers only. A contest's problem is 404 to contestants until the contest starts."""
    user = require_user()
    with context().sessions() as session:
        p = next(
            (p for p in repo.visible_problems(session, staff=is_staff(user)) if p.id == problem_id), None
        )
        if p is None:
            raise ApiError(404, "unknown_problem", f"no problem {problem_id!r}")
        return problem_json(p, with_report=is_staff(user))


@bp.post("/problems")
def post_problem() -> tuple[dict[str, Any], int, dict[str, str]]:
    require_organiser()
    upload = request.files.get("package")
    if upload is None:
        raise ApiError(422, "invalid_field", "send the package as the multipart field 'package' (a zip)")
    wait = seconds_arg("wait", IMPORT_WAIT_DEFAULT_S, IMPORT_WAIT_MAX_S)
    ctx = context()
    try:
        row = problems.import_upload(
            ctx, upload.stream, upload.filename or "package.zip", request.form.get("id") or None
        )
    except JudgeError as e:
        raise ApiError(422, "bad_package", str(e)) from None
    deadline = time.monotonic() + wait
    while True:
        with ctx.sessions() as session:
            p = repo.get_problem(session, row.id)
            assert p is not None
            doc = problem_json(p, with_report=True)
        if doc["verification"]["state"] == "done" or time.monotonic() >= deadline:
            break
        time.sleep(0.25)
    status = 201 if doc["verification"]["state"] == "done" else 202
    return doc, status, {"Location": url_for("api.get_problem", problem_id=row.id)}


@bp.delete("/problems/<problem_id>")
def delete_problem(problem_id: str) -> tuple[str, int]:
    """Delete a problem with its submissions, batches and stored packages (organisers; 409 while
    one of its submissions is still being graded)."""
    require_organiser()
    ctx = context()
    try:
        gone = problems.delete_problem(ctx.sessions, ctx.settings.data_dir, problem_id)
    except StorageError as e:
        raise ApiError(409, "problem_busy", str(e)) from None
    if gone is None:
        raise ApiError(404, "unknown_problem", f"no problem {problem_id!r}")
    return "", 204


@bp.get("/me")
def get_me() -> dict[str, Any]:
    """The caller's account and webhook key (what X-Judge-Signature is made with)."""
    user: User = require_user()
    return {
        "id": user.id,
        "name": user.name,
        "role": user.role.value,
        "webhook_key": webhooks.user_key(context().secret_key, user.id).decode(),
    }
