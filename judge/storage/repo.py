"""The storage operations the web and the workers use; nothing else writes these tables.

Every function takes a Session, flushes, and leaves the commit to the caller, who owns the
transaction. Lookups that find nothing return None; asking for the impossible (an unknown
submission, an illegal state) raises StorageError.

Secrets: passwords are kept as "scrypt$n$r$p$salt$hash" (hashlib.scrypt, a random 16-byte salt,
base64 without padding) and checked in constant time; a user that does not exist costs the same
scrypt as a wrong password. API tokens are random secrets shown once; only their SHA-256 is kept,
so a stolen database holds no usable token.

Grading is claimed: a grading holds a Claim (the submission's generation and the holder's name),
taken with `claim`, and only the holder of the current generation may move the submission on
(`set_state` with `claim=`) or store its result (`record_result` with `claim=`); anyone else gets
LostClaim and its result is dropped. Queueing again (a rejudge, `requeue_stuck`) raises the
generation, so a task sent before it, or a grading that was given up on, can no longer store
anything: a submission is never graded into two different results.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from judge.errors import JudgeError
from judge.storage.models import (
    ApiToken,
    Batch,
    Contest,
    PackageArchive,
    Problem,
    Role,
    Submission,
    SubmissionState,
    TestResult,
    User,
    WebhookDelivery,
    WebSession,
    contest_problems,
    utcnow,
)
from judge.verdict import Verdict

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_SALT_BYTES = 16
SCRYPT_KEY_BYTES = 32
TOKEN_PREFIX = "jdg_"
TOKEN_USE_RESOLUTION = timedelta(minutes=1)
# what a token may be limited to: reading (GET), submitting, and an organiser's work
SCOPES = ("read", "submit", "organise")


class StorageError(JudgeError):
    """A storage operation cannot be done: an unknown row or an illegal change of state."""


class LostClaim(StorageError):
    """This grading no longer holds the submission: it was queued again or taken over."""


@dataclass(frozen=True, slots=True)
class Claim:
    """The right to grade one generation of a submission, held by `holder` ("<worker>/<pid>")."""

    generation: int
    holder: str


# --- passwords ---------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=2 * 128 * n * r * p + 2**20
    )


def hash_password(password: str) -> str:
    """ "scrypt$n$r$p$salt$hash" for `password`, with a fresh random salt."""
    salt = secrets.token_bytes(SCRYPT_SALT_BYTES)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_KEY_BYTES)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches `stored`; False (never an exception) for a malformed hash."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(key)
        actual = _scrypt(password, _unb64(salt), int(n), int(r), int(p), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# A hash to check against when the user does not exist, so that both answers take as long.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def create_user(session: Session, name: str, password: str, role: Role = Role.CONTESTANT) -> User:
    """A new user; a taken name fails at flush with sqlalchemy.exc.IntegrityError."""
    user = User(name=name, role=role, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def check_password(session: Session, name: str, password: str) -> User | None:
    """The user called `name` if `password` is theirs, else None (also for an unknown name)."""
    user = session.scalars(select(User).where(User.name == name)).one_or_none()
    ok = verify_password(password, user.password_hash if user else _DUMMY_HASH)
    return user if user is not None and ok else None


def set_password(session: Session, user: User, password: str) -> None:
    """A new password; every page session of the user ends with the old one (end_web_sessions)."""
    user.password_hash = hash_password(password)
    end_web_sessions(session, user.id)
    session.flush()


# --- page sessions -----------------------------------------------------------------------------


def open_web_session(session: Session, user: User) -> str:
    """A new page session for `user`; its secret (for the cookie) is returned, only its hash kept."""
    secret = secrets.token_urlsafe(32)
    session.add(WebSession(user_id=user.id, secret_hash=token_hash(secret)))
    session.flush()
    return secret


def user_for_web_session(session: Session, secret: str, max_age: timedelta) -> User | None:
    """The user of the page session with this secret, if it is open and younger than `max_age`."""
    found = session.scalars(
        select(WebSession)
        .where(WebSession.secret_hash == token_hash(secret))
        .options(selectinload(WebSession.user))
    ).one_or_none()
    if found is None or utcnow() - found.created_at > max_age:
        return None
    return found.user


def close_web_session(session: Session, secret: str) -> None:
    """End one page session (logging out); nothing happens for one already ended."""
    session.execute(delete(WebSession).where(WebSession.secret_hash == token_hash(secret)))


def end_web_sessions(session: Session, user_id: int, *, older_than: timedelta | None = None) -> None:
    """End every page session of a user (a password change), or only those older than `older_than`."""
    query = delete(WebSession).where(WebSession.user_id == user_id)
    if older_than is not None:
        query = query.where(WebSession.created_at < utcnow() - older_than)
    session.execute(query)


# --- API tokens --------------------------------------------------------------------------------


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(session: Session, user: User, scopes: Iterable[str] = ()) -> tuple[ApiToken, str]:
    """A new token for `user` and its secret, which is not stored and cannot be shown again.

    `scopes` restrict it to some of SCOPES; none means all that its user may do.
    """
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise StorageError(f"unknown scope {', '.join(sorted(unknown))}; the scopes are {', '.join(SCOPES)}")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, token_hash=token_hash(secret), scopes=" ".join(sorted(set(scopes))))
    session.add(token)
    session.flush()
    return token, secret


def user_for_token(session: Session, secret: str, now: datetime | None = None) -> User | None:
    """The owner of an unrevoked token with this secret, noting its use (to the minute); else None."""
    token = token_for_secret(session, secret, now)
    return token.user if token is not None else None


def token_for_secret(session: Session, secret: str, now: datetime | None = None) -> ApiToken | None:
    """The unrevoked token with this secret (its user loaded), noting its use; else None."""
    token = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == token_hash(secret)).options(selectinload(ApiToken.user))
    ).one_or_none()
    if token is None or token.revoked_at is not None:
        return None
    now = now or utcnow()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_USE_RESOLUTION:
        token.last_used_at = now  # not on every request: a write per poll would crowd SQLite
        session.flush()
    return token


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


def revoke_token(session: Session, token_id: int) -> bool:
    """Revoke a token; False if there is no such token. Revoking twice keeps the first time."""
    token = session.get(ApiToken, token_id)
    if token is None:
        return False
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
    return True


# --- submissions -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TestOutcome:
    """One test's result as grading hands it to `record_result`."""

    __test__ = False  # not a pytest class, whatever its name

    index: int
    name: str
    verdict: Verdict
    time_s: float
    wall_s: float
    memory_bytes: int
    message: str | None = None
    score: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOutput:
    """What an ad hoc run wrote and how it ended."""

    stdout: bytes
    stderr: bytes
    exit_code: int | None
    signal: int | None


