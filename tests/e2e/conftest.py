"""End-to-end tests drive the `judge` command in-process, as a user would, through real boxes.

`judge_cli` runs one `judge ...` command with click's CliRunner and hands back the result;
it needs a host that can run boxes. Where the host cannot, the test is skipped with the
reason `sandbox.check` gives, except under CI=true, where a skip would hide a broken
sandbox and so fails instead (STYLE.md, "Tests").
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence

import pytest
from click.testing import CliRunner, Result

from judge import cli

JudgeCli = Callable[[Sequence[str]], Result]


@pytest.fixture(scope="session")
def sandbox_ready() -> None:
    import sandbox.check

    with warnings.catch_warnings():
        # sandbox/check.py's _sysctl leaves its /proc/sys files to the garbage collector
        warnings.simplefilter("ignore", ResourceWarning)
        problem = sandbox.check.first_problem()
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI machines must run boxes, but: {problem}")
    pytest.skip(f"no sandbox here: {problem}")


@pytest.fixture
def judge_cli(sandbox_ready: None) -> JudgeCli:
    def invoke(args: Sequence[str]) -> Result:
        return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)

    return invoke
