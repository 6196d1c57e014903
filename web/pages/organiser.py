"""Organisers' pages: packages and reports, batches, rejudging, the queue, contests, accounts.

They call the service the API calls (judge/service/: problems.py, batches.py, submissions.py,
contests.py), so a page and an endpoint cannot drift apart. A batch's page fills its table in
live: static/batch.js polls `/organiser/batches/<id>.json` each second and draws a progress bar
until every submission is done. Accounts come one by one or from a CSV of `name,password[,role]`
lines, all or none: a CSV with any bad line changes nothing and the page lists every bad line.
"""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from judge.errors import JudgeError, Refused
from judge.service import accounts, batches, contests, queue, submissions, workers
from judge.service import problems as problem_service
from judge.service.accounts import NewAccount
from judge.service.contests import NewContest
from judge.storage import repo
from judge.storage.models import Batch
from web.api.errors import STATUS
from web.context import context
from web.pages import blueprint as bp
from web.pages.auth import me, organiser_required
from web.statements import problem_json


@bp.get("/organiser")
@organiser_required
def dashboard() -> str:
    ctx = context()
    with ctx.sessions() as session:
        states = repo.count_by_state(session)
    return render_template(
        "organiser/dashboard.html",
        states=states,
        queues=queue.queue_lengths(ctx.redis),
        workers=workers.workers(ctx.redis),
        now=time.time(),
    )


# -- problems ------------------------------------------------------------------------------------


def _problems_page(
    error: str | None = None, status: int = 200, form: dict[str, str] | None = None
) -> tuple[str, int]:
    with context().sessions() as session:
        shown = [problem_json(p) for p in repo.list_problems(session)]
    return render_template("organiser/problems.html", problems=shown, error=error, form=form or {}), status


@bp.get("/organiser/problems")
@organiser_required
def organiser_problems() -> tuple[str, int]:
    return _problems_page()


@bp.post("/organiser/problems")
@organiser_required
def upload_problem() -> Response | tuple[str, int]:
    upload = request.files.get("package")
    wanted_id = request.form.get("id", "").strip() or None
    form = {"id": wanted_id or ""}
    if upload is None or not upload.filename:
        return _problems_page("Choose a package (a .zip) to upload.", 422, form)
    try:
        row = problem_service.import_upload(context(), upload.stream, upload.filename, wanted_id)
    except JudgeError as e:
        return _problems_page(f"The package was refused: {e}", 422, form)
    flash(f"Imported {row.id}; verifying it now.", "ok")
    return redirect(url_for("pages.organiser_problem", problem_id=row.id))


@bp.get("/organiser/problems/<problem_id>")
@organiser_required
def organiser_problem(problem_id: str) -> str:
    with context().sessions() as session:
        p = repo.get_problem(session, problem_id)
        if p is None:
            abort(404)
        doc = problem_json(p, with_report=True)
    return render_template("organiser/problem.html", problem=doc)


@bp.get("/organiser/problems/<problem_id>.json")
@organiser_required
def organiser_problem_json(problem_id: str) -> dict[str, Any]:
    with context().sessions() as session:
        p = repo.get_problem(session, problem_id)
        if p is None:
            abort(404)
        return problem_json(p, with_report=True)


@bp.post("/organiser/problems/<problem_id>/rejudge")
@organiser_required
def rejudge_problem_page(problem_id: str) -> Response:
    rejudged = submissions.rejudge_all(context(), problem_id=problem_id)
    flash(f"Rejudging {len(rejudged)} submissions of {problem_id}.", "ok")
    return redirect(url_for("pages.organiser_problem", problem_id=problem_id))


@bp.post("/organiser/submissions/<int:submission_id>/rejudge")
@organiser_required
def rejudge_submission_page(submission_id: int) -> Response:
    try:
        submissions.rejudge_submission(context(), submission_id)
    except Refused:
        abort(404)
    flash(f"Submission {submission_id} is queued again.", "ok")
    return redirect(url_for("pages.submission", submission_id=submission_id))


