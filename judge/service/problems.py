"""Problem packages in the service: imported into the data directory, verified by a worker.

Import (the web, `POST /api/v1/problems`): the uploaded zip is unpacked and loaded exactly as
`judge verify` loads it (judge/problems/), into `problems/.incoming/<random>` under the data
directory; a package that does not load is removed again and its PackageError (file and fault)
is the answer. A good one is moved to `problems/<id>/<version>/` and the problem's row points
there; an earlier version stays on disk for submissions still being graded against it. The id is
the one asked for, else the package's name, lowercased; ids are slugs (`[a-z0-9][a-z0-9_-]*`).

Verification (a worker, task `judge.verify_problem`): `judge verify` on the stored package,
its JSON report kept on the problem's row. A package that states no time limit gets the
computed one then; until that, its submissions are refused (the API answers 409).

A problem whose worst-case grading (every test to its wall-clock limit) would take longer than
JUDGE_MAX_JOB_S (judge/service/queue.py) gets a warning in its report: such gradings end IE.

Other machines. The stored version is also kept in the database, zipped (table
`package_archives`, keyed by the problem row's `path`). A worker whose own data directory lacks
the version it is asked to grade against (`ensure_local`) unpacks it from there, into
`.incoming/` and then renamed into place, so two processes racing for it both end with one
whole copy. Worker machines therefore share only Redis and the database, not a filesystem.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import secrets
import shutil
import tempfile
import time
import zipfile
from pathlib import Path
from typing import IO, TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

import sandbox
from judge.errors import JudgeError
from judge.problems import package
from judge.problems.archive import unpack_zip
from judge.problems.statement import statement_name
from judge.service import queue
from judge.storage import repo
from judge.storage.models import Problem
from judge.verify import verify_problem

if TYPE_CHECKING:
    from judge.service.submissions import Services

SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


class ProblemIdError(JudgeError):
    """The id asked for is not a valid problem id."""


def slug(text: str) -> str:
    made = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")[:64]
    return made or "problem"


def import_package(
    sessions: sessionmaker[Session], data_dir: Path, archive: Path, problem_id: str | None = None
) -> Problem:
    """Unpack, load and store a package; PackageError or ProblemIdError leave nothing behind."""
    if problem_id is not None and not SLUG.fullmatch(problem_id):
        raise ProblemIdError(
            f"problem id {problem_id!r}: use 1 to 64 of a-z, 0-9, '-' and '_', "
            "starting with a letter or digit"
        )
    incoming = data_dir / "problems" / ".incoming" / secrets.token_hex(8)
    incoming.parent.mkdir(parents=True, exist_ok=True)
    try:
        problem = package.load(archive, workdir=incoming)
        pid = problem_id or slug(problem.id)
        version = f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
        final = data_dir / "problems" / pid / version
        final.parent.mkdir(parents=True, exist_ok=True)
        top = problem.root.relative_to(incoming.resolve())
        incoming.rename(final)
    except BaseException:
        shutil.rmtree(incoming, ignore_errors=True)
        raise
    path = (final / top).relative_to(data_dir)
    data = zip_dir(final)
    # the name the statement gives (LaTeX \problemname where problem.yaml has none), in English or
    # the statement's first language; the pages show each reader's language's (web/statements.py)
    name = (statement_name(data_dir / path, "en") or problem.name)[:200]
    with sessions.begin() as session:
        row = repo.put_problem(
            session,
            problem_id=pid,
            name=name,
            path=str(path),
            time_limit_s=problem.limits.time_limit_s or 0.0,
            memory_mib=problem.limits.memory_mib,
        )
        repo.put_package_archive(session, problem_id=pid, path=str(path), data=data)
    return row


def import_upload(
    services: Services, upload: IO[bytes], filename: str, problem_id: str | None = None
) -> Problem:
    """An uploaded package (a zip, spooled to a file on disk, never whole into memory) imported as
    import_package does, then its verification queued: what the API and the pages do with one."""
    stem = Path(filename).name.rsplit(".", 1)[0] or "package"
    with tempfile.TemporaryDirectory(prefix="judge-upload-") as tmp:
        archive = Path(tmp) / f"{stem}.zip"
        with archive.open("wb") as out:
            shutil.copyfileobj(upload, out)
        row = import_package(services.sessions, services.settings.data_dir, archive, problem_id)
    queue.enqueue_verify(services.celery, row.id)
    return row


def delete_problem(sessions: sessionmaker[Session], data_dir: Path, problem_id: str) -> int | None:
    """Delete a problem with its submissions (repo.delete_problem), then its packages on this
    machine's disk; None if there is no such problem, else how many submissions went. Another
    machine's worker keeps its unpacked copy until its data directory is cleared: nothing reads it."""
    with sessions.begin() as session:
        gone = repo.delete_problem(session, problem_id)
    if gone is not None and SLUG.fullmatch(problem_id):
        shutil.rmtree(data_dir / "problems" / problem_id, ignore_errors=True)
    return gone


