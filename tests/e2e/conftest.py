"""End-to-end tests drive the `judge` command in-process, as a user would, through real boxes.

`judge_cli` runs one `judge ...` command with click's CliRunner and hands back the result;
it needs a host that can run boxes (tests/conftest.py's `sandbox_ready`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from click.testing import CliRunner, Result

from judge import cli

JudgeCli = Callable[[Sequence[str]], Result]


@pytest.fixture
def judge_cli(sandbox_ready: None) -> JudgeCli:
    def invoke(args: Sequence[str]) -> Result:
        return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)

    return invoke
