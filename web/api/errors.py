"""API errors: every failure is a 4xx or 5xx with `{"error": {"code", "message"}}`.

Handlers raise ApiError(status, code, message); the service's refusals (judge.errors.Refused)
answer the same way, with the status STATUS gives their Refusal and its value as the code.
Werkzeug's own HTTP errors (unknown route, wrong method, a body over the size limit) and
anything unexpected get the same shape, so a client never has to parse HTML. Codes are stable
snake_case names; messages are for people. A broker that is away is 503 `queue_unavailable`;
a 401 names the scheme (WWW-Authenticate).
A database that refuses the request (SQLite locked past its busy timeout, PostgreSQL away) is
503 `database_unavailable` with Retry-After, and one whose disk is full 507 `storage_full`:
the transaction was rolled back, so nothing was stored (tests/service/test_faults.py).

Routing fails before a blueprint is chosen, so unknown paths and methods under /api/v1 are
caught by an app-wide handler that looks at the path; elsewhere Flask's own page stands.
"""

from __future__ import annotations

import logging
import math

import kombu.exceptions
import redis
import sqlalchemy.exc
from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from judge.errors import Refusal, Refused

log = logging.getLogger(__name__)
DATABASE_RETRY_AFTER_S = 5  # Retry-After of a 503 database_unavailable: about SQLite's busy timeout


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


STATUS = {  # the HTTP status of each refusal of the service (judge/errors.py)
    Refusal.INVALID_FIELD: 422,
    Refusal.TOO_LARGE: 413,
    Refusal.UNKNOWN_LANGUAGE: 422,
    Refusal.UNKNOWN_PROBLEM: 404,
    Refusal.PROBLEM_NOT_READY: 409,
    Refusal.NOT_FOUND: 404,
    Refusal.BAD_ARCHIVE: 422,
    Refusal.DUPLICATE_LABEL: 422,
    Refusal.NAME_TAKEN: 409,
    Refusal.STORAGE_FULL: 507,
    Refusal.QUEUE_UNAVAILABLE: 503,
}


def refusal(e: Refused, message: str | None = None) -> ApiError:
    """The ApiError of a refusal of the service, with another message when one is given."""
    return ApiError(STATUS[e.why], e.why.value, e.message if message is None else message)


def seconds_arg(name: str, default: float, maximum: float) -> float:
    """A query parameter in seconds, between 0 and `maximum`; 400 when it is not a finite number."""
    try:
        value = float(request.args.get(name, default))
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ApiError(400, "bad_request", f"{name} must be a number of seconds")
    return min(max(value, 0.0), maximum)


def error_response(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="judge"'
    return response


def snake(name: str) -> str:
    return name.lower().replace(" ", "_").replace("'", "")


def register(bp: Blueprint) -> None:
    @bp.errorhandler(ApiError)
    def _api(e: ApiError) -> Response:
        return error_response(e.status, e.code, e.message)

    @bp.errorhandler(Refused)
    def _refused(e: Refused) -> Response:
        error = refusal(e)
        return error_response(error.status, error.code, error.message)

    @bp.errorhandler(HTTPException)
    def _http(e: HTTPException) -> Response:
        status = e.code or 500
        return error_response(status, snake(e.name), e.description or e.name)

    @bp.errorhandler(redis.RedisError)
    @bp.errorhandler(kombu.exceptions.OperationalError)
    def _broker(e: Exception) -> Response:
        log.warning("the broker is unavailable: %s", e)
        return error_response(503, "queue_unavailable", f"the queue (Redis) is unavailable: {e}")

    @bp.errorhandler(sqlalchemy.exc.OperationalError)
    @bp.errorhandler(sqlalchemy.exc.InterfaceError)
    def _database(e: sqlalchemy.exc.DBAPIError) -> Response:
        # The transaction was rolled back: nothing of the request was stored. SQLite answers
        # "database is locked" once its busy timeout (5 s) has passed, "database or disk is
        # full" when a write finds no room; PostgreSQL that is away refuses the connection.
        text = str(e.orig or e).strip()
        cause = text.splitlines()[0] if text else type(e).__name__
        if "disk is full" in cause or "No space left" in cause:
            log.error("the database's disk is full: %s", cause)
            return error_response(
                507, "storage_full", f"the database has no room to store this ({cause}); nothing was stored"
            )
        log.warning("the database is unavailable: %s", cause)
        response = error_response(
            503,
            "database_unavailable",
            f"the database is unavailable ({cause}); "
            f"nothing was stored, try again in {DATABASE_RETRY_AFTER_S} s",
        )
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_S)
        return response

    @bp.app_errorhandler(404)
    @bp.app_errorhandler(405)
    def _unrouted(e: HTTPException) -> Response | HTTPException:
        prefix = bp.url_prefix or ""
        if request.path != prefix and not request.path.startswith(prefix + "/"):
            return e
        response = error_response(e.code or 404, snake(e.name), e.description or e.name)
        if isinstance(e, MethodNotAllowed) and e.valid_methods:
            response.headers["Allow"] = ", ".join(e.valid_methods)
        return response

    @bp.errorhandler(Exception)
    def _other(e: Exception) -> Response:
        log.exception("unexpected error in the API")
        return error_response(500, "internal_error", "the judge failed; the error is logged")
