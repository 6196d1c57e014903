"""Contestants' pages: problems, statements and samples, submitting, submissions, scoreboards.

What a contestant may see: problems of contests that have started, and problems in no contest
(practice); only the samples of a problem's test data, never the hidden tests, nor what the
checker said about a hidden test; their own submissions and sources, never another's (404, as
the API). Organisers see everything.

A submission's page renders what is stored, then follows the submission's server-sent events
(the API's stream, web/streams.py `event_stream`) from static/submission.js, falling
back to polling `/submissions/<id>.json` where EventSource fails, and draws the time per test.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import abort, redirect, render_template, request, send_file, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from judge import languages
from judge.errors import Refused
from judge.problems import package
from judge.problems.model import ProblemPackage
from judge.problems.statement import Sample, samples
from judge.service.contests import scoreboard_of
from judge.service.documents import submission_json
from judge.service.submissions import MAX_SOURCE_BYTES, NewSubmission, create
from judge.storage import repo
from judge.storage.models import Problem, Submission
from web import statements
from web.api.errors import STATUS, ApiError
from web.context import context
from web.pages import blueprint as bp
from web.pages.auth import Account, login_required, me
from web.streams import event_stream


def _now() -> datetime:
    return datetime.now(UTC)


def visible_problems(session: Session, account: Account) -> list[Problem]:
    """The problems this account may open, by id (the API's rule: repo.visible_problems)."""
    return repo.visible_problems(session, staff=account.is_staff, now=_now())


def _problem_or_404(session: Session, problem_id: str) -> Problem:
    for p in visible_problems(session, me()):
        if p.id == problem_id:
            return p
    abort(404)


@functools.lru_cache(maxsize=32)
def _package(path: str) -> ProblemPackage:
    return package.load(context().settings.data_dir / path)


bp.app_template_global("problem_name")(statements.problem_name)  # the name in the reader's language


@bp.get("/")
def index() -> Response:
    return redirect(url_for("pages.problems"))


@bp.get("/problems")
@login_required
def problems() -> str:
    with context().sessions() as session:
        shown = visible_problems(session, me())
    return render_template(
        "problems.html", problems=shown, names={p.id: statements.shown_name(p) for p in shown}
    )


def _problem_page(
    problem_id: str, *, error: str | None = None, form: dict[str, str] | None = None, status: int = 200
) -> tuple[str, int]:
    with context().sessions() as session:
        problem = _problem_or_404(session, problem_id)
    statement = statements.statement(problem.path)
    # the statement names its images `images/<name>`; they are served beside the problem's page
    prefix = url_for("pages.statement_image", problem_id=problem.id, name="x")[:-1]
    statement_html = statement.html.replace('src="images/', f'src="{prefix}')
    try:
        shown_samples = samples(_package(problem.path))
    except Exception:  # a package that no longer loads still shows its page
        shown_samples = []
    parts, rest = _with_samples(statement_html, shown_samples)
    return render_template(
        "problem.html",
        problem=problem,
        name=statement.name or problem.name,
        statement=statement,
        parts=parts,
        samples=rest,
        languages=languages.LANGUAGES,
        max_source=MAX_SOURCE_BYTES,
        error=error,
        form=form or {},
        statement_languages=[(lang, statements.language_name(lang)) for lang in statement.languages if lang],
    ), status


SAMPLE_SLOT = re.compile(r'<div class="(nextsample|remainingsamples)"></div>')


def _with_samples(html: str, shown: list[Sample]) -> tuple[list[tuple[str, list[Sample]]], list[Sample]]:
    """The statement cut where the jury asked for samples (`\\nextsample`, `{{remainingsamples}}`):
    each piece with the samples that follow it, and the samples left for the end."""
    parts: list[tuple[str, list[Sample]]] = []
    left = list(shown)
    last = 0
    for m in SAMPLE_SLOT.finditer(html):
        take = 1 if m.group(1) == "nextsample" else len(left)
        parts.append((html[last : m.start()], left[:take]))
        left = left[take:]
        last = m.end()
    parts.append((html[last:], []))
    return parts, left


@bp.get("/problems/<problem_id>")
@login_required
def problem(problem_id: str) -> tuple[str, int]:
    return _problem_page(problem_id)


@bp.get("/problems/<problem_id>/statement.pdf")
@login_required
def statement_pdf(problem_id: str) -> Response:
    with context().sessions() as session:
        problem = _problem_or_404(session, problem_id)
    pdf = statements.statement(problem.path).pdf  # in the chosen language (?lang=)
    if pdf is None:
        abort(404)
    return send_file(pdf, mimetype="application/pdf")


@bp.get("/problems/<problem_id>/images/<name>")
@login_required
def statement_image(problem_id: str, name: str) -> Response:
    with context().sessions() as session:
        problem = _problem_or_404(session, problem_id)
    found: Path | None = next(
        (st.images[name] for st in statements.all_statements(problem.path) if name in st.images), None
    )
    if found is None:
        abort(404)
    response = send_file(found)
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; style-src 'unsafe-inline'"
    return response  # an SVG opened on its own runs no script


@bp.post("/problems/<problem_id>/submit")
@login_required
def submit(problem_id: str) -> Response | tuple[str, int]:
    form = {"language": request.form.get("language", ""), "source": request.form.get("source", "")}
    upload = request.files.get("file")
    source = form["source"]
    if upload is not None and upload.filename:
        data = upload.read(MAX_SOURCE_BYTES + 1)
        if len(data) > MAX_SOURCE_BYTES:
            return _problem_page(
                problem_id,
                error=f"The file is larger than {MAX_SOURCE_BYTES // 1024} KiB.",
                form=form,
                status=413,
            )
        source = data.decode("utf-8", errors="replace")
        if not form["language"]:
            try:
                form["language"] = languages.by_extension(upload.filename).id
            except Exception:  # the form says what is wrong below
                pass
    if not source.strip():
        return _problem_page(problem_id, error="Paste your source or choose a file.", form=form, status=422)
    if not form["language"]:
        return _problem_page(problem_id, error="Choose a language.", form=form, status=422)
    with context().sessions() as session:
        _problem_or_404(session, problem_id)
    try:
        new = NewSubmission.from_json(
            {"language": form["language"], "source": source, "problem": problem_id}, me().id
        )
        (sid,) = create(context(), [new])
    except Refused as e:
        return _problem_page(problem_id, error=e.message, form=form, status=STATUS[e.why])
    return redirect(url_for("pages.submission", submission_id=sid))


def _submission_or_404(submission_id: int) -> Submission:
    with context().sessions() as session:
        sub = repo.get_submission(session, submission_id)
    account = me()
    if sub is None or not (account.is_staff or sub.user_id == account.id):
        abort(404)
    return sub


@bp.get("/submissions")
@login_required
def submissions() -> str:
    account = me()
    with context().sessions() as session:
        rows = [
            (submission_json(s, with_tests=False), name)
            for s, name in repo.submissions_with_names(
                session, user_id=None if account.is_staff else account.id, limit=200
            )
        ]
    return render_template("submissions.html", rows=rows)


@bp.get("/submissions/<int:submission_id>")
@login_required
def submission(submission_id: int) -> str:
    sub = _submission_or_404(submission_id)
    return render_template(
        "submission.html",
        doc=submission_json(sub, secret_feedback=me().is_staff),
        source=sub.source.decode("utf-8", errors="replace"),
    )


@bp.get("/submissions/<int:submission_id>.json")
@login_required
def submission_doc(submission_id: int) -> dict[str, Any]:
    return submission_json(_submission_or_404(submission_id), secret_feedback=me().is_staff)


@bp.get("/submissions/<int:submission_id>/events")
@login_required
def submission_live(submission_id: int) -> Response:
    _submission_or_404(submission_id)
    try:
        return event_stream(submission_id, user_id=me().id, staff=me().is_staff)
    except ApiError as e:  # too many streams: the page's script polls instead
        return Response(e.message, status=e.status, content_type="text/plain; charset=utf-8")


@bp.get("/contests")
@login_required
def contests() -> str:
    with context().sessions() as session:
        shown = repo.list_contests(session)
    return render_template("contests.html", contests=shown, now=_now())


@bp.get("/contests/<int:contest_id>")
@login_required
def contest(contest_id: int) -> str:
    account = me()
    now = _now()
    shown = scoreboard_of(context().sessions, contest_id, now=now, full=account.is_staff)
    if shown is None:
        abort(404)
    found, board = shown
    return render_template(
        "contest.html",
        contest=found,
        board=board,
        now=now,
        started=found.starts_at <= now or account.is_staff,
    )
