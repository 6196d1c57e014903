"""End-to-end tests drive the `judge` command in-process, as a user would, through real boxes.

`judge_cli` runs one `judge ...` command with click's CliRunner and hands back the result;
it needs a host that can run boxes (tests/conftest.py's `sandbox_ready`). `boxes` lists every
box the process's sandbox hands out while the test runs (the compile cache's and the parallel
lanes' tests count them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import pytest
from click.testing import CliRunner, Result

import sandbox
from judge import cli

JudgeCli = Callable[[Sequence[str]], Result]


@pytest.fixture
def judge_cli(sandbox_ready: None) -> JudgeCli:
    def invoke(args: Sequence[str]) -> Result:
        return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture
def boxes() -> Iterator[list[float]]:
    """Every box the process's sandbox hands out while the test runs: the start of each."""
    sb = sandbox.default()
    seen: list[float] = []
    before = sb.on_box_start
    sb.on_box_start = seen.append
    yield seen
    sb.on_box_start = before
