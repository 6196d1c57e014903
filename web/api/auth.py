"""Bearer tokens: `Authorization: Bearer jdg_...`, checked against their stored hashes.

`require_user(scope)` answers 401 (`unauthorized`, with `WWW-Authenticate: Bearer`) when the
header is missing, malformed, unknown or revoked, and 403 (`insufficient_scope`) when the token
is limited to scopes that do not include `scope` (`read` for GETs, `submit` for submitting,
`organise` for organisers' endpoints; a token without scopes may do all its user may);
`require_organiser()` then answers 403 (`forbidden`) for a contestant.
A user sees their own submissions; organisers and admins see all. Someone
else's submission is 404, as if it did not exist, so ids reveal nothing.
"""

from __future__ import annotations

from flask import g, request

from judge.storage.models import Role, Submission, User
from judge.storage.repo import token_for_secret
from web.api.errors import ApiError
from web.app import context

STAFF = (Role.ORGANISER, Role.ADMIN)


def require_user(scope: str = "read") -> User:
    user, scopes = _authenticate()
    if scopes and scope not in scopes:
        raise ApiError(403, "insufficient_scope", f"this token is limited to {', '.join(sorted(scopes))}; "
                       f"this needs {scope!r}")
    return user


def _authenticate() -> tuple[User, frozenset[str]]:
    cached = g.get("judge_auth")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(401, "unauthorized", "send an API token: Authorization: Bearer <token>")
    with context().sessions.begin() as session:
        token = token_for_secret(session, secret.strip())
        if token is None:
            raise ApiError(401, "unauthorized", "the token is unknown or revoked")
        user, scopes = token.user, token.scope_set
        session.expunge(user)
    g.judge_auth = (user, scopes)
    return user, scopes


def require_organiser() -> User:
    user = require_user("organise")
    if user.role not in STAFF:
        raise ApiError(403, "forbidden", "only organisers may do this")
    return user


def is_staff(user: User) -> bool:
    return user.role in STAFF


def may_see(user: User, submission: Submission) -> bool:
    return is_staff(user) or submission.user_id == user.id
