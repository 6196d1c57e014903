"""GET /metrics: the service's metrics in Prometheus' text format, for a Prometheus server to scrape.

What it shows is judge/service/metrics.py's. It sits outside /api/v1, where Prometheus looks by
default, so it is not in openapi.yaml (tests/unit/test_openapi.py holds /api/v1 only to the
document). Errors take the API's shape, `{"error": {"code", "message"}}`: 401 `unauthorized`,
503 `queue_unavailable` when Redis is away (the scrape then fails, and Prometheus' `up` says so).

Access. When `JUDGE_METRICS_TOKEN` is set (read at each request, as the secret key is), a
scrape must send `Authorization: Bearer <that token>` (Prometheus' scrape config:
`authorization: {credentials: ...}`); it is compared in constant time. When it is unset or
empty the endpoint is open, as scrapers usually reach it over a private network. Set it
wherever the web is public: the counts by verdict tell anyone how many submissions are
accepted, during a scoreboard freeze too.
"""

from __future__ import annotations

import hmac
import logging

import redis
from flask import Blueprint, Response, request

from judge.service import metrics
from judge.service.settings import Settings
from web.api.errors import ApiError, error_response
from web.context import context

log = logging.getLogger(__name__)

# The text format generate_latest writes: every name here is a legacy one, so 0.0.4 is exact,
# and every Prometheus reads it. (prometheus_client's CONTENT_TYPE_LATEST names 1.0.0 since 0.22.)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TOKEN_ENV = "JUDGE_METRICS_TOKEN"

blueprint = Blueprint("metrics", __name__)


@blueprint.get("/metrics")
def get_metrics() -> Response:
    _authorise()
    ctx = context()
    with ctx.sessions() as session:
        body = metrics.render(ctx.redis, session)
    return Response(body, content_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})


def _authorise() -> None:
    """401 unless the request carries JUDGE_METRICS_TOKEN as a bearer token; open when it is unset."""
    wanted = Settings.from_env().metrics_token
    if not wanted:
        return
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise ApiError(401, "unauthorized", f"send the metrics token: Authorization: Bearer <{TOKEN_ENV}>")
    if not hmac.compare_digest(given.strip().encode(), wanted.encode()):
        raise ApiError(401, "unauthorized", f"the token is not {TOKEN_ENV}")


@blueprint.errorhandler(ApiError)
def _api(e: ApiError) -> Response:
    return error_response(e.status, e.code, e.message)


@blueprint.errorhandler(redis.RedisError)
def _broker(e: redis.RedisError) -> Response:
    log.warning("metrics: the broker is unavailable: %s", e)
    return error_response(503, "queue_unavailable", f"the queue (Redis) is unavailable: {e}")