def add_submission(
    session: Session,
    *,
    language: str,
    source: bytes,
    user_id: int | None = None,
    problem_id: str | None = None,
    stdin: bytes | None = None,
    expected_output: bytes | None = None,
    time_limit_s: float | None = None,
    memory_mib: int | None = None,
    callback_url: str | None = None,
    batch_id: int | None = None,
    label: str | None = None,
    token: str | None = None,
    options: str | None = None,
) -> Submission:
    """A queued submission: to a problem, or an ad hoc run (no problem, `stdin` given)."""
    if problem_id is None and stdin is None:
        raise StorageError("a submission needs a problem, or stdin for an ad hoc run")
    submission = Submission(
        user_id=user_id,
        problem_id=problem_id,
        language=language,
        source=source,
        stdin=stdin,
        expected_output=expected_output,
        time_limit_s=time_limit_s,
        memory_mib=memory_mib,
        callback_url=callback_url,
        batch_id=batch_id,
        label=label,
        token=token,
        options=options,
        state=SubmissionState.QUEUED,
    )
    session.add(submission)
    session.flush()
    return submission


def _require(session: Session, submission_id: int) -> Submission:
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise StorageError(f"no submission {submission_id}")
    return submission


def _clear_result(session: Session, submission: Submission) -> None:
    session.execute(delete(TestResult).where(TestResult.submission_id == submission.id))
    set_committed_value(submission, "tests", [])  # none left: known without reading them back
    submission.verdict = None
    submission.score = None
    submission.time_s = None
    submission.memory_bytes = None
    submission.compile_output = None
    submission.stdout = None
    submission.stderr = None
    submission.exit_code = None
    submission.signal = None
    submission.message = None
    submission.finished_at = None


def _locked(session: Session, submission_id: int) -> Submission:
    """The submission, its row locked until the transaction ends (PostgreSQL; SQLite locks the
    whole database for a writing transaction anyway)."""
    submission = session.scalars(
        select(Submission).where(Submission.id == submission_id).with_for_update()
    ).one_or_none()
    if submission is None:
        raise StorageError(f"no submission {submission_id}")
    return submission


