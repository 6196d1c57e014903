"""Fixtures shared by every test folder: C probes built once per session, `sandbox_ready`,
`wait_until` (tests/kit.py's one polling loop, for a test that takes it as a fixture), a Redis and
a plain SQLite database.

`redis_url` is a redis-server of the test module's own (judge/service/redis_server.py), started
once per module; `redis_client` is a client of it, on a database emptied for the test.
`sqlite_sessions` is a session factory on a migrated SQLite file under tmp_path, for a module
whose tests are about something else than storage (tests/unit/conftest.py's `sessions` runs on
every backend instead).

`sandbox_ready` skips a test where the host cannot run boxes, with the reason `sandbox.check`
gives, except under CI=true, where a skip would hide a broken sandbox and so fails instead
(STYLE.md, "Tests").

A probe is a small C program that does one thing to the box (forks, spins, calls `bpf`) and
prints what happened. Tests hold their probe's source inline, so the attack and its assertion
read together; `cc` compiles each distinct source once per session with the host's gcc into
a temporary directory and hands back the binary's bytes, ready for `files={"prog": (b, 0o755)}`.
Every source gets `PRELUDE` (the common headers) in front.

On a slow machine (an emulator), JUDGE_TEST_SLOWNESS=N (tests/allowance.py) gives every
language's compile N times its CPU and wall time limits, for the whole session: a compile
that must succeed is not the thing those tests are about.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import allowance
import pytest
from kit import wait_until as _wait_until
from sqlalchemy.orm import Session, sessionmaker

PRELUDE = """\
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* CPU time of the calling thread or process, in seconds */
static double cpu_seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}
"""


class CCompiler:
    """Compiles C sources with the host's gcc, once per distinct source and flags."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.gcc = shutil.which("gcc") or shutil.which("cc")
        self._built: dict[str, bytes] = {}

    def __call__(self, source: str, *, flags: Sequence[str] = ()) -> bytes:
        if self.gcc is None:
            pytest.fail("no C compiler on this host for the test probes: apt-get install gcc libc6-dev")
        text = PRELUDE + source
        key = hashlib.sha256((text + "\0" + "\0".join(flags)).encode()).hexdigest()[:16]
        if key not in self._built:
            src = self.workdir / f"{key}.c"
            out = self.workdir / key
            src.write_text(text)
            cmd = [
                self.gcc,
                "-O2",
                "-pthread",
                "-Wall",
                "-Wno-unused-function",
                "-o",
                str(out),
                str(src),
                *flags,
            ]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                pytest.fail(f"probe does not compile:\n{proc.stderr}")
            self._built[key] = out.read_bytes()
        return self._built[key]


@pytest.fixture(scope="session")
def cc(tmp_path_factory: pytest.TempPathFactory) -> CCompiler:
    return CCompiler(tmp_path_factory.mktemp("probes"))


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
def wait_until() -> Callable[..., object]:
    return _wait_until


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from judge.service.redis_server import EmbeddedRedis

    with EmbeddedRedis(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[Any]:
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def sqlite_sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    from judge.storage import connect, migrate, session_factory

    engine = connect(f"sqlite:///{tmp_path / 'judge.db'}")
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def compile_limits_allow_slowness() -> Iterator[None]:
    """Under JUDGE_TEST_SLOWNESS=N, the language registry hands out recipes whose compile limits
    are N times longer (CPU and wall). The product's recipes are not changed; at N = 1 this does
    nothing. The scaled registry follows the real one: `languages.reload()` empties both."""
    if allowance.FACTOR == 1:
        yield
        return
    from judge import languages

    real = languages._registry
    last: dict[str, Any] = {}

    def scaled() -> Any:
        found = real()
        if last.get("of") is not found[0]:
            langs = tuple(
                replace(lang, compile_limits=allowance.limits(lang.compile_limits)) for lang in found[0]
            )
            last.update({"of": found[0], "scaled": (langs, *languages._index(langs))})
        return last["scaled"]

    scaled.cache_clear = real.cache_clear  # type: ignore[attr-defined]  # what languages.reload() calls
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(languages, "_registry", scaled)
        yield
