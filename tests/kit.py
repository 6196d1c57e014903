"""What every test folder imports that is not a fixture: `wait_until`, the one polling loop, and
`free_port`.

A test that waits for something to happen (a service to answer, a submission to be graded, a
line in a log) asks again and again until the answer comes, or fails at a deadline saying what
it waited for and what it saw last; never a fixed sleep that hopes it was long enough. The
`wait_until` fixture (tests/conftest.py) hands out the same function. Importable as `kit` from
any test module: pytest puts tests/ on sys.path for tests/conftest.py.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    ask: Callable[[], T],
    *,
    what: str,
    until: Callable[[T], object] = bool,
    timeout_s: float = 10.0,
    every_s: float = 0.05,
    retry_on: tuple[type[BaseException], ...] = (),
    context: Callable[[], str] | None = None,
) -> T:
    """`ask()` until `until(answer)` holds (by default: the answer is truthy); returns that answer.

    An exception of `retry_on` counts as "not yet", and the last one is raised at the deadline;
    any other exception (an `assert` inside `ask`, pytest.fail) ends the wait at once. At the
    deadline without an answer: AssertionError naming `what`, the last answer, and `context()`
    (say, the ends of the logs).
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            answer = ask()
        except retry_on as e:
            if time.monotonic() > deadline:
                e.add_note(f"waited {timeout_s:g} s for {what}")
                if context is not None:
                    e.add_note(context())
                raise
        else:
            if until(answer):
                return answer
            if time.monotonic() > deadline:
                last = repr(answer)
                last = last if len(last) <= 2000 else last[:2000] + "..."
                raise AssertionError(
                    f"waited {timeout_s:g} s for {what}; the last answer: {last}"
                    + (f"\n{context()}" if context is not None else "")
                )
        time.sleep(every_s)


def free_port() -> int:
    """A TCP port on the loopback that nothing listens on now (the kernel's pick), for a server
    the test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