def _check_claim(submission: Submission, claim: Claim) -> None:
    if submission.generation != claim.generation or submission.graded_by != claim.holder:
        raise LostClaim(
            f"submission {submission.id} generation {claim.generation} is no longer held by "
            f"{claim.holder} (now generation {submission.generation}, {submission.graded_by or 'nobody'})"
        )


def claim(session: Session, submission_id: int, generation: int | None, holder: str) -> Claim | None:
    """Take the grading of a submission's `generation` (None: whatever is current): it becomes
    `compiling`, held by `holder`. None when there is nothing to take: the generation is not the
    current one (the task was sent before a rejudge or a reap), or it is already graded.

    Whether another holder is still at work is the caller's question (a live lease in Redis,
    judge/service/leases.py); a claim on a generation that someone else held takes it over.
    """
    submission = _locked(session, submission_id)
    current = submission.generation
    if generation is not None and generation != current:
        return None
    if submission.state is SubmissionState.DONE:
        return None
    submission.graded_by = holder
    set_state(session, submission_id, SubmissionState.COMPILING)
    return Claim(current, holder)


def requeue_stuck(session: Session, submission_id: int, generation: int) -> int | None:
    """Give up on a grading whose holder is gone: back to `queued` with the next generation, which
    the caller sends a new task for. None when the submission moved on meanwhile (done, queued
    again, another generation): one compare-and-set, so two reapers never both requeue it."""
    result = session.execute(
        update(Submission)
        .where(
            Submission.id == submission_id,
            Submission.generation == generation,
            Submission.state.in_([SubmissionState.COMPILING, SubmissionState.RUNNING]),
        )
        .values(generation=generation + 1, state=SubmissionState.QUEUED, graded_by=None, started_at=None)
        .execution_options(synchronize_session=False)
    )
    return generation + 1 if result.rowcount == 1 else None  # type: ignore[attr-defined]


def unsent(session: Session, submission_id: int, generation: int) -> None:
    """The task for a requeued generation could not be sent: mark it stuck again (running, held
    by nobody) so that the next reap, finding no lease, tries once more."""
    session.execute(
        update(Submission)
        .where(
            Submission.id == submission_id,
            Submission.generation == generation,
            Submission.state == SubmissionState.QUEUED,
        )
        .values(state=SubmissionState.RUNNING, graded_by="(unsent)")
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True, slots=True)
class InProgress:
    id: int
    generation: int
    language: str
    graded_by: str | None
    started_at: datetime | None


def in_progress(session: Session) -> list[InProgress]:
    """Submissions being compiled or run, oldest first: what a reaper looks at."""
    rows = session.execute(
        select(
            Submission.id,
            Submission.generation,
            Submission.language,
            Submission.graded_by,
            Submission.started_at,
        )
        .where(Submission.state.in_([SubmissionState.COMPILING, SubmissionState.RUNNING]))
        .order_by(Submission.id)
    )
    return [InProgress(*row) for row in rows]


def set_state(
    session: Session, submission_id: int, state: SubmissionState, *, claim: Claim | None = None
) -> Submission:
    """Move a submission to queued, compiling or running; `done` comes only with a result.

    QUEUED (a rejudge) clears the earlier result. COMPILING and RUNNING are allowed from any
    state, done included (a rejudge while it is graded). Leaving QUEUED, or restarting after
    DONE, stamps `started_at`; a done submission's old result is cleared then, so the API never
    shows a verdict beside a state that is not `done`. QUEUED starts the next generation: what
    is being graded now can no longer store its result. With `claim`, only its holder may.
    """
    if state is SubmissionState.DONE:
        raise StorageError("a submission becomes done through record_result, with its verdict")
    submission = _require(session, submission_id) if claim is None else _locked(session, submission_id)
    if claim is not None:
        _check_claim(submission, claim)
    previous = submission.state
    if state is SubmissionState.QUEUED:
        _clear_result(session, submission)
        submission.started_at = None
        submission.generation += 1
        submission.graded_by = None
    else:
        if previous is SubmissionState.DONE:
            _clear_result(session, submission)
        if previous in (SubmissionState.QUEUED, SubmissionState.DONE) or submission.started_at is None:
            submission.started_at = utcnow()
    submission.state = state
    session.flush()
    return submission


