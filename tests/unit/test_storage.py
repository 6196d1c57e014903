"""The storage layer against a real database, its schema made by the real Alembic migration.

Every test runs on SQLite in tmp_path; when JUDGE_TEST_POSTGRES_URL is set, also on that
PostgreSQL database (which each test leaves empty again by downgrading to base).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from judge.storage import connect, default_url, migrate
from judge.storage.db import alembic_config
from judge.storage.models import (
    ApiToken,
    Base,
    Contest,
    Problem,
    Role,
    Submission,
    SubmissionState,
    TestResult,
    User,
)
from judge.storage.repo import (
    StorageError,
    TestOutcome,
    add_submission,
    check_password,
    create_token,
    create_user,
    get_submission,
    hash_password,
    record_result,
    revoke_token,
    set_state,
    token_hash,
    user_for_token,
    verify_password,
)
from judge.verdict import Verdict

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def outcome(index: int, verdict: Verdict = Verdict.AC, **kw: object) -> TestOutcome:
    fields: dict[str, object] = dict(
        name=f"secret/{index}", time_s=0.1 * index, wall_s=0.2 * index, memory_bytes=1 << 20
    )
    fields.update(kw)
    return TestOutcome(index=index, verdict=verdict, **fields)  # type: ignore[arg-type]


# --- schema ----------------------------------------------------------------------------------


def test_migration_matches_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diffs == []


def test_migrate_again_is_a_no_op_and_lands_on_head(engine: Engine) -> None:
    migrate(engine)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == HEAD
    assert set(inspect(engine).get_table_names()) >= {
        "users",
        "api_tokens",
        "problems",
        "contests",
        "contest_problems",
        "submissions",
        "test_results",
        "batches",
        "webhook_deliveries",
    }


def test_migrate_by_url_makes_the_data_directory(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'dir' / 'judge.db'}"
    migrate(url)
    assert (tmp_path / "new" / "dir" / "judge.db").is_file()
    engine = connect(url)
    assert "submissions" in inspect(engine).get_table_names()
    engine.dispose()


def test_default_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("JUDGE_DATABASE_URL", raising=False)
    monkeypatch.setenv("JUDGE_DATA_DIR", str(tmp_path))
    assert default_url() == f"sqlite:///{tmp_path / 'judge.db'}"
    monkeypatch.setenv("JUDGE_DATABASE_URL", "postgresql://judge@db/judge")
    assert default_url() == "postgresql://judge@db/judge"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'judge.db'}")
    migrate(engine)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


def test_foreign_keys_are_enforced(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(IntegrityError), sessions.begin() as s:
        add_submission(s, language="python3", source=b"print(1)", problem_id="no-such-problem")
    with pytest.raises(IntegrityError), sessions.begin() as s:
        s.add(ApiToken(user_id=12345, token_hash="0" * 64))


def test_deleting_a_submission_deletes_its_tests_in_the_database(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        sub = add_submission(s, language="c", source=b"", stdin=b"")
        record_result(s, sub.id, verdict=Verdict.AC, tests=[outcome(0), outcome(1)])
        sid = sub.id
    with sessions.begin() as s:
        s.execute(Submission.__table__.delete().where(Submission.__table__.c.id == sid))
    with sessions() as s:
        assert s.scalars(select(TestResult)).all() == []


# --- round trips -----------------------------------------------------------------------------


def test_models_round_trip(sessions: sessionmaker[Session]) -> None:
    start = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    with sessions.begin() as s:
        hello = Problem(id="hello", name="Hello", path="problems/hello", time_limit_s=1.5, memory_mib=256)
        s.add(Contest(name="Spring", starts_at=start, ends_at=start + timedelta(hours=5), problems=[hello]))
        user = create_user(s, "ada", "pw", Role.ORGANISER)
        sub = add_submission(
            s,
            user_id=user.id,
            problem_id="hello",
            language="cpp",
            source=b"\x00\xffint main(){}",
            callback_url="https://example.org/cb",
        )
        sid = sub.id
    with sessions() as s:
        got = s.get(Submission, sid)
        assert got is not None
        assert (got.source, got.problem_id, got.user_id, got.state) == (
            b"\x00\xffint main(){}",
            "hello",
            user.id,
            SubmissionState.QUEUED,
        )
        assert got.verdict is None and got.stdin is None and got.callback_url == "https://example.org/cb"
        assert got.created_at.tzinfo is not None and got.created_at <= datetime.now(UTC)
        contest = s.scalars(select(Contest)).one()
        assert contest.starts_at == start and [p.id for p in contest.problems] == ["hello"]
        assert contest.problems[0].time_limit_s == 1.5
        ada = s.scalars(select(User).where(User.name == "ada")).one()
        assert ada.role is Role.ORGANISER
        # stored as the enum's value, as plain text
        assert s.execute(text("SELECT role FROM users")).scalar() == "organiser"
        assert s.execute(text("SELECT state FROM submissions")).scalar() == "queued"


def test_ad_hoc_run_needs_stdin(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        sub = add_submission(
            s,
            language="python3",
            source=b"print(input())",
            stdin=b"hi\n",
            expected_output=b"hi\n",
            time_limit_s=2.0,
            memory_mib=128,
        )
        assert sub.problem_id is None and sub.user_id is None
    with pytest.raises(StorageError), sessions.begin() as s:
        add_submission(s, language="python3", source=b"")
    with pytest.raises(IntegrityError), sessions.begin() as s:  # the CHECK, behind the repository
        s.add(Submission(language="python3", source=b""))


def test_user_names_are_unique(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        create_user(s, "ada", "x")
    with pytest.raises(IntegrityError), sessions.begin() as s:
        create_user(s, "ada", "y")


def test_naive_datetimes_are_refused(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(Exception, match="naive datetime"), sessions.begin() as s:
        s.add(Contest(name="c", starts_at=datetime(2026, 1, 1), ends_at=datetime(2026, 1, 2)))


# --- passwords and tokens --------------------------------------------------------------------


def test_password_hash_format_and_salt() -> None:
    first, second = hash_password("hunter2"), hash_password("hunter2")
    assert first != second  # a fresh salt each time
    scheme, n, r, p, salt, key = first.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1") and salt and key
    assert verify_password("hunter2", first) and verify_password("hunter2", second)
    assert not verify_password("hunter3", first)
    assert not verify_password("hunter2", "garbage") and not verify_password("hunter2", "scrypt$1$2$3$!$!")


def test_check_password(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        create_user(s, "ada", "correct horse")
    with sessions() as s:
        user = check_password(s, "ada", "correct horse")
        assert user is not None and user.name == "ada"
        assert "correct horse" not in user.password_hash
        assert check_password(s, "ada", "wrong horse") is None
        assert check_password(s, "nobody", "correct horse") is None


def test_tokens_store_only_the_hash(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        user = create_user(s, "ada", "pw")
        token, secret = create_token(s, user, scopes=["submit", "read", "submit"])
        tid = token.id
    with sessions() as s:
        row = s.execute(text("SELECT token_hash, scopes, last_used_at FROM api_tokens")).one()
        assert row.token_hash == token_hash(secret) and secret not in row
        assert row.scopes == "read submit" and row.last_used_at is None
    with sessions.begin() as s:
        owner = user_for_token(s, secret)
        assert owner is not None and owner.name == "ada"
        assert user_for_token(s, secret + "x") is None
    with sessions() as s:
        token = s.get(ApiToken, tid)
        assert token is not None and token.last_used_at is not None
        assert token.scope_set == {"read", "submit"}


def test_revoked_tokens_are_rejected(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        user = create_user(s, "ada", "pw")
        token, secret = create_token(s, user)
        _, other_secret = create_token(s, user)
    with sessions.begin() as s:
        assert revoke_token(s, token.id)
        assert revoke_token(s, token.id)  # again: still revoked, no error
        assert not revoke_token(s, 999)
    with sessions.begin() as s:
        assert user_for_token(s, secret) is None
        assert user_for_token(s, other_secret) is not None  # only that token


# --- submissions -----------------------------------------------------------------------------


def test_state_transitions(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        sid = add_submission(s, language="c", source=b"", stdin=b"").id
    with sessions.begin() as s:
        sub = set_state(s, sid, SubmissionState.COMPILING)
        assert sub.started_at is not None and sub.finished_at is None
        started = sub.started_at
        assert set_state(s, sid, SubmissionState.RUNNING).started_at == started
        with pytest.raises(StorageError, match="record_result"):
            set_state(s, sid, SubmissionState.DONE)
        with pytest.raises(StorageError, match="no submission"):
            set_state(s, 999, SubmissionState.RUNNING)
        record_result(
            s, sid, verdict=Verdict.WA, time_s=0.5, memory_bytes=1000, tests=[outcome(0, Verdict.WA)]
        )
    with sessions.begin() as s:
        sub = set_state(s, sid, SubmissionState.QUEUED)  # a rejudge clears the old result
        assert (sub.verdict, sub.time_s, sub.finished_at, sub.started_at) == (None, None, None, None)
    with sessions() as s:
        got = get_submission(s, sid)
        assert got is not None and got.state is SubmissionState.QUEUED and got.tests == []


def test_redelivered_task_after_done_clears_the_shown_verdict(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        sid = add_submission(s, language="c", source=b"", stdin=b"").id
        record_result(s, sid, verdict=Verdict.AC, tests=[outcome(0)])
    with sessions.begin() as s:
        sub = set_state(s, sid, SubmissionState.RUNNING)
        assert sub.verdict is None and sub.state is SubmissionState.RUNNING


def test_record_result_twice_overwrites(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        sid = add_submission(s, language="c", source=b"", stdin=b"").id
        set_state(s, sid, SubmissionState.RUNNING)
    with sessions.begin() as s:
        record_result(
            s,
            sid,
            verdict=Verdict.TLE,
            score=0.0,
            time_s=2.0,
            memory_bytes=10,
            compile_output="warning: x",
            tests=[outcome(0), outcome(1), outcome(2, Verdict.TLE)],
        )
    with sessions.begin() as s:  # the same task, delivered again, grades again
        record_result(
            s,
            sid,
            verdict=Verdict.AC,
            score=100.0,
            time_s=0.3,
            memory_bytes=20,
            tests=[outcome(0), outcome(1, message="fine", score=50.0)],
        )
    with sessions() as s:
        got = get_submission(s, sid)
        assert got is not None
        assert (got.state, got.verdict, got.score, got.time_s, got.memory_bytes, got.compile_output) == (
            SubmissionState.DONE,
            Verdict.AC,
            100.0,
            0.3,
            20,
            None,
        )
        assert got.finished_at is not None and got.started_at is not None
        assert [(t.index, t.verdict, t.message, t.score) for t in got.tests] == [
            (0, Verdict.AC, None, None),
            (1, Verdict.AC, "fine", 50.0),
        ]
        assert got.tests[1].wall_s == pytest.approx(0.2) and got.tests[1].memory_bytes == 1 << 20
        assert s.execute(text("SELECT count(*) FROM test_results")).scalar() == 2


def test_record_result_in_one_session_twice(sessions: sessionmaker[Session]) -> None:
    """Overwriting works inside one transaction too: old rows go before new ones take their index."""
    with sessions.begin() as s:
        sid = add_submission(s, language="c", source=b"", stdin=b"").id
        record_result(s, sid, verdict=Verdict.WA, tests=[outcome(0, Verdict.WA), outcome(1)])
        sub = record_result(s, sid, verdict=Verdict.AC, tests=[outcome(1), outcome(0)])
        assert [t.index for t in sub.tests] == [1, 0]
    with sessions() as s:
        got = get_submission(s, sid)
        assert got is not None and [t.index for t in got.tests] == [0, 1]


def test_record_result_refuses_repeated_indices(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        sid = add_submission(s, language="c", source=b"", stdin=b"").id
        with pytest.raises(StorageError, match="repeat"):
            record_result(s, sid, verdict=Verdict.AC, tests=[outcome(0), outcome(0)])


def test_get_submission_unknown(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        assert get_submission(s, 42) is None
