"""The judge's database: typed models, Alembic migrations, and a small repository API.

* models.py   the tables (SQLAlchemy 2, typed); string enums stored as their values
* db.py       connect(url) -> Engine, session_factory, migrate(url): schema via Alembic only
* repo.py     users and passwords, API tokens, submissions and their results
* migrations/ Alembic; alembic.ini here drives the `alembic` command line

Repository functions take a Session and flush; the caller owns the transaction and commits
(then queues work that refers to ids, so a worker never sees a row that is not there yet).
"""

from judge.storage.db import connect, default_url, migrate, session_factory

__all__ = ["connect", "default_url", "migrate", "session_factory"]
