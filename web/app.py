"""The Flask application: `create_app()` wires the JSON API (and later the pages) to the service.

One WebContext per app holds what requests share: the settings, a database engine and its
sessions, a Redis client (progress events, workers, queue lengths) and the Celery client that
queues tasks by name (judge/service/queue.py; the web never imports the worker's code).
The schema is migrated when the app is made; `judge serve` makes it before the workers start.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis
from celery import Celery
from flask import Flask, current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from judge.service import queue
from judge.service.settings import Settings
from judge.storage import connect, migrate, session_factory

MAX_UPLOAD_BYTES = 256 * 1024 * 1024  # a problem package or a batch archive


@dataclass
class WebContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    redis: redis.Redis
    celery: Celery
    secret_key: str


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    engine = connect(settings.database_url)
    migrate(engine)
    app = Flask("web")
    secret = settings.secret_key()
    app.config.update(SECRET_KEY=secret, MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # documents keep their documented order
    app.extensions["judge"] = WebContext(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        redis=queue.redis_client(settings.redis_url),
        celery=queue.client(settings.redis_url),
        secret_key=secret,
    )
    from web.api import blueprint

    app.register_blueprint(blueprint)
    return app


def context() -> WebContext:
    ctx = current_app.extensions["judge"]
    assert isinstance(ctx, WebContext)
    return ctx
