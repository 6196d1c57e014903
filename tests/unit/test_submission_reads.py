"""The web's lighter reads: a submission's state alone, and several submissions in one query."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from judge.storage.models import Role, SubmissionState
from judge.storage.repo import add_submission, create_user, set_state, state_of, submissions_of


def test_state_of_is_the_state_alone_or_none(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        user = create_user(session, "ada", "pw", Role.CONTESTANT)
        sid = add_submission(session, user_id=user.id, language="c", source=b"", stdin=b"").id
    with sessions.begin() as session:
        assert state_of(session, sid) is SubmissionState.QUEUED
        set_state(session, sid, SubmissionState.RUNNING)
    with sessions() as session:
        assert state_of(session, sid) is SubmissionState.RUNNING
        assert state_of(session, sid + 1) is None


def test_submissions_of_ids_are_those_oldest_first(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        user = create_user(session, "ada", "pw", Role.CONTESTANT)
        ids = [
            add_submission(session, user_id=user.id, language="c", source=b"", stdin=b"").id for _ in range(4)
        ]
    with sessions() as session:
        assert [s.id for s in submissions_of(session, ids=[ids[3], ids[1]])] == [ids[1], ids[3]]
        assert submissions_of(session, ids=[]) == []
