"""Engines, sessions and schema upgrades for the judge's database.

`connect(url)` makes an Engine; `session_factory(engine)` a sessionmaker; `migrate(url)` brings
the schema to the newest Alembic revision (the only way tables are made: there is no
`create_all` outside tests). The URL defaults to `JUDGE_DATABASE_URL`, else SQLite at
`$JUDGE_DATA_DIR/judge.db` (`JUDGE_DATA_DIR` defaults to `./judge-data`), as docs/contracts.md says.

SQLite gets, on every new connection: foreign keys on (SQLite leaves them off by default), WAL
journal mode (readers do not block the writer; web and workers share one file) and a busy
timeout, so a second writer waits instead of failing at once.

Durability. Every commit is on the disk when it returns (SQLite's default in WAL mode,
`synchronous = FULL`: an fsync of the log per commit, 2 to 8 ms on this project's VM), except
on an engine made with `durable=False`, for a worker's steps that nothing is decided on
(judge/service/grade.py: the claim, `running`). On SQLite those commit with `synchronous =
NORMAL`: the log is written but not synced, so an application crash loses none of them, and
an operating system crash or power cut loses at most the last ones, in order, never one
without those after it. The next durable commit, from any connection or process, syncs the
whole log, so a verdict that is on the disk has its claim on the disk too. SQLite is one
machine's database, so what could lose them takes the workers and the embedded Redis down
with it, and a claim that is gone leaves its submission queued, to be graded (once) again.
Other databases (PostgreSQL, shared by several machines, whose crash a worker survives) are
always durable: a lost claim there would leave a submission queued with its task spent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5000


def default_url() -> str:
    """`JUDGE_DATABASE_URL`, else SQLite at `$JUDGE_DATA_DIR/judge.db` (judge/service/settings.py)."""
    from judge.service.settings import Settings  # not at the top: settings is above storage

    return Settings.from_env().database_url


def _on_sqlite_connect(dbapi_connection: Any, _record: Any, *, durable: bool = True) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")  # in-memory databases answer "memory"; harmless
        cursor.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")  # the module docstring
    finally:
        cursor.close()


def _on_sqlite_connect_relaxed(dbapi_connection: Any, record: Any) -> None:
    _on_sqlite_connect(dbapi_connection, record, durable=False)


def connect(url: str | None = None, *, durable: bool = True, **kwargs: Any) -> Engine:
    """An Engine for `url` (default: `default_url()`); for a SQLite file, its directory is made.

    `durable=False`: on SQLite, commits that do not wait for the disk (the module docstring);
    elsewhere the same as durable."""
    parsed = make_url(url or default_url())
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _on_sqlite_connect if durable else _on_sqlite_connect_relaxed)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (the web answers from them)."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic's config without an ini file, so it works from an installed package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def migrate(url_or_engine: str | Engine | None = None, revision: str = "head") -> None:
    """Upgrade the schema to `revision` (default: the newest). Safe to run again: a no-op then."""
    engine = url_or_engine if isinstance(url_or_engine, Engine) else connect(url_or_engine)
    try:
        command.upgrade(alembic_config(engine), revision)
    finally:
        if engine is not url_or_engine:
            engine.dispose()
