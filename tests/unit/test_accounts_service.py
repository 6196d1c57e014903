"""Accounts made by the service (judge/service/accounts.py): what `fault` finds, and `create`'s
all or none."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from judge.errors import Refusal, Refused
from judge.service import accounts
from judge.service.accounts import NewAccount
from judge.storage import repo


@pytest.mark.parametrize(
    ("account", "fault"),
    [
        (NewAccount("ada", "long enough"), None),
        (NewAccount("ada", "long enough", "admin"), None),
        (NewAccount("", "long enough"), "'': a name is 1 to 100 characters without spaces"),
        (NewAccount("a b", "long enough"), "'a b': a name is 1 to 100 characters without spaces"),
        (NewAccount("ada", "short"), "ada: the password must have at least 8 characters"),
        (NewAccount("ada", "long enough", "judge"), "ada: the role must be contestant, organiser or admin"),
    ],
)
def test_fault_names_what_is_wrong_with_an_account(account: NewAccount, fault: str | None) -> None:
    assert accounts.fault(account) == fault


def test_accounts_are_created_all_or_none(sessions: sessionmaker[Session]) -> None:
    accounts.create(sessions, [NewAccount("ada", "long enough")])
    with pytest.raises(Refused) as refused:
        accounts.create(sessions, [NewAccount("bob", "long enough"), NewAccount("ada", "another one")])
    assert refused.value.why is Refusal.NAME_TAKEN
    with sessions() as session:
        assert [u.name for u in repo.list_users(session)] == ["ada"]
        assert repo.check_password(session, "ada", "long enough") is not None
