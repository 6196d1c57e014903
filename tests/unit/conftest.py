"""Fixtures the unit tests share: a database on each backend, an embedded Redis, and web apps.

Storage fixtures come in one chain, `database_url` -> `engine` -> `sessions`: SQLite always, and
PostgreSQL as well when JUDGE_TEST_POSTGRES_URL names one (.ci/run starts a throwaway one); the
engine is migrated to the head and, after the test, back to the base, which leaves a shared
PostgreSQL empty. A module whose tests are about something else (metrics, archives) overrides
`sessions` with tests/conftest.py's plain `sqlite_sessions`.

`make_app` is the web's app factory on a SQLite file under tmp_path and a Redis that
is away unless a URL is given (the rate limits fail open, as in production); `app` is one such
app. (`redis_url`, `sqlite_sessions` and `wait_until` are every folder's: tests/conftest.py.)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic import command
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from judge.service.settings import Settings
from judge.storage import connect, migrate, session_factory
from judge.storage.db import alembic_config

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("JUDGE_TEST_POSTGRES_URL") else [])


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'judge.db'}"
    return os.environ["JUDGE_TEST_POSTGRES_URL"]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = connect(database_url)
    migrate(engine)
    yield engine
    command.downgrade(alembic_config(engine), "base")  # leaves a shared PostgreSQL empty
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


AWAY_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., Flask]:
    def make(redis_url: str = AWAY_REDIS_URL) -> Flask:
        from web.app import create_app  # not at the top: most unit tests need no web

        return create_app(
            Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/j.db", redis_url=redis_url)
        )

    return make


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()