def record_result(
    session: Session,
    submission_id: int,
    *,
    verdict: Verdict,
    score: float | None = None,
    time_s: float | None = None,
    memory_bytes: int | None = None,
    compile_output: str | None = None,
    tests: Sequence[TestOutcome] = (),
    message: str | None = None,
    run: RunOutput | None = None,
    claim: Claim | None = None,
) -> Submission:
    """Store a grading: the submission becomes done and its test rows are exactly `tests`.

    `run` is an ad hoc run's own output; a problem's submissions keep none. With `claim`, only
    its holder may store (LostClaim otherwise, and nothing is changed).
    """
    indices = [t.index for t in tests]
    if len(set(indices)) != len(indices):
        raise StorageError(f"test indices repeat: {sorted(indices)}")
    submission = _require(session, submission_id) if claim is None else _locked(session, submission_id)
    if claim is not None:
        _check_claim(submission, claim)
    _clear_result(session, submission)
    session.flush()  # the old rows are gone before the new ones, with the same indices, go in
    submission.tests = [
        TestResult(
            index=t.index,
            name=t.name,
            verdict=t.verdict,
            time_s=t.time_s,
            wall_s=t.wall_s,
            memory_bytes=t.memory_bytes,
            message=t.message,
            score=t.score,
        )
        for t in tests
    ]
    submission.verdict = verdict
    submission.score = score
    submission.time_s = time_s
    submission.memory_bytes = memory_bytes
    submission.compile_output = compile_output
    submission.message = message
    if run is not None:
        submission.stdout, submission.stderr = run.stdout, run.stderr
        submission.exit_code, submission.signal = run.exit_code, run.signal
    submission.state = SubmissionState.DONE
    submission.started_at = submission.started_at or utcnow()
    submission.finished_at = utcnow()
    session.flush()
    return submission


def get_submission(session: Session, submission_id: int) -> Submission | None:
    """The submission with its test results loaded (in index order), or None."""
    return session.scalars(
        select(Submission)
        .where(Submission.id == submission_id)
        .options(selectinload(Submission.tests))
        .execution_options(populate_existing=True)
    ).one_or_none()


def submissions_of(
    session: Session,
    *,
    problem_id: str | None = None,
    batch_id: int | None = None,
    with_tests: bool = True,
    ids: Sequence[int] | None = None,
) -> list[Submission]:
    """A problem's or a batch's submissions, or those of `ids`, oldest first, with their test
    results unless not wanted."""
    query = select(Submission).order_by(Submission.id)
    if with_tests:
        query = query.options(selectinload(Submission.tests))
    if problem_id is not None:
        query = query.where(Submission.problem_id == problem_id)
    if batch_id is not None:
        query = query.where(Submission.batch_id == batch_id)
    if ids is not None:
        query = query.where(Submission.id.in_(ids))
    return list(session.scalars(query))


def state_of(session: Session, submission_id: int) -> SubmissionState | None:
    """A submission's state alone (one column, no test rows), or None if there is no such submission."""
    return session.scalar(select(Submission.state).where(Submission.id == submission_id))


def count_by_state(session: Session) -> dict[str, int]:
    """How many submissions are in each state, every state named (0 where none)."""
    counts = {state.value: 0 for state in SubmissionState}
    for state, n in session.execute(select(Submission.state, func.count()).group_by(Submission.state)):
        counts[SubmissionState(state).value] = n
    return counts


def delete_submissions(session: Session, submission_ids: Iterable[int]) -> None:
    """Remove submissions that were stored but could not be queued (their tests go with them)."""
    for submission_id in submission_ids:
        submission = session.get(Submission, submission_id)
        if submission is not None:
            session.delete(submission)
    session.flush()


def list_submissions(
    session: Session,
    *,
    user_id: int | None,
    limit: int,
    before: int | None = None,
    problem_id: str | None = None,
) -> list[Submission]:
    """Newest first, `limit` at a time: one user's (None: everyone's), with ids below `before`,
    of one problem; without their test results."""
    query = select(Submission).order_by(Submission.id.desc()).limit(limit)
    if user_id is not None:
        query = query.where(Submission.user_id == user_id)
    if before is not None:
        query = query.where(Submission.id < before)
    if problem_id is not None:
        query = query.where(Submission.problem_id == problem_id)
    return list(session.scalars(query))


def submissions_with_names(
    session: Session, *, user_id: int | None, limit: int
) -> list[tuple[Submission, str | None]]:
    """The newest submissions, one user's (None: everyone's), each with its submitter's name."""
    query = (
        select(Submission, User.name)
        .outerjoin(User, User.id == Submission.user_id)
        .order_by(Submission.id.desc())
        .limit(limit)
    )
    if user_id is not None:
        query = query.where(Submission.user_id == user_id)
    return [(s, name) for s, name in session.execute(query).tuples()]


