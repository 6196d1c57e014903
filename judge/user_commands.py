"""`judge user add NAME [--organiser] [--password-stdin]` and `judge token create USER`.

Accounts live in the database (judge/storage; `JUDGE_DATABASE_URL`, else SQLite under
`JUDGE_DATA_DIR`), which is created or upgraded first. Without --password-stdin the password
is asked for twice on a terminal, never echoed; with it, the first line of stdin is the
password (for scripts). A token's secret is printed once, on stdout alone, and only its hash
is kept. Exit codes: 0 done, 1 refused (a taken name, an unknown user, a short password).
"""

from __future__ import annotations

import sys

import click
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from .storage import connect, default_url, migrate, session_factory
from .storage.models import Role, User
from .storage.repo import create_token, create_user

MIN_PASSWORD = 8


def _sessions() -> tuple[Engine, sessionmaker[Session]]:
    engine = connect(default_url())
    migrate(engine)
    return engine, session_factory(engine)


def _fail(message: str) -> None:
    click.echo(f"judge: {message}", err=True)
    sys.exit(1)


@click.group("user")
def user_group() -> None:
    """Accounts: contestants and organisers."""


@user_group.command("add")
@click.argument("name")
@click.option("--organiser", is_flag=True, help="May import problems, grade batches and rejudge.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def add(name: str, organiser: bool, password_stdin: bool) -> None:
    """Create the account NAME."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD:
        _fail(f"the password must have at least {MIN_PASSWORD} characters")
    engine, sessions = _sessions()
    try:
        with sessions.begin() as s:
            create_user(s, name, password, Role.ORGANISER if organiser else Role.CONTESTANT)
    except IntegrityError:
        _fail(f"a user called {name!r} exists already")
    finally:
        engine.dispose()
    click.echo(f"added {'organiser' if organiser else 'contestant'} {name}", err=True)


@click.group("token")
def token_group() -> None:
    """API tokens (Authorization: Bearer TOKEN)."""


@token_group.command("create")
@click.argument("user")
def create(user: str) -> None:
    """Print a new API token for USER (shown once; only its hash is kept)."""
    engine, sessions = _sessions()
    try:
        with sessions.begin() as s:
            owner = s.scalars(select(User).where(User.name == user)).one_or_none()
            if owner is None:
                _fail(f"no user called {user!r}; add one with `judge user add`")
            assert owner is not None
            _, secret = create_token(s, owner)
    finally:
        engine.dispose()
    click.echo(secret)
