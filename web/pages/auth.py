"""Logging in and out of the pages, and the rules for who may open what.

Passwords are checked with the storage layer's scrypt (judge/storage/repo.py); the session is
flask-login's signed cookie (HttpOnly, SameSite=Lax), keyed by JUDGE_SECRET_KEY. A failed
login waits the same whatever was wrong and says only that the name or password is wrong;
failed logins are counted per address (JUDGE_RATE_LIMIT_LOGIN, web/ratelimit.py).
Pages that need an account send visitors to the login page and back; organisers' pages answer
403 to contestants.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from werkzeug.wrappers import Response

from judge.storage.models import Role, User
from judge.storage.repo import check_password
from web.app import context
from web.pages import blueprint as bp

F = TypeVar("F", bound=Callable[..., Any])
login_manager = LoginManager()
login_manager.login_view = "pages.login"
login_manager.login_message = "Log in to see this page."


class Account(UserMixin):  # type: ignore[misc]
    """The logged-in user, detached from any database session."""

    def __init__(self, user: User) -> None:
        self.id = user.id
        self.name = user.name
        self.role = user.role

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.ORGANISER, Role.ADMIN)


@login_manager.user_loader
def _load(user_id: str) -> Account | None:
    with context().sessions() as session:
        user = session.get(User, int(user_id))
        return Account(user) if user is not None else None


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
            account = Account(user) if user is not None else None
        if account is not None:
            login_user(account)
            return redirect(_safe_next(request.args.get("next")))
        flash("That name and password do not match an account.", "error")
        return render_template("login.html", name=name), 401  # type: ignore[return-value]
    return render_template("login.html", name=name)


@bp.post("/logout")
def logout() -> Response:
    logout_user()
    return redirect(url_for("pages.login"))
