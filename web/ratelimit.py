"""Rate limits: flask-limiter, counting in the service's Redis, so every web process shares the counts.

Four limits, each an environment variable holding a rate in flask-limiter's notation ("30/minute",
"5/second;100/hour"); "off" (or empty) turns that one off. They are read when the app is made.

* `JUDGE_RATE_LIMIT_SUBMIT` (default 30/minute): submissions per user, whichever way they come:
  `POST /api/v1/submissions` and `/submissions/batch`, the Judge0 API's `POST /submissions` and
  `/submissions/batch`, and the submit form. A batch counts each of its items. Exact under any
  concurrency (issue 17, finding 5): a request takes its submissions from the allowance before
  its view runs, in one Lua script that drops what left the window, counts, and takes all or
  nothing (SubmitLimit), so 90 requests at once against 30/minute make exactly 30 submissions.
  A request that then makes none (422, 404, 503; a failed CSRF check never gets this far) gives
  them back; meanwhile they were spent, so a race can refuse one more than needed, never accept.
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
in-memory fallback, back to Redis when it answers again, checked with a growing interval; the
submission limit keeps its own, the same way), and never answers 500 itself. Not 503: reading
results, the pages and logging in need only the database, so refusing everything would turn a
broker outage into a whole-site one; what needs Redis (submitting, waiting) answers its own 503
`queue_unavailable`. Meanwhile a limit holds per process rather than for the site.

No key holds a secret: flask-limiter logs the key of every breach, and keys sit in Redis.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import redis
from flask import Flask, Response, flash, g, render_template, render_template_string, request
from flask_limiter import ApplicationLimit, Limiter, RateLimitExceeded
from flask_login import current_user
from limits import parse_many
from sqlalchemy.exc import SQLAlchemyError

from web.api.auth import STAFF, token_caller
from web.api.errors import error_response

log = logging.getLogger(__name__)

TOKEN_BLUEPRINTS = frozenset({"api", "judge0"})
SUBMITTING = frozenset(
    {
        "api.post_submission",
        "api.post_submissions_batch",
        "judge0.create_submission",
        "judge0.create_batch",
        "pages.submit",
    }
)
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
                    raise ValueError(
                        f"{name}={value!r} is not a rate: write e.g. 30/minute or 5/second;100/hour, or off"
                    ) from None
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
    from web.api.body import read_json

    doc = read_json()  # bounded before it is parsed (web/api/body.py); the view gets the same
    items = doc.get("submissions") if isinstance(doc, dict) else None
    return max(1, len(items)) if isinstance(items, list) else 1


# KEYS: one sorted set per rate of the limit, members "<request>:<n>" scored by when (ms) they
# were taken. ARGV[1] now (ms), ARGV[2] cost, ARGV[3] the request's id, then each key's window
# (ms) and amount. Answers {1, 0} when taken from every rate, else {0, ms until enough leave}.
SUBMIT_SCRIPT = """
local now, cost, id = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
for i, key in ipairs(KEYS) do
  local window, amount = tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local used = redis.call('ZCARD', key)
  if used + cost > amount then
    local wait = window
    local k = used + cost - amount
    if cost <= amount and k <= used then
      local freeing = redis.call('ZRANGE', key, k - 1, k - 1, 'WITHSCORES')
      wait = tonumber(freeing[2]) + window - now
    end
    return {0, wait}
  end
end
for i, key in ipairs(KEYS) do
  for j = 1, cost do redis.call('ZADD', key, now, id .. ':' .. j) end
  redis.call('PEXPIRE', key, tonumber(ARGV[2 + 2 * i]))
