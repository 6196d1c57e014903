"""Bearer tokens: `Authorization: Bearer jdg_...`, checked against their stored hashes.

`require_user()` answers 401 (`unauthorized`, with `WWW-Authenticate: Bearer`) when the header
is missing, malformed, unknown or revoked; `require_organiser()` then answers 403 (`forbidden`)
for a contestant. A user sees their own submissions; organisers and admins see all. Someone
else's submission is 404, as if it did not exist, so ids reveal nothing.
"""

from __future__ import annotations

from flask import g, request

from judge.storage.models import Role, Submission, User
from judge.storage.repo import user_for_token
from web.api.errors import ApiError
from web.app import context

STAFF = (Role.ORGANISER, Role.ADMIN)


def require_user() -> User:
    cached = g.get("judge_user")
    if isinstance(cached, User):
        return cached
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(401, "unauthorized", "send an API token: Authorization: Bearer <token>")
    with context().sessions.begin() as session:
        user = user_for_token(session, secret.strip())
        if user is not None:
            session.expunge(user)
    if user is None:
        raise ApiError(401, "unauthorized", "the token is unknown or revoked")
    g.judge_user = user
    return user


def require_organiser() -> User:
    user = require_user()
    if user.role not in STAFF:
        raise ApiError(403, "forbidden", "only organisers may do this")
    return user


def is_staff(user: User) -> bool:
    return user.role in STAFF


def may_see(user: User, submission: Submission) -> bool:
    return is_staff(user) or submission.user_id == user.id
