"""`judge user add` and `judge token create` against a real SQLite database in a temporary data dir."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from judge import cli
from judge.storage import connect, migrate, session_factory
from judge.storage.models import Role, User
from judge.storage.repo import check_password, user_for_token


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("JUDGE_DATABASE_URL", raising=False)
    monkeypatch.setenv("JUDGE_DATA_DIR", str(tmp_path))
    return tmp_path


def judge(*args: str, stdin: str = "") -> Result:
    return CliRunner().invoke(cli.main, list(args), input=stdin, catch_exceptions=False)


def test_an_organiser_is_added_and_a_token_made_for_them(data_dir: Path) -> None:
    added = judge("user", "add", "alice", "--organiser", "--password-stdin", stdin="correct horse\n")
    assert added.exit_code == 0, added.output
    made = judge("token", "create", "alice")
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    engine = connect(f"sqlite:///{data_dir / 'judge.db'}")
    migrate(engine)
    try:
        with session_factory(engine).begin() as s:
            user = check_password(s, "alice", "correct horse")
            assert user is not None and user.role is Role.ORGANISER
            assert check_password(s, "alice", "wrong horse") is None
            owner = user_for_token(s, secret)
            assert isinstance(owner, User) and owner.name == "alice"
    finally:
        engine.dispose()


def test_refusals(data_dir: Path) -> None:
    assert judge("user", "add", "bob", "--password-stdin", stdin="short\n").exit_code == 1
    assert judge("user", "add", "bob", "--password-stdin", stdin="long enough\n").exit_code == 0
    again = judge("user", "add", "bob", "--password-stdin", stdin="long enough\n")
    assert again.exit_code == 1 and "exists already" in again.output
    missing = judge("token", "create", "nobody")
    assert missing.exit_code == 1 and "no user called 'nobody'" in missing.output


def test_scoped_tokens_listed_and_revoked(data_dir: Path) -> None:
    assert judge("user", "add", "carol", "--password-stdin", stdin="long enough\n").exit_code == 0
    made = judge("token", "create", "carol", "--scope", "read", "--scope", "submit")
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    assert judge("token", "create", "carol", "--scope", "everything").exit_code == 2
    listed = judge("token", "ls", "carol")
    assert listed.exit_code == 0
    (line,) = listed.stdout.splitlines()
    token_id, scopes = line.split("\t")[:2]
    assert scopes == "read submit"
    assert "revoked -" in line
    assert judge("token", "revoke", token_id).exit_code == 0
    assert "revoked 2" in judge("token", "ls", "carol").stdout  # the revocation's date
    engine = connect(f"sqlite:///{data_dir / 'judge.db'}")
    try:
        with session_factory(engine).begin() as s:
            assert user_for_token(s, secret) is None
    finally:
        engine.dispose()
    assert judge("token", "revoke", "999").exit_code == 1
