"""Logging in and out of the pages, and the rules for who may open what.

Passwords are checked with the storage layer's scrypt (judge/storage/repo.py). A login opens a
session on the server (the table web_sessions); flask-login's signed cookie (HttpOnly,
SameSite=Lax, keyed by JUDGE_SECRET_KEY) carries only that session's random secret, of which
the server keeps the hash. Logging out deletes the session, and changing the password deletes
every session of the user (the browser that changed it gets a new one), so a copy of the cookie
opens nothing afterwards (issue 17, finding 7); a session also ends SESSION_MAX_AGE after the
login. A failed
login waits the same whatever was wrong and says only that the name or password is wrong;
failed logins are counted per address (JUDGE_RATE_LIMIT_LOGIN, web/ratelimit.py).
Pages that need an account send visitors to the login page and back; organisers' pages answer
403 to contestants.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from werkzeug.wrappers import Response

from judge.service.accounts import MIN_PASSWORD
from judge.storage import repo
from judge.storage.models import Role, User
from judge.storage.repo import check_password
from web.context import context
from web.pages import blueprint as bp

F = TypeVar("F", bound=Callable[..., Any])
SESSION_MAX_AGE = timedelta(days=14)
login_manager = LoginManager()
login_manager.login_view = "pages.login"
login_manager.login_message = "Log in to see this page."


class Account(UserMixin):  # type: ignore[misc]
    """The logged-in user, detached from any database session, with the secret of its page session
    (what flask-login keeps in the cookie, as get_id's answer)."""

    def __init__(self, user: User, session_secret: str) -> None:
        self.id = user.id
        self.name = user.name
        self.role = user.role
        self.session_secret = session_secret

    def get_id(self) -> str:
        return self.session_secret

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.ORGANISER, Role.ADMIN)


@login_manager.user_loader
def _load(session_secret: str) -> Account | None:
    """The account of an open page session; None (logged out) for an ended or unknown one."""
    with context().sessions() as session:
        user = repo.user_for_web_session(session, session_secret, SESSION_MAX_AGE)
        return Account(user, session_secret) if user is not None else None


def _log_in(session: Any, user: User) -> None:
    """Open a page session for `user` and put its secret in this browser's cookie."""
    repo.end_web_sessions(session, user.id, older_than=SESSION_MAX_AGE)  # what has lapsed anyway
    login_user(Account(user, repo.open_web_session(session, user)))


def me() -> Account:
    account = current_user._get_current_object()
    assert isinstance(account, Account)
    return account


def login_required(view: F) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def organiser_required(view: F) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not me().is_staff:
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to somewhere else."""
    if not target:
        return url_for("pages.problems")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.problems")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    name = request.form.get("name", "")
    if request.method == "POST":
        with context().sessions.begin() as session:
            user = check_password(session, name, request.form.get("password", ""))
            if user is not None:
                _log_in(session, user)
        if user is not None:
            return redirect(_safe_next(request.args.get("next")))
        flash("That name and password do not match an account.", "error")
        return render_template("login.html", name=name), 401  # type: ignore[return-value]
    return render_template("login.html", name=name)


@bp.post("/logout")
def logout() -> Response:
    """End the page session on the server, then forget it in the browser."""
    if current_user.is_authenticated:
        with context().sessions.begin() as session:
            repo.close_web_session(session, me().session_secret)
    logout_user()
    return redirect(url_for("pages.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password() -> str | Response | tuple[str, int]:
    """Change one's own password: the current one, then the new one twice. Every session of the
    account ends (a stolen cookie too); this browser stays logged in with a new one."""
    if request.method == "GET":
        return render_template("password.html")
    new = request.form.get("new_password", "")
    why = None
    if new != request.form.get("new_password_again", ""):
        why = "The two new passwords differ."
    elif len(new) < MIN_PASSWORD:
        why = f"The new password must have at least {MIN_PASSWORD} characters."
    with context().sessions.begin() as session:
        user = check_password(session, me().name, request.form.get("password", ""))
        if user is None:
            why = "That is not your current password."
        if why is None and user is not None:
            repo.set_password(session, user, new)  # ends every page session of the account
            _log_in(session, user)
    if why is not None:
        flash(why, "error")
        return render_template("password.html"), 400
    flash("Your password is changed; every other session of your account is logged out.", "ok")
    return redirect(url_for("pages.problems"))
