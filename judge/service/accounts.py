"""Accounts in the service: checked and created, one by one or many at once, all or none.

The organisers' page (web/pages/organiser.py) reads a form or a CSV of `name,password[,role]`
lines into NewAccounts, asks `fault` about each (every bad line is listed, nothing is stored),
then `create`s them together in one transaction: a name that exists already is
Refused(`name_taken`) and nothing of the lot stays. Passwords are hashed by the storage layer
(judge/storage/repo.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from judge.errors import Refusal, Refused
from judge.storage import repo
from judge.storage.models import Role

MIN_PASSWORD = 8
MAX_NAME = 100


@dataclass(frozen=True, slots=True)
class NewAccount:
    name: str
    password: str
    role: str = Role.CONTESTANT.value  # a Role's value, as a form or a CSV line gives it


def fault(account: NewAccount) -> str | None:
    """What is wrong with this account, or None: the name, the password's length, the role."""
    name = account.name
    if not name or len(name) > MAX_NAME or any(c.isspace() for c in name):
        return f"{name!r}: a name is 1 to {MAX_NAME} characters without spaces"
    if len(account.password) < MIN_PASSWORD:
        return f"{name}: the password must have at least {MIN_PASSWORD} characters"
    if account.role not in (r.value for r in Role):
        return f"{name}: the role must be contestant, organiser or admin"
    return None


def create(sessions: sessionmaker[Session], accounts: Sequence[NewAccount]) -> None:
    """Create the accounts (checked by `fault` first) together; `name_taken`, and none of them
    created, when one of the names exists already."""
    try:
        with sessions.begin() as session:
            for account in accounts:
                repo.create_user(session, account.name, account.password, Role(account.role))
    except IntegrityError:
        names = ", ".join(a.name for a in accounts)
        raise Refused(Refusal.NAME_TAKEN, f"an account of these names exists already: {names}") from None
