"""Contests in the service: made by organisers, shown with their scoreboards.

The organisers' page (web/pages/organiser.py) checks its form and hands a NewContest to `create`;
the contest page asks `scoreboard` for a contest and its board, which judge/scoreboard.py computes
from the contestants' submissions (outside batches) loaded here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from judge import scoreboard
from judge.errors import Refusal, Refused
from judge.storage import repo
from judge.storage.models import Contest

KINDS = ("icpc", "scoring")


@dataclass(frozen=True, slots=True, kw_only=True)
class NewContest:
    """A contest to store; its problems by id. Times are aware UTC datetimes."""

    name: str
    starts_at: datetime
    ends_at: datetime
    freeze_at: datetime | None
    kind: str  # one of KINDS
    problem_ids: Sequence[str]


def create(sessions: sessionmaker[Session], new: NewContest) -> int:
    """Store the contest; its id. `unknown_problem` when one of its problems no longer exists."""
    with sessions.begin() as session:
        chosen = [repo.get_problem(session, pid) for pid in new.problem_ids]
        missing = [pid for pid, p in zip(new.problem_ids, chosen, strict=True) if p is None]
        if missing:
            raise Refused(Refusal.UNKNOWN_PROBLEM, f"no problem {missing[0]!r}")
        contest = repo.add_contest(
            session,
            name=new.name[:200],
            starts_at=new.starts_at,
            ends_at=new.ends_at,
            freeze_at=new.freeze_at,
            kind=new.kind,
            problems=[p for p in chosen if p is not None],
        )
        return contest.id


def scoreboard_of(
    sessions: sessionmaker[Session], contest_id: int, *, now: datetime, full: bool
) -> tuple[Contest, scoreboard.Scoreboard] | None:
    """A contest (detached) and its scoreboard as of `now`, everything shown when `full` (an
    organiser); None when there is no such contest."""
    with sessions() as session:
        found = repo.get_contest(session, contest_id)
        if found is None:
            return None
        problem_ids = [p.id for p in found.problems]
        attempts = [
            scoreboard.Attempt(
                team=name,
                problem=s.problem_id or "",
                at=s.created_at,
                verdict=s.verdict.value if s.verdict else None,
                score=s.score,
            )
            for s, name in repo.contest_attempts(session, problem_ids)
        ]
        board = scoreboard.build(
            kind=found.kind,
            problems=problem_ids,
            teams=repo.contestant_names(session),
            attempts=attempts,
            start=found.starts_at,
            end=found.ends_at,
            freeze=found.freeze_at,
            now=now,
            full=full,
        )
        return found, board
