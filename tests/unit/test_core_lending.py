"""Lending cores (judge/cores.py): a core is lent only while no owner holds it, and an owner
that wants it back gets it after the borrower's current test, never later."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from kit import wait_until

from judge.cores import Lanes, OwnCore, width_of


@pytest.fixture
def directory(tmp_path: Path) -> str:
    return str(tmp_path / "cores")


def lanes_of(directory: str, width: int = 2) -> Lanes:
    sb: Any = None  # no box is made here
    return Lanes(sb, ["0", "1"], width=width, own="0", directory=directory)


def test_a_core_whose_owner_grades_is_not_lent(directory: str) -> None:
    owner = OwnCore("1", idle_after_s=60, directory=directory)
    with owner.busy():
        assert lanes_of(directory).borrow() is None
    assert lanes_of(directory).borrow() is None  # still its owner's, for idle_after_s
    owner.close()
    lane = lanes_of(directory).borrow()
    assert lane is not None and lane.cpu == "1"
    lane.give_back()


def test_a_core_is_lent_once_its_owner_was_idle_for_a_while(directory: str) -> None:
    owner = OwnCore("1", idle_after_s=0.05, directory=directory)
    with owner.busy():
        pass
    lane = wait_until(
        lambda: lanes_of(directory).borrow(),
        until=lambda got: got is not None,
        timeout_s=10,
        what="the idle core to be lent",
    )
    assert lane is not None
    lane.give_back()


def test_the_own_core_and_a_lent_core_are_never_lent_twice(directory: str) -> None:
    lanes = lanes_of(directory)
    first = lanes.borrow()
    assert first is not None and first.cpu == "1"
    assert lanes.borrow() is None
    assert lanes_of(directory).borrow() is None  # another grading, another process alike
    first.give_back()
    again = lanes.borrow()
    assert again is not None
    again.give_back()


def test_an_owner_that_wants_its_core_waits_for_the_test_on_it_only(directory: str) -> None:
    lane = lanes_of(directory).borrow()
    assert lane is not None and lane.keep()
    owner = OwnCore("1", idle_after_s=60, directory=directory)
    entered = threading.Event()

    def grade() -> None:
        with owner.busy():
            entered.set()

    thread = threading.Thread(target=grade)
    thread.start()
    wait_until(
        lambda: lane.keep(),
        until=lambda keep: not keep,
        timeout_s=10,
        what="the borrower to hear that the owner wants its core",
    )
    assert not entered.is_set()  # the borrower's test on it is not over
    lane.give_back()  # the test ended; the borrower takes no other test there
    thread.join(timeout=10)
    assert entered.is_set() and owner.held
    owner.close()


@pytest.mark.parametrize(
    ("parallelism", "cpus", "width"),
    [
        (None, ["0", "1"], 2),
        (1, ["0", "1"], 1),
        (4, ["0", "1"], 2),
        (None, ["3"], 1),
        (2, [], 1),
    ],
)
def test_the_width_is_the_setting_within_the_cores_of_the_set(
    parallelism: int | None, cpus: list[str], width: int
) -> None:
    assert width_of(parallelism, cpus) == width
