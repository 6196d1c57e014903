"""Which commits wait for the disk: every one, except a worker's steps on SQLite (judge/storage/db.py)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from judge.storage import connect, migrate, session_factory
from judge.storage.models import Role, SubmissionState
from judge.storage.repo import add_submission, claim, create_user, get_submission, record_result
from judge.verdict import Verdict


def _synchronous(url: str, *, durable: bool) -> int:
    engine = connect(url, durable=durable)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("PRAGMA synchronous")).scalar_one())
    finally:
        engine.dispose()


def test_sqlite_commits_are_synced_unless_the_engine_is_made_for_steps(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'judge.db'}"
    assert _synchronous(url, durable=True) == 2  # FULL: the log is synced at every commit
    assert _synchronous(url, durable=False) == 1  # NORMAL: written, synced by the next FULL commit


def test_a_claim_committed_by_the_steps_engine_is_what_the_durable_result_checks(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'judge.db'}"
    migrate(url)
    durable, steps = connect(url), connect(url, durable=False)
    try:
        sessions, step_sessions = session_factory(durable), session_factory(steps)
        with sessions.begin() as session:
            user = create_user(session, "ada", "pw", Role.CONTESTANT)
            sid = add_submission(session, user_id=user.id, language="c", source=b"int main(){}", stdin=b"").id
        with step_sessions.begin() as session:
            held = claim(session, sid, 0, "worker/1")
        assert held is not None
        with sessions.begin() as session:
            record_result(session, sid, verdict=Verdict.AC, claim=held)
        with sessions() as session:
            done = get_submission(session, sid)
            assert done is not None
            assert (done.state, done.verdict) == (SubmissionState.DONE, Verdict.AC)
            assert done.graded_by == "worker/1"
    finally:
        durable.dispose()
        steps.dispose()
