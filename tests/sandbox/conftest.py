"""Tests that start real boxes: the skip rule and the helpers to run probes in a box.

Every test here is marked `sandbox`. They need root and cgroups (v1, v2 or the hybrid). Where
the host cannot run boxes they are skipped with the reason from `sandbox.check`, except under
CI=true: CI machines can run boxes, so there a missing sandbox fails every test instead of
hiding behind a skip.

`run.c(source, **limits)` compiles a C probe (tests/conftest.py) and runs it as ./prog in a
fresh box; `run.py(code, **limits)` runs Debian's /usr/bin/python3 -S -c code. The keyword
arguments override fields of `SMALL`, so a test states only the limits it is about. SMALL's
time limits are for runs that must finish: JUDGE_TEST_SLOWNESS=N (tests/allowance.py) makes
them N times longer on a slow machine; a limit a test passes is its own and is not scaled.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace

import allowance
import pytest

import sandbox
from sandbox import Limits, MiB, RunResult

SMALL = Limits(
    cpu_time_ms=1000,
    wall_time_ms=3000,
    memory_bytes=64 * MiB,
    output_bytes=1 * MiB,
    file_size_bytes=16 * MiB,
    processes=16,
    open_files=64,
    tmp_bytes=8 * MiB,
    tmp_inodes=256,
)
PYTHON = "/usr/bin/python3"

_problem: str | None = None
_checked = False


def host_problem() -> str | None:
    """None when this host can run boxes, else why not (checked once per session)."""
    global _problem, _checked
    if _checked:
        return _problem
    _checked = True
    try:
        from sandbox import check
    except ImportError:
        check = None  # type: ignore[assignment]
    if check is not None and hasattr(check, "first_problem"):
        with warnings.catch_warnings():
            # check._sysctl leaves its /proc/sys files to the garbage collector
            warnings.simplefilter("ignore", ResourceWarning)
            _problem = check.first_problem()
        return _problem
    if os.geteuid() != 0:
        _problem = f"running as uid {os.geteuid()}, boxes need root"
        return _problem
    try:
        sandbox.Sandbox(pool_depth=0).close()
    except sandbox.SandboxError as e:
        _problem = str(e)
    return _problem


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = [item for item in items if "sandbox" in item.keywords]
    if not wanted or os.environ.get("CI") == "true":
        return  # under CI a broken host must fail the tests, not skip them
    problem = host_problem()
    if problem is not None:
        skip = pytest.mark.skip(reason=f"no sandbox here: {problem}")
        for item in wanted:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def sb() -> sandbox.Sandbox:
    problem = host_problem()
    if problem is not None:
        pytest.fail(f"CI=true but this host cannot run boxes: {problem}")
    return sandbox.default()


class Runner:
    """Runs probes in fresh boxes of the session's sandbox."""

    def __init__(self, sb: sandbox.Sandbox, cc: Callable[..., bytes]) -> None:
        self.sb = sb
        self.cc = cc

    @staticmethod
    def limits(**overrides: int | None) -> Limits:
        return replace(allowance.limits(SMALL), **overrides)

    def c(
        self,
        source: str,
        *,
        args: Sequence[str] = (),
        stdin: bytes | int | None = None,
        env: Mapping[str, str] | None = None,
        cflags: Sequence[str] = (),
        **overrides: int | None,
    ) -> RunResult:
        binary = self.cc(source, flags=cflags)
        return self.sb.run(
            ["./prog", *args], self.limits(**overrides), files={"prog": (binary, 0o755)}, stdin=stdin, env=env
        )

    @staticmethod
    def fields(out: bytes) -> dict[str, str]:
        """Parse the `key=value` lines that probes print."""
        pairs = (line.split("=", 1) for line in out.decode(errors="replace").splitlines() if "=" in line)
        return {k: v for k, v in pairs}

    def py(self, code: str, *, stdin: bytes | int | None = None, **overrides: int | None) -> RunResult:
        return self.sb.run([PYTHON, "-S", "-c", code], self.limits(**overrides), stdin=stdin)


@pytest.fixture(scope="session")
def run(sb: sandbox.Sandbox, cc: Callable[..., bytes]) -> Runner:
    return Runner(sb, cc)


@pytest.fixture
def private_sandbox() -> Iterator[sandbox.Sandbox]:
    """A Sandbox of this test alone, so the test can close its pool and watch the janitor."""
    if host_problem() is not None:
        pytest.fail(f"CI=true but this host cannot run boxes: {host_problem()}")
    sb = sandbox.Sandbox(pool_depth=0)
    try:
        yield sb
    finally:
        sb.close()
