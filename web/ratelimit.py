"""Rate limits: flask-limiter, counting in the service's Redis, so every web process shares the counts.

Four limits, each an environment variable holding a rate in flask-limiter's notation ("30/minute",
"5/second;100/hour"); "off" (or empty) turns that one off. They are read when the app is made.

* `JUDGE_RATE_LIMIT_SUBMIT` (default 30/minute): submissions per user, whichever way they come:
  `POST /api/v1/submissions` and `/submissions/batch`, the Judge0 API's `POST /submissions` and
  `/submissions/batch`, and the submit form. A batch counts each of its items. Only submissions
  made count (a 2xx or the form's redirect): a refused one (422, 404, 503, a failed CSRF check)
  costs nothing, so concurrent requests may pass a few over the limit.
* `JUDGE_RATE_LIMIT_API` (default 600/minute): requests per token to /api/v1 and the Judge0
  API, every route together. Requests without a good token count by client address.
* `JUDGE_RATE_LIMIT_PAGES` (default 600/minute): page requests per logged-in user (a
  submission's page polls once a second where server-sent events fail).
* `JUDGE_RATE_LIMIT_LOGIN` (default 20/minute): failed logins per client address, against
  password guessing. Once they are spent the form refuses every login from that address, a
  right password too, until the oldest failure leaves the window.

Organisers and admins are exempt from all but the login limit: `judge bench load`, batches and
imports go through their tokens, and they run the contest. A user is counted by id, a token by
id, an address as the web sees it (behind a proxy that is the proxy's: see the README).
Windows move (limits' "moving-window"): never more than N in any stretch of the period.

The answer is 429 with `Retry-After` (whole seconds until the oldest counted request leaves the
window, at least 1): on /api/v1 and /judge0 the API's error body, `{"error": {"code":
"rate_limited", "message"}}` (Judge0 has no 429 shape of its own to copy); on the pages, the
login form again or a short page, saying when to try again.

Redis away: the limiter fails open to counting in each process's memory (flask-limiter's
in-memory fallback, back to Redis when it answers again, checked with a growing interval), and
never answers 500 itself. Not 503: reading results, the pages and logging in need only the
database, so refusing everything would turn a broker outage into a whole-site one; what needs
Redis (submitting, waiting) answers its own 503 `queue_unavailable`. Meanwhile a limit holds
per process rather than for the site.

No key holds a secret: flask-limiter logs the key of every breach, and keys sit in Redis.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

from flask import Flask, Response, flash, g, render_template, render_template_string, request
from flask_limiter import ApplicationLimit, Limiter, RateLimitExceeded
from flask_login import current_user
from limits import parse_many
from sqlalchemy.exc import SQLAlchemyError

from web.api.auth import STAFF, token_caller
from web.api.errors import error_response

log = logging.getLogger(__name__)

TOKEN_BLUEPRINTS = frozenset({"api", "judge0"})
SUBMITTING = frozenset({"api.post_submission", "api.post_submissions_batch", "judge0.create_submission",
                        "judge0.create_batch", "pages.submit"})
BATCHES = frozenset({"api.post_submissions_batch", "judge0.create_batch"})
OFF = frozenset({"", "off", "none", "0"})
PAGE = """{% extends "base.html" %}{% block title %}Too many requests{% endblock %}
{% block content %}<h1>Too many requests</h1><p class="flash error" role="alert">{{ message }}</p>
{% endblock %}"""


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimits:
    """The four limits as flask-limiter rate strings; "" is off."""

    submit: str = "30/minute"
    api: str = "600/minute"
    pages: str = "600/minute"
    login: str = "20/minute"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> RateLimits:
        """JUDGE_RATE_LIMIT_<NAME> for each field; a rate flask-limiter cannot read is a ValueError."""
        chosen: dict[str, str] = {}
        for f in fields(cls):
            name = f"JUDGE_RATE_LIMIT_{f.name.upper()}"
            value = environ.get(name)
            if value is None:
                continue
            value = "" if value.strip().lower() in OFF else value.strip()
            if value:
                try:
                    parse_many(value)
                except ValueError:
                    raise ValueError(f"{name}={value!r} is not a rate: write e.g. 30/minute or "
                                     "5/second;100/hour, or off") from None
            chosen[f.name] = value
        return cls(**chosen)


@dataclass(frozen=True, slots=True)
class _Caller:
    key: str  # what the request counts against: token:<id>, user:<id> or addr:<address>
    user: str | None  # user:<id>, what submissions count against; None when nobody is known
    staff: bool


def _address() -> str:
    return f"addr:{request.remote_addr or 'unknown'}"


def _caller() -> _Caller:
    """Who is asking, worked out once per request; never raises (flask-limiter would take an
    exception here for Redis failing)."""
    found: _Caller | None = g.get("judge_rate_caller")
    if found is None:
        found = g.judge_rate_caller = _identify()
    return found


def _identify() -> _Caller:
    if request.blueprint in TOKEN_BLUEPRINTS:
        from web.judge0 import token_secret

        try:
            token = token_caller(token_secret() if request.blueprint == "judge0" else _bearer())
        except SQLAlchemyError:
            token = None  # the view meets the database's failure too, and answers it
        if token is not None:
            return _Caller(f"token:{token.token_id}", f"user:{token.user.id}", token.user.role in STAFF)
    elif request.blueprint == "pages" and current_user.is_authenticated:
        return _Caller(f"user:{current_user.id}", f"user:{current_user.id}", bool(current_user.is_staff))
    return _Caller(_address(), None, False)


def _bearer() -> str | None:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() or None if scheme.lower() == "bearer" else None


def _submissions_asked() -> int:
    """How many submissions the request makes: a batch's items, else one."""
    if request.endpoint not in BATCHES:
        return 1
    try:
        doc = request.get_json(silent=True)
    except RecursionError:
        return 1
    items = doc.get("submissions") if isinstance(doc, dict) else None
    return max(1, len(items)) if isinstance(items, list) else 1


