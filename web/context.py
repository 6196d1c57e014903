"""What a request reaches of its app: the WebContext and the hold limits, through current_app.

A leaf module, as Flask's tutorial keeps its `get_db`: views and helpers import their accessor
from here, never from web/app.py, so nothing imports the app factory but its callers (wsgi,
web/main.py, tests). create_app (web/app.py) makes one WebContext per app and stores it in
`app.extensions["judge"]`, and the hold limits in `app.extensions["judge_holds"]`.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis
from celery import Celery
from flask import current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from judge.service.settings import Settings
from web.holds import HoldLimits


@dataclass
class WebContext:
    """What requests share: the settings, a database engine and its sessions, a Redis client
    (progress events, workers, queue lengths) and the Celery client that queues tasks by name."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    redis: redis.Redis
    celery: Celery
    secret_key: str


def context() -> WebContext:
    ctx = current_app.extensions["judge"]
    assert isinstance(ctx, WebContext)
    return ctx


def hold_limits() -> HoldLimits:
    """How many event streams and waits one user may hold open (web/holds.py)."""
    limits = current_app.extensions["judge_holds"]
    assert isinstance(limits, HoldLimits)
    return limits