# -- batches -------------------------------------------------------------------------------------


def _batches_page(
    error: str | None = None, status: int = 200, form: dict[str, str] | None = None
) -> tuple[str, int]:
    with context().sessions() as session:
        shown = repo.list_batches(session)
        problem_ids = [p.id for p in repo.list_problems(session)]
    return render_template(
        "organiser/batches.html", batches=shown, problems=problem_ids, error=error, form=form or {}
    ), status


@bp.get("/organiser/batches")
@organiser_required
def organiser_batches() -> tuple[str, int]:
    return _batches_page()


@bp.post("/organiser/batches")
@organiser_required
def upload_batch() -> Response | tuple[str, int]:
    form = {"problem": request.form.get("problem", ""), "name": request.form.get("name", "")}
    archive = request.files.get("archive")
    if not form["problem"]:
        return _batches_page("Choose the problem.", 422, form)
    if archive is None or not archive.filename:
        return _batches_page("Choose a zip with one file per contestant.", 422, form)
    try:
        made = batches.make_batch(
            context(),
            user_id=me().id,
            problem_id=form["problem"],
            name=form["name"][:200],
            entries=batches.from_upload(archive.stream),
        )
    except Refused as e:
        return _batches_page(f"The batch was refused: {e.message}", STATUS[e.why], form)
    return redirect(url_for("pages.organiser_batch", batch_id=made.id))


def _results(batch_id: int) -> tuple[Batch, list[batches.Row]]:
    try:
        return batches.results(context(), batch_id)
    except Refused:
        abort(404)


@bp.get("/organiser/batches/<int:batch_id>")
@organiser_required
def organiser_batch(batch_id: int) -> str:
    batch, rows = _results(batch_id)
    return render_template("organiser/batch.html", batch=batch, rows=[r.as_json() for r in rows])


@bp.get("/organiser/batches/<int:batch_id>.json")
@organiser_required
def organiser_batch_json(batch_id: int) -> dict[str, Any]:
    batch, rows = _results(batch_id)
    return {"id": batch.id, "problem": batch.problem_id, "results": [r.as_json() for r in rows]}