def zip_dir(root: Path) -> bytes:
    """Every file under root, zipped with its mode (validators' scripts stay executable)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob("*")):
            if path.is_symlink() or not path.is_file():
                continue
            info = zipfile.ZipInfo(str(path.relative_to(root)))
            info.external_attr = (path.stat().st_mode & 0o777) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return buf.getvalue()


def ensure_local(sessions: sessionmaker[Session], data_dir: Path, path: str) -> Path:
    """The package version `path` under this machine's data directory, unpacked from the
    database first if this machine has not got it yet."""
    local = data_dir / path
    if local.exists():
        return local
    parts = Path(path).parts
    if len(parts) < 3 or parts[0] != "problems" or ".." in parts:
        raise JudgeError(f"a problem's stored path {path!r} is not under problems/<id>/<version>")
    version = data_dir.joinpath(*parts[:3])
    with sessions() as session:
        archive = repo.package_archive(session, path)
        if archive is None:
            raise JudgeError(f"package {path} is neither in {data_dir} nor in the database")
        data, digest = archive.data, archive.sha256
    if hashlib.sha256(data).hexdigest() != digest:
        raise JudgeError(f"package {path} in the database does not match its checksum")
    incoming = data_dir / "problems" / ".incoming" / secrets.token_hex(8)
    incoming.mkdir(parents=True)
    try:
        unpack_zip(data, incoming, label=f"package {path}")  # checked as an upload is
        version.parent.mkdir(parents=True, exist_ok=True)
        try:
            incoming.rename(version)
        except OSError:
            if not version.exists():  # not another process that was first: a real failure
                raise
    finally:
        shutil.rmtree(incoming, ignore_errors=True)
    return local


COMPILE_ALLOWANCE_S = 60.0


def list_of(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def longest_grading_s(tests: int, time_limit_s: float) -> float:
    """How long grading can take at worst: a compile, then each test run to its wall-clock limit
    (judge/grading.py: 1.5 x the time limit + 1 s) and its output validated (as long again, at most)."""
    return COMPILE_ALLOWANCE_S + tests * 2 * (1.5 * time_limit_s + 1.0)


def verify_stored(
    sessions: sessionmaker[Session], data_dir: Path, problem_id: str, *, sb: sandbox.Sandbox
) -> bool:
    """Verify a stored problem and keep the report; whether every submission agreed."""
    with sessions() as session:
        row = session.get(Problem, problem_id)
        if row is None:
            raise JudgeError(f"no problem {problem_id!r}")
        path = row.path
    try:
        problem = package.load(ensure_local(sessions, data_dir, path))
        report = verify_problem(problem, sb=sb, jobs=1)
        doc, ok, limit = report.to_json(), report.ok, report.time_limit_s
        if limit:
            worst = longest_grading_s(len(problem.cases()), limit)
            if worst > queue.max_job_s():
                doc["warnings"] = [
                    *list_of(doc.get("warnings")),
                    (
                        f"a submission that runs every test to its wall-clock limit takes about "
                        f"{worst:.0f} s, "
                        f"more than one grading may take (JUDGE_MAX_JOB_S={queue.max_job_s():.0f} s): such "
                        "submissions end IE. Raise JUDGE_MAX_JOB_S on every machine, or use fewer tests."
                    ),
                ]
    except JudgeError as e:
        doc, ok, limit = {"problem": problem_id, "ok": False, "error": str(e)}, False, None
    with sessions.begin() as session:
        row = repo.set_verify_report(session, problem_id, report=json.dumps(doc), ok=ok)
        if row.path == path and limit is not None and row.time_limit_s <= 0:
            row.time_limit_s = limit
    return ok