end
return {1, 0}
"""


class SubmitLimit:
    """JUDGE_RATE_LIMIT_SUBMIT, taken before a submission is made and given back if none is.

    Counted in Redis by SUBMIT_SCRIPT, atomically; in this process's memory while Redis is away."""

    def __init__(self, rate: str, redis_url: str) -> None:
        self.rate = rate
        self.items = [(int(item.get_expiry() * 1000), item.amount) for item in parse_many(rate)]
        self.client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
        self.local: dict[str, list[tuple[float, str]]] = {}
        self.lock = threading.Lock()

    def _keys(self, user: str) -> list[str]:
        return [f"judge:submit:{user}:{window}" for window, _ in self.items]

    def take(self, user: str, cost: int, request_id: str) -> float | None:
        """Take `cost` submissions for `user`; None when taken, else seconds until they could be."""
        now_ms = int(time.time() * 1000)
        args = [str(now_ms), str(cost), request_id]
        for window, amount in self.items:
            args += [str(window), str(amount)]
        try:
            answer: Any = self.client.eval(SUBMIT_SCRIPT, len(self.items), *self._keys(user), *args)
            taken, wait_ms = answer
        except redis.RedisError:
            return self._take_here(user, cost, request_id, now_ms)
        return None if int(taken) == 1 else max(0.0, int(wait_ms) / 1000)

    def _take_here(self, user: str, cost: int, request_id: str, now_ms: int) -> float | None:
        with self.lock:
            for key, (window, amount) in zip(self._keys(user), self.items, strict=True):
                kept = [e for e in self.local.get(key, []) if e[0] > now_ms - window]
                self.local[key] = kept
                if len(kept) + cost > amount:
                    k = len(kept) + cost - amount
                    return (kept[k - 1][0] + window - now_ms) / 1000 if cost <= amount else window / 1000
            for key in self._keys(user):
                self.local[key] += [(now_ms, f"{request_id}:{j}") for j in range(1, cost + 1)]
        return None

    def give_back(self, user: str, cost: int, request_id: str) -> None:
        members = [f"{request_id}:{j}" for j in range(1, cost + 1)]
        try:
            for key in self._keys(user):
                self.client.zrem(key, *members)
        except redis.RedisError:
            pass
        with self.lock:
            for key in self._keys(user):
                if key in self.local:
                    self.local[key] = [e for e in self.local[key] if e[1] not in members]


def _init_submit_limit(
    app: Flask,
    rate: str,
    redis_url: str,
    refuse: Callable[[str, int], Response | tuple[str, int, dict[str, str]]],
) -> None:
    limit = SubmitLimit(rate, redis_url)

    def take() -> Response | tuple[str, int, dict[str, str]] | None:
        if request.method != "POST" or request.endpoint not in SUBMITTING:
            return None
        caller = _caller()
        if caller.user is None or caller.staff:
            return None
        cost = _submissions_asked()
        request_id = uuid.uuid4().hex
        wait = limit.take(caller.user, cost, request_id)
        if wait is not None:
            return refuse(f"too many submissions: at most {rate} per user", max(1, math.ceil(wait)))
        g.judge_submit_taken = (caller.user, cost, request_id)
        return None

    def settle(response: Response) -> Response:
        taken = g.pop("judge_submit_taken", None)
        if taken is not None and response.status_code >= 400:  # made nothing: give them back
            limit.give_back(*taken)
        return response

    def failed(error: BaseException | None) -> None:
        taken = g.pop("judge_submit_taken", None)
        if taken is not None and error is not None:
            limit.give_back(*taken)

    app.before_request(take)
    app.after_request(settle)
    app.teardown_request(failed)


def _limits(cfg: RateLimits) -> list[ApplicationLimit]:
    def limit(
        rate: str,
        scope: str,
        key: Callable[[], str],
        exempt: Callable[[], bool],
        message: str,
        **more: object,
    ) -> ApplicationLimit:
        return ApplicationLimit(
            rate,
            key_function=key,
            scope=scope,
            exempt_when=exempt,
            error_message=message,
            **more,  # type: ignore[arg-type]
        )

    return [
        limit(
            cfg.api,
            "api",
            lambda: _caller().key,
            lambda: request.blueprint not in TOKEN_BLUEPRINTS or _caller().staff,
            f"too many requests: at most {cfg.api} per token",
        ),
        limit(
            cfg.pages,
            "pages",
            lambda: _caller().key,
            lambda: request.blueprint != "pages" or _caller().user is None or _caller().staff,
            f"too many requests: at most {cfg.pages} per user",
        ),
        limit(
            cfg.login,
            "login",
            _address,
            lambda: request.endpoint != "pages.login" or request.method != "POST",
            f"too many failed logins from this address: at most {cfg.login}",
            deduct_when=lambda response: response.status_code == 401,
        ),
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
        return refuse(str(e.description), _retry_after(limiter, e))

    def refuse(description: str, wait: int) -> Response | tuple[str, int, dict[str, str]]:
        message = f"{description}; try again in {wait} s"
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
    if cfg.submit:
        _init_submit_limit(app, cfg.submit, redis_url, refuse)
    return limiter


def _retry_after(limiter: Limiter, e: RateLimitExceeded) -> int:
    """Whole seconds until the breached limit lets a request through again; at least 1."""
    try:
        breached = limiter.current_limit
        if breached is not None and breached.breached:
            return max(1, math.ceil(breached.window[0] - time.time()))  # when the oldest hit leaves
    except Exception:  # Redis went away between the count and this: say the whole window
        log.warning("rate limit: cannot read the window; answering its whole length")
    return max(1, int(e.limit.limit.get_expiry()))