@bp.get("/organiser/batches/<int:batch_id>/results.csv")
@organiser_required
def organiser_batch_csv(batch_id: int) -> Response:
    _, rows = _results(batch_id)
    return Response(
        batches.results_csv(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=batch-{batch_id}.csv"},
    )


@bp.get("/organiser/batches/<int:batch_id>/results.json")
@organiser_required
def organiser_batch_download(batch_id: int) -> Response:
    doc = organiser_batch_json(batch_id)
    return Response(
        json.dumps(doc, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": f"attachment; filename=batch-{batch_id}.json"},
    )


@bp.post("/organiser/batches/<int:batch_id>/rejudge")
@organiser_required
def rejudge_batch_page(batch_id: int) -> Response:
    submissions.rejudge_all(context(), batch_id=batch_id)
    return redirect(url_for("pages.organiser_batch", batch_id=batch_id))


# -- contests ------------------------------------------------------------------------------------


def _when(text: str, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{what}: give a date and time, e.g. 2026-12-01T10:00") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _contests_page(
    error: str | None = None, status: int = 200, form: dict[str, Any] | None = None
) -> tuple[str, int]:
    with context().sessions() as session:
        shown = repo.list_contests(session)
        problem_ids = [p.id for p in repo.list_problems(session)]
        listed = [(c, [p.id for p in c.problems]) for c in shown]
    return render_template(
        "organiser/contests.html",
        contests=listed,
        problems=problem_ids,
        error=error,
        form=form or {"problems": []},
    ), status


@bp.get("/organiser/contests")
@organiser_required
def organiser_contests() -> tuple[str, int]:
    return _contests_page()


@bp.post("/organiser/contests")
@organiser_required
def create_contest() -> Response | tuple[str, int]:
    fields = ("name", "starts", "ends", "freeze", "kind")
    form: dict[str, Any] = {k: request.form.get(k, "").strip() for k in fields}
    form["problems"] = request.form.getlist("problems")
    try:
        if not form["name"]:
            raise ValueError("Give the contest a name.")
        starts, ends = _when(form["starts"], "Start"), _when(form["ends"], "End")
        freeze = _when(form["freeze"], "Freeze") if form["freeze"] else None
        if ends <= starts:
            raise ValueError("The end must come after the start.")
        if freeze is not None and not starts <= freeze <= ends:
            raise ValueError("The freeze must fall between the start and the end.")
        if form["kind"] not in contests.KINDS:
            raise ValueError("Choose ICPC or scoring.")
        if not form["problems"]:
            raise ValueError("Choose at least one problem.")
    except ValueError as e:
        return _contests_page(str(e), 422, form)
    try:
        contest_id = contests.create(
            context().sessions,
            NewContest(
                name=form["name"],
                starts_at=starts,
                ends_at=ends,
                freeze_at=freeze,
                kind=form["kind"],
                problem_ids=form["problems"],
            ),
        )
    except Refused:
        return _contests_page("A chosen problem no longer exists.", 422, form)
    flash(f"Contest {form['name']} created.", "ok")
    return redirect(url_for("pages.contest", contest_id=contest_id))


# -- accounts ------------------------------------------------------------------------------------


def _users_page(
    error: str | None = None,
    status: int = 200,
    form: dict[str, str] | None = None,
    problems: list[str] | None = None,
) -> tuple[str, int]:
    with context().sessions() as session:
        users = repo.list_users(session)
    return render_template(
        "organiser/users.html", users=users, error=error, form=form or {}, csv_problems=problems or []
    ), status


@bp.get("/organiser/users")
@organiser_required
def organiser_users() -> tuple[str, int]:
    return _users_page()


@bp.post("/organiser/users")
@organiser_required
def create_users() -> Response | tuple[str, int]:
    upload = request.files.get("csv")
    if upload is not None and upload.filename:
        text = upload.read().decode("utf-8", errors="replace")
        wanted, problems = [], []
        for number, line in enumerate(csv.reader(io.StringIO(text)), start=1):
            if not line or not "".join(line).strip():
                continue
            if number == 1 and [c.strip().lower() for c in line[:2]] == ["name", "password"]:
                continue  # a header line
            name, password = (line + ["", ""])[0].strip(), (line + ["", ""])[1]
            role = (line[2].strip() if len(line) > 2 and line[2].strip() else "contestant").lower()
            account = NewAccount(name, password, role)
            why = accounts.fault(account)
            if why:
                problems.append(f"line {number}: {why}")
            wanted.append(account)
        names = [w.name for w in wanted]
        twice = sorted({n for n in names if names.count(n) > 1})
        problems += [f"{n}: named twice in the file" for n in twice]
        if not wanted and not problems:
            problems.append("the file holds no accounts")
        if problems:
            return _users_page("Nothing was created; fix these lines:", 422, problems=problems)
        try:
            accounts.create(context().sessions, wanted)
        except Refused:
            return _users_page("Nothing was created: some of these names exist already.", 422)
        flash(f"Created {len(wanted)} accounts.", "ok")
        return redirect(url_for("pages.organiser_users"))
    form = {"name": request.form.get("name", "").strip(), "role": request.form.get("role", "contestant")}
    password = request.form.get("password", "")
    account = NewAccount(form["name"], password, form["role"])
    why = accounts.fault(account)
    if why:
        return _users_page(why, 422, form)
    try:
        accounts.create(context().sessions, [account])
    except Refused:
        return _users_page(f"An account called {form['name']} exists already.", 422, form)
    flash(f"Created {form['name']}.", "ok")
    return redirect(url_for("pages.organiser_users"))
