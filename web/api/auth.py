"""Bearer tokens: `Authorization: Bearer jdg_...`, checked against their stored hashes.

`require_user(scope)` answers 401 (`unauthorized`, with `WWW-Authenticate: Bearer`) when the
header is missing, malformed, unknown or revoked, and 403 (`insufficient_scope`) when the token
is limited to scopes that do not include `scope` (`read` for GETs, `submit` for submitting,
`organise` for organisers' endpoints; a token without scopes may do all its user may);
`require_organiser()` then answers 403 (`forbidden`) for a contestant.
A user sees their own submissions; organisers and admins see all. Someone
else's submission is 404, as if it did not exist, so ids reveal nothing. A contestant sees the
problems in no contest and those of contests that have started (repo.visible_problems, the pages'
rule too), and of a problem's tests only what the checker said about the samples
(documents.submission_json's `secret_feedback`); the verification report is organisers' alone.

`token_caller(secret)` looks a token up once per request (the rate limits, web/ratelimit.py,
ask before the view does), and the Judge0 API uses it too, so the rules are the same there.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, request

from judge.storage.models import STAFF_ROLES, Submission, User
from judge.storage.repo import token_for_secret
from web.api.errors import ApiError
from web.context import context

STAFF = STAFF_ROLES


@dataclass(frozen=True, slots=True)
class Caller:
    """Whom a token speaks for: the token's id (what rate limits count), its user (detached), its scopes."""

    token_id: int
    user: User
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return not self.scopes or scope in self.scopes


def token_caller(secret: str | None) -> Caller | None:
    """The unrevoked token with this secret, looked up once per request; None if unknown or revoked."""
    if not secret:
        return None
    seen: dict[str, Caller | None] = g.setdefault("judge_tokens", {})
    if secret not in seen:
        with context().sessions.begin() as session:
            token = token_for_secret(session, secret)
            if token is not None:
                session.expunge(token.user)
            seen[secret] = Caller(token.id, token.user, token.scope_set) if token is not None else None
    return seen[secret]


def require_user(scope: str = "read") -> User:
    caller = _authenticate()
    if not caller.allows(scope):
        limited = ", ".join(sorted(caller.scopes))
        raise ApiError(403, "insufficient_scope", f"this token is limited to {limited}; this needs {scope!r}")
    return caller.user


def _authenticate() -> Caller:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(401, "unauthorized", "send an API token: Authorization: Bearer <token>")
    caller = token_caller(secret.strip())
    if caller is None:
        raise ApiError(401, "unauthorized", "the token is unknown or revoked")
    return caller


def require_organiser() -> User:
    user = require_user("organise")
    if user.role not in STAFF:
        raise ApiError(403, "forbidden", "only organisers may do this")
    return user


def is_staff(user: User) -> bool:
    return user.role in STAFF


def may_see(user: User, submission: Submission) -> bool:
    return is_staff(user) or submission.user_id == user.id