def _limits(cfg: RateLimits) -> list[ApplicationLimit]:
    def limit(rate: str, scope: str, key: Callable[[], str], exempt: Callable[[], bool], message: str,
              **more: object) -> ApplicationLimit:
        return ApplicationLimit(rate, key_function=key, scope=scope, exempt_when=exempt,
                                error_message=message, **more)  # type: ignore[arg-type]

    return [
        limit(cfg.submit, "submit", lambda: _caller().user or _address(),
              lambda: request.endpoint not in SUBMITTING or _caller().user is None or _caller().staff,
              f"too many submissions: at most {cfg.submit} per user",
              cost=_submissions_asked, deduct_when=lambda response: response.status_code < 400),
        limit(cfg.api, "api", lambda: _caller().key,
              lambda: request.blueprint not in TOKEN_BLUEPRINTS or _caller().staff,
              f"too many requests: at most {cfg.api} per token"),
        limit(cfg.pages, "pages", lambda: _caller().key,
              lambda: request.blueprint != "pages" or _caller().user is None or _caller().staff,
              f"too many requests: at most {cfg.pages} per user"),
        limit(cfg.login, "login", _address,
              lambda: request.endpoint != "pages.login" or request.method != "POST",
              f"too many failed logins from this address: at most {cfg.login}",
              deduct_when=lambda response: response.status_code == 401),
    ]


def init_app(app: Flask, redis_url: str, limits: RateLimits | None = None) -> Limiter:
    """Count in Redis at `redis_url`; the limits from the environment unless given."""
    cfg = limits or RateLimits.from_env()
    limiter = Limiter(
        _address,  # each limit names its own key; this is flask-limiter's required default
        application_limits=_limits(cfg),  # type: ignore[arg-type]
        storage_uri=redis_url,
        storage_options={"socket_connect_timeout": 2, "socket_timeout": 2},
        strategy="moving-window",
        key_prefix="judge",
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        headers_enabled=False,
    )
    limiter.init_app(app)

    def too_many(e: RateLimitExceeded) -> Response | tuple[str, int, dict[str, str]]:
        wait = _retry_after(limiter, e)
        message = f"{e.description}; try again in {wait} s"
        headers = {"Retry-After": str(wait)}
        if request.blueprint in TOKEN_BLUEPRINTS or request.path.startswith("/api/"):
            response = error_response(429, "rate_limited", message)
            response.headers.update(headers)
            return response
        if request.endpoint == "pages.login":
            flash(message, "error")
            return render_template("login.html", name=request.form.get("name", "")), 429, headers
        return render_template_string(PAGE, message=message), 429, headers

    app.register_error_handler(RateLimitExceeded, too_many)
    return limiter


def _retry_after(limiter: Limiter, e: RateLimitExceeded) -> int:
    """Whole seconds until the breached limit lets a request through again; at least 1."""
    try:
        breached = limiter.current_limit
        if breached is not None and breached.breached:
            return max(1, math.ceil(breached.window[0] - time.time()))  # when the oldest hit leaves
    except Exception:  # noqa: BLE001 - Redis went away between the count and this: say the whole window
        log.warning("rate limit: cannot read the window; answering its whole length")
    return max(1, int(e.limit.limit.get_expiry()))
