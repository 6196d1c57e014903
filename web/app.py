"""The Flask application: `create_app()` wires the JSON API (and later the pages) to the service.

The pages (web/pages/) and the JSON API (web/api/) share the app: pages log in with a session
cookie and carry CSRF tokens in their forms; the API uses bearer tokens and is exempt from CSRF.
One WebContext per app holds what requests share: the settings, a database engine and its
sessions, a Redis client (progress events, workers, queue lengths) and the Celery client that
queues tasks by name (judge/service/queue.py; the web never imports the worker's code).
Rate limits (web/ratelimit.py) count in the same Redis, so every web process shares them.
The schema is migrated when the app is made; `judge serve` makes it before the workers start.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, request
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

from judge.service import queue
from judge.service.settings import MAX_UPLOAD_BYTES, Settings
from judge.storage import connect, migrate, session_factory
from web.context import WebContext
from web.holds import HoldLimits

log = logging.getLogger(__name__)

MiB = 1024 * 1024
MAX_BODY_BYTES = 1 * MiB  # any route not named below: forms, small JSON documents
MAX_SUBMISSION_BODY_BYTES = 40 * MiB  # a source, 16 MiB of stdin and 16 MiB expected, or Judge0's files
# Each route reads at most its own bytes (issue 17, finding 4; web/api/body.py bounds parsing too)
BODY_LIMITS = {
    "api.post_submission": MAX_SUBMISSION_BODY_BYTES,
    "api.post_submissions_batch": MAX_SUBMISSION_BODY_BYTES,
    "judge0.create_submission": MAX_SUBMISSION_BODY_BYTES,
    "judge0.create_batch": MAX_SUBMISSION_BODY_BYTES,
    "api.post_problem": MAX_UPLOAD_BYTES,
    "api.create_batch": MAX_UPLOAD_BYTES,
    "pages.upload_problem": MAX_UPLOAD_BYTES,
    "pages.upload_batch": MAX_UPLOAD_BYTES,
}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'"
)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    engine = connect(settings.database_url)
    migrate(engine)
    app = Flask("web")
    secret = settings.secret_key()
    app.config.update(SECRET_KEY=secret, MAX_CONTENT_LENGTH=MAX_BODY_BYTES)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # documents keep their documented order
    app.extensions["judge_holds"] = HoldLimits.from_env()
    app.extensions["judge"] = WebContext(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        redis=queue.redis_client(settings.redis_url),
        celery=queue.client(settings.redis_url),
        secret_key=secret,
    )
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
    )  # a token lives as long as the session
    # every <int:...> in a route stops at the database's integers: a larger id is a 404, not a
    # query that overflows (web/api's own routes say so with ID too)
    app.url_map.converters["int"] = _DatabaseId
    from web.api import blueprint as api
    from web.judge0 import blueprint as judge0
    from web.metrics import blueprint as metrics
    from web.pages import blueprint as pages
    from web.pages.auth import login_manager

    app.register_blueprint(api)
    app.register_blueprint(pages)
    app.register_blueprint(judge0, url_prefix=Settings.from_env().judge0_prefix)  # the environment's, as ever
    app.register_blueprint(metrics)  # GET /metrics, for Prometheus
    login_manager.init_app(app)
    csrf = CSRFProtect(app)
    csrf.exempt(api)  # bearer tokens, no cookies: nothing for a forged cross-site request to ride on
    csrf.exempt(judge0)  # likewise (X-Auth-Token)
    from web import ratelimit

    ratelimit.init_app(app, settings.redis_url)  # after CSRF: a forged form is refused before it counts
    hops = proxy_hops()
    if hops:  # behind a TLS proxy: the client's address is the one the proxy says it saw
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.url_value_preprocessor(_body_limit)  # before any before_request (CSRF reads the form)
    app.after_request(_security_headers)
    app.register_error_handler(OperationalError, _database_away)
    app.register_error_handler(InterfaceError, _database_away)
    return app


def proxy_hops() -> int:
    """`JUDGE_PROXY_HOPS`: how many proxies in front of the web set X-Forwarded-For (default 0).

    Without it, every request seems to come from the proxy, so the per-address limits (failed
    logins, requests without a token: web/ratelimit.py) would count everyone together. Set it
    only behind proxies that overwrite these headers: a client could forge them otherwise."""
    raw = Settings.from_env().proxy_hops_raw or "0"
    try:
        hops = int(raw)
    except ValueError:
        raise ValueError(f"JUDGE_PROXY_HOPS must be a whole number of proxies, not {raw!r}") from None
    if not 0 <= hops <= 10:
        raise ValueError(f"JUDGE_PROXY_HOPS must be 0 to 10, not {hops}")
    return hops


class _DatabaseId(IntegerConverter):
    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def _database_away(e: Exception) -> Response:
    """The pages when the database is locked or away (the JSON API and the Judge0 API have
    their own, web/api/errors.py and web/judge0.py): 503 with Retry-After, JSON where the
    client asks for JSON (a submission page's .json)."""
    from web.api.errors import error_response

    log.warning("the database is unavailable: %s", str(getattr(e, "orig", None) or e).splitlines()[0])
    message = "the database is unavailable; try again in a few seconds"
    if request.path.endswith(".json") or request.accept_mimetypes.best == "application/json":
        response = error_response(503, "database_unavailable", message)
    else:
        response = Response(
            f"<!doctype html><title>503</title><p>{message}.</p>",
            status=503,
            content_type="text/html; charset=utf-8",
        )
    response.headers["Retry-After"] = "5"
    return response


def _body_limit(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """The most this request's body may be: its route's (BODY_LIMITS), else MAX_BODY_BYTES; 413 past it."""
    request.max_content_length = BODY_LIMITS.get(endpoint or "", MAX_BODY_BYTES)


def _security_headers(response: Response) -> Response:
    """Every page: only this site's own scripts, styles, images and frames; no framing elsewhere."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
