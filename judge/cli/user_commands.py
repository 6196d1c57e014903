"""`judge user add NAME [--organiser] [--password-stdin]`, `judge token create USER [--scope S]`,
`judge token ls USER` and `judge token revoke ID`.

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

from ..service.accounts import MIN_PASSWORD
from ..storage import connect, default_url, migrate, session_factory
from ..storage.models import Role, User
from ..storage.repo import SCOPES, create_token, create_user, revoke_token, tokens_of


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
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(SCOPES),
    help="Limit the token to this (repeat for more); default: all the user may do.",
)
def create(user: str, scopes: tuple[str, ...]) -> None:
    """Print a new API token for USER (shown once; only its hash is kept)."""
    engine, sessions = _sessions()
    try:
        with sessions.begin() as s:
            owner = s.scalars(select(User).where(User.name == user)).one_or_none()
            if owner is None:
                _fail(f"no user called {user!r}; add one with `judge user add`")
            assert owner is not None
            _, secret = create_token(s, owner, scopes)
    finally:
        engine.dispose()
    click.echo(secret)


@token_group.command("ls")
@click.argument("user")
def list_tokens(user: str) -> None:
    """USER's tokens: id, scopes, when made, last used (to the minute) and revoked."""
    engine, sessions = _sessions()
    try:
        with sessions() as s:
            owner = s.scalars(select(User).where(User.name == user)).one_or_none()
            if owner is None:
                _fail(f"no user called {user!r}")
            assert owner is not None
            for t in tokens_of(s, owner):
                used = t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "never"
                revoked = t.revoked_at.strftime("%Y-%m-%d %H:%M") if t.revoked_at else "-"
                click.echo(
                    f"{t.id}\t{t.scopes or 'all'}\tmade {t.created_at:%Y-%m-%d %H:%M}\t"
                    f"used {used}\trevoked {revoked}"
                )
    finally:
        engine.dispose()


@token_group.command("revoke")
@click.argument("token_id", type=int)
def revoke(token_id: int) -> None:
    """Revoke the token TOKEN_ID (from `judge token ls`): it stops working at once."""
    engine, sessions = _sessions()
    try:
        with sessions.begin() as s:
            if not revoke_token(s, token_id):
                _fail(f"no token {token_id}")
    finally:
        engine.dispose()
    click.echo(f"revoked token {token_id}", err=True)