def deliveries_of(session: Session, submission_id: int) -> list[WebhookDelivery]:
    """Every webhook delivery attempt of a submission, oldest first."""
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.submission_id == submission_id)
            .order_by(WebhookDelivery.id)
        )
    )


def count_in_states(session: Session, states: Iterable[SubmissionState]) -> int:
    return (
        session.scalar(select(func.count()).select_from(Submission).where(Submission.state.in_(list(states))))
        or 0
    )


# The Judge0 API's submissions are those with a token (web/judge0.py).


def submission_by_token(session: Session, token: str) -> Submission | None:
    """The submission with this Judge0 token, its test results loaded, or None."""
    found = session.scalar(select(Submission.id).where(Submission.token == token))
    return get_submission(session, found) if found is not None else None


def count_with_token(session: Session) -> int:
    return (
        session.scalar(select(func.count()).select_from(Submission).where(Submission.token.is_not(None))) or 0
    )


def page_with_token(session: Session, *, offset: int, limit: int) -> list[Submission]:
    """Submissions with a token, newest first, from `offset`."""
    return list(
        session.scalars(
            select(Submission)
            .where(Submission.token.is_not(None))
            .order_by(Submission.id.desc())
            .offset(offset)
            .limit(limit)
        )
    )


def token_statistics(session: Session) -> list[Submission]:
    """What Judge0's statistics count of each submission with a token, as detached Submissions
    holding only language, options, state, verdict, signal and created_at."""
    rows = session.execute(
        select(
            Submission.language,
            Submission.options,
            Submission.state,
            Submission.verdict,
            Submission.signal,
            Submission.created_at,
        ).where(Submission.token.is_not(None))
    ).all()
    return [
        Submission(
            language=r.language,
            options=r.options,
            state=r.state,
            verdict=r.verdict,
            signal=r.signal,
            created_at=r.created_at,
        )
        for r in rows
    ]


def database_size(session: Session) -> int:
    """The database's size in bytes: PostgreSQL's pg_database_size, SQLite's pages."""
    if session.get_bind().dialect.name == "postgresql":
        return int(session.scalar(text("SELECT pg_database_size(current_database())")) or 0)
    pages = session.scalar(text("PRAGMA page_count")) or 0
    return int(pages) * int(session.scalar(text("PRAGMA page_size")) or 0)


# --- problems and batches ----------------------------------------------------------------------


def put_problem(
    session: Session, *, problem_id: str, name: str, path: str, time_limit_s: float, memory_mib: int
) -> Problem:
    """Add a problem, or point an existing one at a newly imported package (its report is reset)."""
    problem = session.get(Problem, problem_id)
    if problem is None:
        problem = Problem(id=problem_id)
        session.add(problem)
    problem.name, problem.path = name, path
    problem.time_limit_s, problem.memory_mib = time_limit_s, memory_mib
    problem.verify_report, problem.verify_ok, problem.verified_at = None, None, None
    session.flush()
    return problem


def put_package_archive(session: Session, *, problem_id: str, path: str, data: bytes) -> PackageArchive:
    """Keep an imported package version (zipped) for machines whose data directory lacks it."""
    archive = PackageArchive(
        path=path, problem_id=problem_id, data=data, sha256=hashlib.sha256(data).hexdigest()
    )
    session.add(archive)
    session.flush()
    return archive


def package_archive(session: Session, path: str) -> PackageArchive | None:
    return session.get(PackageArchive, path)


def delete_problem(session: Session, problem_id: str) -> int | None:
    """Remove a problem and what refers to it: its submissions (their tests and webhook deliveries
    go with them, ON DELETE CASCADE), its batches, its place in contests and its stored packages.
    None when there is no such problem, else how many submissions went. Refused (StorageError)
    while one of its submissions is queued or being graded: its grading would find nothing."""
    if session.get(Problem, problem_id) is None:
        return None
    counts = dict(
        session.execute(
            select(Submission.state, func.count())
            .where(Submission.problem_id == problem_id)
            .group_by(Submission.state)
        )
        .tuples()
        .all()
    )
    busy = sum(n for state, n in counts.items() if state != SubmissionState.DONE)
    if busy:
        raise StorageError(
            f"problem {problem_id!r} has {busy} submission(s) still queued or being "
            "graded; delete it once they are done"
        )
    session.execute(delete(Submission).where(Submission.problem_id == problem_id))
    session.execute(delete(Batch).where(Batch.problem_id == problem_id))
    session.execute(delete(Problem).where(Problem.id == problem_id))
    session.flush()
    return sum(counts.values())


