"""API errors: every failure is a 4xx or 5xx with `{"error": {"code", "message"}}`.

Handlers raise ApiError(status, code, message); Werkzeug's own HTTP errors (unknown route,
wrong method, a body over the size limit) and anything unexpected get the same shape, so a
client never has to parse HTML. Codes are stable snake_case names; messages are for people.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def _snake(name: str) -> str:
    return name.lower().replace(" ", "_").replace("'", "")


def register(bp: Blueprint) -> None:
    @bp.errorhandler(ApiError)
    def _api(e: ApiError) -> Response:
        return error_response(e.status, e.code, e.message)

    @bp.errorhandler(HTTPException)
    def _http(e: HTTPException) -> Response:
        status = e.code or 500
        return error_response(status, _snake(e.name), e.description or e.name)

    @bp.errorhandler(Exception)
    def _other(e: Exception) -> Response:
        log.exception("unexpected error in the API")
        return error_response(500, "internal_error", "the judge failed; the error is logged")
