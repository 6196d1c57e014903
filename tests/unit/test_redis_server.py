"""The embedded Redis, run with the real redis-server binary (Debian's package) in tmp_path.

Tests that need redis-server are skipped where it is not installed, except under CI=true, where
the skip would hide a `judge serve` that cannot start; the missing-binary tests run everywhere.
Two failure paths (Redis exits at once, Redis never answers) need a binary that misbehaves on
purpose: a two-line shell script stands in for redis-server there, nowhere else.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from judge.errors import JudgeError
from judge.service import redis_server
from judge.service.redis_server import EmbeddedRedis, RedisServerError

needs_redis = pytest.mark.skipif(
    shutil.which("redis-server") is None and os.environ.get("CI") != "true",
    reason="no redis-server here; `apt-get install redis-server` (Debian's package) to run these",
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    embedded = EmbeddedRedis(tmp_path / "redis")
    embedded.start()
    yield embedded
    embedded.stop()


NO_RETRY = Retry(NoBackoff(), 0)  # redis-py retries a refused AUTH for seconds by default


def client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2, retry=NO_RETRY)


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def script(path: Path, body: str) -> str:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


@needs_redis
def test_start_ping_set_get_stop(tmp_path: Path) -> None:
    embedded = EmbeddedRedis(tmp_path / "redis")
    url = embedded.start()
    assert url == embedded.url
    assert url.startswith("redis://:") and "@127.0.0.1:" in url and url.endswith("/0")
    with client(url) as c:
        assert c.ping() is True
        c.set("greeting", b"hello")
        assert c.get("greeting") == b"hello"
    embedded.stop()
    with pytest.raises(RedisServerError, match="not running"):
        _ = embedded.url


@needs_redis
def test_a_connection_without_the_password_is_refused(server: EmbeddedRedis) -> None:
    port = port_of(server.url)
    with redis.Redis(port=port, retry=NO_RETRY) as c, pytest.raises(redis.AuthenticationError):
        c.ping()
    with (
        redis.Redis(port=port, password="guess", retry=NO_RETRY) as c,
        pytest.raises(redis.AuthenticationError),
    ):
        c.ping()


@needs_redis
def test_the_password_is_not_on_the_command_line(server: EmbeddedRedis) -> None:
    password = server.url.split(":")[2].split("@")[0]
    assert server.pid is not None
    cmdline = Path(f"/proc/{server.pid}/cmdline").read_bytes()
    assert password.encode() not in cmdline
    assert not any(
        password in p.read_text(errors="replace") for p in server.data_dir.rglob("*") if p.is_file()
    )


@needs_redis
def test_it_runs_in_its_own_session(server: EmbeddedRedis) -> None:
    assert server.pid is not None
    assert os.getsid(server.pid) == server.pid != os.getsid(0)  # the terminal's Ctrl-C does not reach it


@needs_redis
def test_it_listens_on_loopback_only(server: EmbeddedRedis) -> None:
    with client(server.url) as c:
        assert c.config_get("bind") == {"bind": "127.0.0.1"}
        assert c.config_get("protected-mode") == {"protected-mode": "yes"}
        assert c.config_get("appendonly") == {"appendonly": "yes"}
        assert c.config_get("save") == {"save": ""}


@needs_redis
def test_data_survives_a_stop_and_a_restart(tmp_path: Path) -> None:
    first = EmbeddedRedis(tmp_path / "redis")
    with client(first.start()) as c:
        c.rpush("celery", b"job-1", b"job-2")
    first.stop()

    second = EmbeddedRedis(tmp_path / "redis")
    with second, client(second.url) as c:
        assert c.lrange("celery", 0, -1) == [b"job-1", b"job-2"]
    assert (tmp_path / "redis" / "appendonlydir").is_dir()


@needs_redis
def test_data_dir_is_made_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "deep" / "redis"
    with EmbeddedRedis(data_dir):
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
        assert "Ready to accept connections" in (data_dir / "redis.log").read_text()


@needs_redis
def test_a_data_dir_with_quotes_and_spaces(tmp_path: Path) -> None:
    data_dir = tmp_path / 'a "quoted" dir\\ with spaces'
    with EmbeddedRedis(data_dir) as embedded, client(embedded.url) as c:
        c.set("k", b"v")
    assert (data_dir / "appendonlydir").is_dir()
    assert (data_dir / "redis.log").is_file()


def test_a_missing_binary_says_how_to_install_it(tmp_path: Path) -> None:
    embedded = EmbeddedRedis(tmp_path / "redis", binary=str(tmp_path / "no-such-redis"))
    with pytest.raises(RedisServerError, match="redis-server") as caught:
        embedded.start()
    assert "apt-get install redis-server" in str(caught.value)
    assert "JUDGE_REDIS_URL" in str(caught.value)
    assert isinstance(caught.value, JudgeError)
    assert embedded.pid is None


def test_no_redis_server_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JUDGE_REDIS_SERVER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RedisServerError, match=r"redis-server not found: 'redis-server' \(PATH\)"):
        EmbeddedRedis(tmp_path / "redis").start()


def test_judge_redis_server_names_the_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUDGE_REDIS_SERVER", str(tmp_path / "elsewhere" / "redis-server"))
    with pytest.raises(RedisServerError, match="JUDGE_REDIS_SERVER"):
        EmbeddedRedis(tmp_path / "redis").start()


def test_stop_is_idempotent(tmp_path: Path) -> None:
    embedded = EmbeddedRedis(tmp_path / "redis")
    embedded.stop()  # never started
    if shutil.which("redis-server") is None and os.environ.get("CI") != "true":
        return
    embedded.start()
    embedded.stop()
    embedded.stop()
    assert embedded.pid is None


@needs_redis
def test_the_process_is_gone_after_stop(tmp_path: Path) -> None:
    embedded = EmbeddedRedis(tmp_path / "redis")
    url = embedded.start()
    pid = embedded.pid
    assert pid is not None and is_running(pid)
    embedded.stop()
    assert not is_running(pid)
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port_of(url)), 2):
        pass


@needs_redis
def test_it_can_be_started_again(tmp_path: Path) -> None:
    embedded = EmbeddedRedis(tmp_path / "redis")
    first = embedded.start()
    with pytest.raises(RedisServerError, match="already running"):
        embedded.start()
    embedded.stop()
    second = embedded.start()
    try:
        assert second != first  # a new password each start
        with client(second) as c:
            assert c.ping() is True
    finally:
        embedded.stop()


@needs_redis
def test_a_picked_port_taken_by_someone_else_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        picks = iter([taken])
        real_pick = redis_server._free_port
        monkeypatch.setattr(redis_server, "_free_port", lambda: next(picks, None) or real_pick())
        with EmbeddedRedis(tmp_path / "redis") as embedded:
            assert port_of(embedded.url) != taken
            with client(embedded.url) as c:
                assert c.ping() is True
    assert "Address already in use" in (tmp_path / "redis" / "redis.log").read_text()


@needs_redis
def test_a_given_port_in_use_is_an_error(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        embedded = EmbeddedRedis(tmp_path / "redis", port=squatter.getsockname()[1])
        with pytest.raises(RedisServerError, match="is in use"):
            embedded.start()
    assert embedded.pid is None


def test_an_early_exit_quotes_the_log(tmp_path: Path) -> None:
    binary = script(tmp_path / "broken", 'echo "FATAL CONFIG FILE ERROR (stand-in)" >&2; exit 3')
    with pytest.raises(RedisServerError, match=r"exited with code 3") as caught:
        EmbeddedRedis(tmp_path / "redis", binary=binary).start()
    assert "FATAL CONFIG FILE ERROR (stand-in)" in str(caught.value)


def test_no_answer_in_time_kills_it(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    binary = script(tmp_path / "silent", f'echo $$ > "{pid_file}"; exec sleep 60')
    embedded = EmbeddedRedis(tmp_path / "redis", binary=binary)
    with pytest.raises(RedisServerError, match="did not answer .* within 0.5 s and was killed"):
        embedded.start(timeout_s=0.5)
    assert not is_running(int(pid_file.read_text()))
    assert embedded.pid is None
