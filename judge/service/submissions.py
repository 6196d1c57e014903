"""Submissions in the service: checked, stored, queued, queued again; what the API and pages share.

The web (web/api/submissions.py, web/pages/contestant.py, web/judge0.py) parses a request into a
NewSubmission and calls `create`; it never writes a submission itself. A refusal is a Refused
(judge/errors.py) naming why: the web turns it into its HTTP status and error code.

`create` commits the submissions first and queues them after (judge/service/queue.py: a fair
share per user and class), so a worker never gets an id that is not stored yet; if the broker
cannot take them, they are deleted again and the refusal is `queue_unavailable`, so nothing is
left half-made. While the disk is nearly full (JUDGE_MIN_FREE_MB) nothing is stored
(`storage_full`). `rejudge` sets submissions back to queued (their old results cleared, their
generation raised: judge/storage/repo.py) and queues them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from celery import Celery
from sqlalchemy.orm import Session, sessionmaker

from judge import languages
from judge.errors import Refusal, Refused, UnknownLanguage
from judge.service import queue, webhooks
from judge.service.grade import AD_HOC_MEMORY_MIB, AD_HOC_TIME_S
from judge.service.settings import Settings
from judge.storage import repo
from judge.storage.models import STAFF_ROLES, Submission, SubmissionState, User

MAX_SOURCE_BYTES = 256 * 1024
MAX_STDIN_BYTES = 16 * 1024 * 1024
MAX_TIME_LIMIT_S = 30.0
MEMORY_LIMIT_MIB = (16, 4096)
AD_HOC_ONLY = ("stdin", "expected_output", "time_limit", "memory_limit")


class Services(Protocol):
    """What an operation needs of its caller: the settings, the database's sessions and the Celery
    client that queues tasks by name (the web's WebContext is one)."""

    settings: Settings
    sessions: sessionmaker[Session]
    celery: Celery


@dataclass(frozen=True, slots=True, kw_only=True)
class NewSubmission:
    """One submission to store: to a problem, or an ad hoc run (`stdin` instead of a problem).

    The fields are repo.add_submission's; `batch_id` and `label` place it in a batch
    (judge/service/batches.py), `token` and `options` are the Judge0 API's (web/judge0.py)."""

    language: str
    source: bytes
    user_id: int | None
    problem_id: str | None = None
    stdin: bytes | None = None
    expected_output: bytes | None = None
    time_limit_s: float | None = None
    memory_mib: int | None = None
    callback_url: str | None = None
    batch_id: int | None = None
    label: str | None = None
    token: str | None = None
    options: str | None = None

    @classmethod
    def from_json(cls, doc: dict[str, Any], user_id: int) -> NewSubmission:
        """The submission one JSON object of docs/contracts.md asks for (the API's body, the page's
        form as one); Refused when a field is wrong."""
        lang = doc.get("language")
        if not isinstance(lang, str):
            raise Refused(
                Refusal.INVALID_FIELD, "'language' is required: a language id (GET /api/v1/languages)"
            )
        try:
            languages.by_id(lang)
        except UnknownLanguage as e:
            raise Refused(Refusal.UNKNOWN_LANGUAGE, str(e)) from None
        source = _text(doc, "source", limit=MAX_SOURCE_BYTES, required=True)
        assert source is not None
        callback = doc.get("callback_url")
        if callback is not None:
            why = (
                webhooks.check_url(callback) if isinstance(callback, str) else "callback_url must be a string"
            )
            if why:
                raise Refused(Refusal.INVALID_FIELD, why)
        problem = doc.get("problem")
        if problem is not None:
            if not isinstance(problem, str):
                raise Refused(Refusal.INVALID_FIELD, "'problem' must be a problem id (GET /api/v1/problems)")
            extra = [k for k in AD_HOC_ONLY if k in doc]
            if extra:
                raise Refused(
                    Refusal.INVALID_FIELD, f"{', '.join(extra)}: only for ad hoc runs, not with 'problem'"
                )
            return cls(
                language=lang, source=source, user_id=user_id, callback_url=callback, problem_id=problem
            )
        if "stdin" not in doc:
            raise Refused(Refusal.INVALID_FIELD, "give 'problem', or 'stdin' for an ad hoc run")
        stdin = _text(doc, "stdin", limit=MAX_STDIN_BYTES, required=True)
        expected = _text(doc, "expected_output", limit=MAX_STDIN_BYTES)
        time_limit = _number(doc, "time_limit", 0.001, MAX_TIME_LIMIT_S) or AD_HOC_TIME_S
        memory = _number(doc, "memory_limit", *MEMORY_LIMIT_MIB)
        return cls(
            language=lang,
            source=source,
            user_id=user_id,
            callback_url=callback,
            stdin=stdin,
            expected_output=expected,
            time_limit_s=time_limit,
            memory_mib=int(memory) if memory is not None else AD_HOC_MEMORY_MIB,
        )


def _text(doc: dict[str, Any], key: str, *, limit: int, required: bool = False) -> bytes | None:
    value = doc.get(key)
    if value is None:
        if required:
            raise Refused(Refusal.INVALID_FIELD, f"{key!r} is required")
        return None
    if not isinstance(value, str):
        raise Refused(Refusal.INVALID_FIELD, f"{key!r} must be a string")
    data = value.encode("utf-8")
    if len(data) > limit:
        raise Refused(Refusal.TOO_LARGE, f"{key!r} is {len(data)} bytes; at most {limit} are taken")
    return data


def _number(doc: dict[str, Any], key: str, lo: float, hi: float) -> float | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise Refused(Refusal.INVALID_FIELD, f"{key!r} must be a number from {lo:g} to {hi:g}")
    return float(value)


def _check_problems(session: Session, wanted: Sequence[NewSubmission]) -> None:
    """`unknown_problem` for a problem that does not exist or that the submitter may not open yet
    (a contest's before it starts: repo.visible_problems), `problem_not_ready` for one still
    without a time limit."""
    open_ids: set[str] | None = None
    for new in wanted:
        pid = new.problem_id
        if pid is None:
            continue
        if open_ids is None:
            user = session.get(User, new.user_id) if new.user_id is not None else None
            staff = user is not None and user.role in STAFF_ROLES
            open_ids = {p.id for p in repo.visible_problems(session, staff=staff)}
        problem = repo.get_problem(session, pid)
        if problem is None or pid not in open_ids:
            raise Refused(Refusal.UNKNOWN_PROBLEM, f"no problem {pid!r}")
        if problem.time_limit_s <= 0:
            raise Refused(
                Refusal.PROBLEM_NOT_READY,
                f"problem {pid!r} states no time limit and is still "
                "being verified; try again when GET /api/v1/problems/{id} shows a time limit",
            )


def create(services: Services, wanted: Sequence[NewSubmission]) -> list[int]:
    """Store the submissions, then queue them (module docstring); their ids, in order."""
    short = services.settings.short_of_space()
    if short is not None:
        raise Refused(Refusal.STORAGE_FULL, short)
    with services.sessions.begin() as session:
        _check_problems(session, wanted)
        made = [repo.add_submission(session, **asdict(new)) for new in wanted]
        ids = [(s.id, s.language, s.user_id, "adhoc" if s.problem_id is None else "contest") for s in made]
    try:
        for sid, lang, user, kind in ids:  # a fair share per user and class: judge/service/queue.py
            queue.enqueue_grade(services.celery, sid, lang, 0, user=user, kind=kind)
    except Exception as e:  # kombu raises several kinds for a broker that is away
        with services.sessions.begin() as session:
            repo.delete_submissions(session, [sid for sid, *_ in ids])
        raise Refused(Refusal.QUEUE_UNAVAILABLE, f"the queue cannot take submissions now ({e})") from None
    return [sid for sid, *_ in ids]


def rejudge(services: Services, submissions: Sequence[tuple[int, str]]) -> None:
    """Rejudge (id, language) pairs: back to queued (the old result cleared), then queued again."""
    with services.sessions.begin() as session:
        sent = [
            (sid, lang, repo.set_state(session, sid, SubmissionState.QUEUED).generation)
            for sid, lang in submissions
        ]
    for sid, lang, generation in sent:
        queue.enqueue_grade(services.celery, sid, lang, generation, kind="rejudge")


def rejudge_submission(services: Services, submission_id: int) -> None:
    """Rejudge one submission; `not_found` when there is none."""
    with services.sessions() as session:
        sub = session.get(Submission, submission_id)
        if sub is None:
            raise Refused(Refusal.NOT_FOUND, f"no submission {submission_id}")
        target = (sub.id, sub.language)
    rejudge(services, [target])


def rejudge_all(
    services: Services, *, problem_id: str | None = None, batch_id: int | None = None
) -> list[int]:
    """Rejudge every submission of a problem or a batch (repo.submissions_of's filter); their ids."""
    with services.sessions() as session:
        found = repo.submissions_of(session, with_tests=False, problem_id=problem_id, batch_id=batch_id)
        targets = [(s.id, s.language) for s in found]
    rejudge(services, targets)
    return [sid for sid, _ in targets]


def rejudge_problem(services: Services, problem_id: str) -> list[int]:
    """Rejudge every submission to a problem; `unknown_problem` when there is no such problem."""
    with services.sessions() as session:
        if repo.get_problem(session, problem_id) is None:
            raise Refused(Refusal.UNKNOWN_PROBLEM, f"no problem {problem_id!r}")
    return rejudge_all(services, problem_id=problem_id)