def set_verify_report(session: Session, problem_id: str, *, report: str, ok: bool) -> Problem:
    problem = session.get(Problem, problem_id)
    if problem is None:
        raise StorageError(f"no problem {problem_id!r}")
    problem.verify_report, problem.verify_ok, problem.verified_at = report, ok, utcnow()
    session.flush()
    return problem


def list_problems(session: Session) -> list[Problem]:
    return list(session.scalars(select(Problem).order_by(Problem.id)))


def add_batch(session: Session, *, problem_id: str, user_id: int | None, name: str = "") -> Batch:
    batch = Batch(problem_id=problem_id, user_id=user_id, name=name)
    session.add(batch)
    session.flush()
    return batch


def get_problem(session: Session, problem_id: str) -> Problem | None:
    return session.get(Problem, problem_id)


def visible_problems(session: Session, *, staff: bool, now: datetime | None = None) -> list[Problem]:
    """The problems a user may open, by id: all for organisers; for contestants, those in no
    contest (practice) and those of a contest that has started. The API and the pages share it."""
    every = list_problems(session)
    if staff:
        return every
    now = now or datetime.now(UTC)
    starts: dict[str, list[datetime]] = {}
    for pid, start in session.execute(
        select(contest_problems.c.problem_id, Contest.starts_at).join(
            Contest, Contest.id == contest_problems.c.contest_id
        )
    ).tuples():
        starts.setdefault(pid, []).append(start)
    return [p for p in every if p.id not in starts or any(s <= now for s in starts[p.id])]


def get_batch(session: Session, batch_id: int) -> Batch | None:
    return session.get(Batch, batch_id)


def list_batches(session: Session) -> list[Batch]:
    """Every batch, newest first."""
    return list(session.scalars(select(Batch).order_by(Batch.id.desc())))


def delete_batch(session: Session, batch_id: int) -> None:
    """Remove a batch whose submissions could not be stored or queued."""
    batch = session.get(Batch, batch_id)
    if batch is not None:
        session.delete(batch)
        session.flush()


# --- contests and accounts ---------------------------------------------------------------------


def list_contests(session: Session) -> list[Contest]:
    """Every contest, the latest to start first."""
    return list(session.scalars(select(Contest).order_by(Contest.starts_at.desc())))


def get_contest(session: Session, contest_id: int) -> Contest | None:
    return session.get(Contest, contest_id)


def add_contest(
    session: Session,
    *,
    name: str,
    starts_at: datetime,
    ends_at: datetime,
    freeze_at: datetime | None,
    kind: str,
    problems: Sequence[Problem],
) -> Contest:
    contest = Contest(
        name=name,
        starts_at=starts_at,
        ends_at=ends_at,
        freeze_at=freeze_at,
        kind=kind,
        problems=list(problems),
    )
    session.add(contest)
    session.flush()
    return contest


def contest_attempts(session: Session, problem_ids: Sequence[str]) -> list[tuple[Submission, str]]:
    """Contestants' submissions to these problems, outside batches, each with its submitter's name:
    what a scoreboard counts."""
    query = (
        select(Submission, User.name)
        .join(User, User.id == Submission.user_id)
        .where(
            Submission.problem_id.in_(problem_ids),
            Submission.batch_id.is_(None),
            User.role == Role.CONTESTANT,
        )
    )
    return [(s, name) for s, name in session.execute(query).tuples()]


def contestant_names(session: Session) -> list[str]:
    return list(session.scalars(select(User.name).where(User.role == Role.CONTESTANT)))


def list_users(session: Session) -> list[User]:
    """Every account, by name."""
    return list(session.scalars(select(User).order_by(User.name)))


# --- webhook deliveries ------------------------------------------------------------------------


def log_delivery(
    session: Session,
    submission_id: int,
    *,
    url: str,
    attempt: int,
    ok: bool,
    status_code: int | None,
    error: str | None,
    duration_s: float,
) -> WebhookDelivery:
    delivery = WebhookDelivery(
        submission_id=submission_id,
        url=url,
        attempt=attempt,
        ok=ok,
        status_code=status_code,
        error=error,
        duration_s=duration_s,
    )
    session.add(delivery)
    session.flush()
    return delivery
