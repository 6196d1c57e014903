"""Alembic's entry point: runs the migrations online against one connection.

`judge.storage.migrate` passes its Engine in `config.attributes["engine"]`; the `alembic`
command line (with judge/storage/alembic.ini) uses `sqlalchemy.url` from the ini or `-x url=...`,
else the judge's default URL. SQLite gets batch mode, so later ALTERs work there too, with
foreign keys off while they run.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from judge.storage.db import connect, default_url
from judge.storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    given = config.attributes.get("engine")
    engine: Engine = (
        given
        if isinstance(given, Engine)
        else connect(
            context.get_x_argument(as_dictionary=True).get("url")
            or config.get_main_option("sqlalchemy.url")
            or default_url()
        )
    )
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # batch mode copies a table and drops the old one; with foreign keys on, that drop
            # fails (or cascades) for tables that others refer to. SQLite's own advice: turn
            # them off around the change. (Outside a transaction: inside, the pragma is ignored.)
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            connection.commit()  # end the autobegun transaction, so Alembic's own one commits
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys = ON")
            connection.commit()
    if engine is not given:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
run_migrations_online()
