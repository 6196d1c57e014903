"""The service's settings, from the environment (docs/contracts.md's names), read once per process.

`JUDGE_DATA_DIR` (default ./judge-data) holds the SQLite database, imported problem packages
and the embedded Redis's files. `JUDGE_DATABASE_URL` defaults to SQLite there.
`JUDGE_REDIS_URL` is where the broker is; `judge serve` sets it to the Redis it starts, and
`judge web` / `judge worker` alone default to a Redis on this machine's standard port.
`JUDGE_SECRET_KEY` signs the web's sessions and derives each user's webhook key; when unset,
a random one is made once and kept in the data directory (mode 0600), so restarts keep it.
Machines that share a service must share the key: set it on each.

Faults (tests/service/test_faults.py plays each out): `JUDGE_MIN_FREE_MB` (default 100; 0 turns
it off): new submissions are refused, 507 `storage_full`, while the data directory's file system
or the SQLite file's has less free. `JUDGE_GRADE_ATTEMPTS` (default 3) gradings of one task when a
box cannot be made (SandboxError, an IE test), `JUDGE_GRADE_RETRY_S` (default 2) apart, doubling,
before the submission is IE. `JUDGE_DB_RETRY_S` (default 60): how long a worker keeps trying a
write the database refuses (locked by another writer, or away) before it gives the submission up
to the reaper.

Every other `JUDGE_*` variable of judge/, web/ and worker/ is read here too, as a property of
the snapshot `from_env` takes: parsed when the caller asks (so a bad value fails where it always
did), documented where it is used: `JUDGE_MAX_JOB_S` (the longest one grading may take, and from
it Redis's visibility timeout: judge/service/queue.py), `JUDGE_LEASE_S` and `JUDGE_WORKER_NAME`
(judge/service/leases.py), `JUDGE_WEBHOOK_BACKOFF_S` (judge/service/webhooks.py),
`JUDGE_COMPILE_CACHE_DIR` and `JUDGE_COMPILE_CACHE_MIB` (judge/compile_cache.py),
`JUDGE_IMAGE_DIR` (judge/images.py), `JUDGE_LANGUAGES` (judge/languages/), `JUDGE_REDIS_SERVER`
(judge/service/redis_server.py), `JUDGE_METRICS_TOKEN` (web/metrics.py), `JUDGE0_PREFIX` and
`JUDGE0_MAX_QUEUE_SIZE` (web/judge0.py), `JUDGE_PROXY_HOPS` (web/app.py, web/server.py),
`JUDGE_WORKER_CPUS` (worker/tasks.py), `JUDGE_TEST_PARALLELISM` and `JUDGE_CORES_DIR`
(judge/cores.py). A caller that read the environment when it ran asks `Settings.from_env()`
when it runs, so nothing is read at import time.

Not here: sandbox/'s own variables (`SANDBOX_*`, `JUDGE_DEBIAN_MIRROR`, `JUDGE_NPM_REGISTRY`),
since sandbox/ imports nothing of the project; web/holds.py's and web/ratelimit.py's limits,
frozen objects of their own made from the environment by create_app; web/server.py's
connection bounds (`JUDGE_WEB_*`), read by the server before the app exists.
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_MIN_FREE_MB = 100
DEFAULT_GRADE_ATTEMPTS = 3
DEFAULT_GRADE_RETRY_S = 2.0
DEFAULT_DB_RETRY_S = 60.0
DEFAULT_MAX_JOB_S = 1200.0
DEFAULT_LEASE_S = 15.0
DEFAULT_WEBHOOK_BACKOFF_S = 2.0
DEFAULT_COMPILE_CACHE_MIB = 512
DEFAULT_IMAGE_DIR = "/var/lib/judge/images"
MAX_UPLOAD_BYTES = 256 * 1024 * 1024  # a problem package or a batch archive, spooled to disk
DEFAULT_JUDGE0_PREFIX = "/judge0"
DEFAULT_JUDGE0_MAX_QUEUE_SIZE = 100
MiB = 1024 * 1024


def _number(env: Mapping[str, str], name: str, default: float, lowest: float) -> float:
    """A `JUDGE_*` number; the default when unset or not a number, never below `lowest`."""
    try:
        value = float(env.get(name) or default)
    except ValueError:
        return default
    return max(lowest, value) if math.isfinite(value) else default


def database_url(env: Mapping[str, str]) -> str:
    """`JUDGE_DATABASE_URL`, else SQLite at `$JUDGE_DATA_DIR/judge.db`."""
    url = env.get("JUDGE_DATABASE_URL")
    if url:
        return url
    data_dir = Path(env.get("JUDGE_DATA_DIR") or "./judge-data")
    return f"sqlite:///{(data_dir / 'judge.db').resolve()}"


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str
    min_free_mb: float = DEFAULT_MIN_FREE_MB
    grade_attempts: int = DEFAULT_GRADE_ATTEMPTS
    grade_retry_s: float = DEFAULT_GRADE_RETRY_S
    db_retry_s: float = DEFAULT_DB_RETRY_S
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)  # from_env's snapshot

    @classmethod
    def from_env(cls) -> Settings:
        env = dict(os.environ)
        data_dir = Path(env.get("JUDGE_DATA_DIR") or "./judge-data").resolve()
        return cls(
            data_dir=data_dir,
            database_url=database_url(env),
            redis_url=env.get("JUDGE_REDIS_URL") or DEFAULT_REDIS_URL,
            min_free_mb=_number(env, "JUDGE_MIN_FREE_MB", DEFAULT_MIN_FREE_MB, 0),
            grade_attempts=int(_number(env, "JUDGE_GRADE_ATTEMPTS", DEFAULT_GRADE_ATTEMPTS, 1)),
            grade_retry_s=_number(env, "JUDGE_GRADE_RETRY_S", DEFAULT_GRADE_RETRY_S, 0),
            db_retry_s=_number(env, "JUDGE_DB_RETRY_S", DEFAULT_DB_RETRY_S, 0),
            env=env,
        )

    # -- read when asked, from the snapshot (see the module's docstring for who asks) ----------

    @property
    def redis_url_given(self) -> bool:
        """JUDGE_REDIS_URL is set: `judge serve` uses that Redis instead of starting its own."""
        return bool(self.env.get("JUDGE_REDIS_URL"))

    @property
    def max_job_s(self) -> float:
        """`JUDGE_MAX_JOB_S`: the longest one grading may take (default 1200 s, at least 10)."""
        try:
            return max(10.0, float(self.env.get("JUDGE_MAX_JOB_S") or DEFAULT_MAX_JOB_S))
        except ValueError:
            return DEFAULT_MAX_JOB_S

    @property
    def lease_s(self) -> float:
        """`JUDGE_LEASE_S`: how long a holder that stops renewing keeps its submissions (default 15)."""
        try:
            value = float(self.env.get("JUDGE_LEASE_S") or DEFAULT_LEASE_S)
        except ValueError:
            return DEFAULT_LEASE_S
        return max(1.0, value)

    @property
    def worker_name(self) -> str:
        """`JUDGE_WORKER_NAME` (set by worker/main.py for its pool processes), else "judge"."""
        return self.env.get("JUDGE_WORKER_NAME") or "judge"

    @property
    def worker_cpus(self) -> list[str]:
        """`JUDGE_WORKER_CPUS` (set by worker/main.py): the CPUs its pool processes are pinned to."""
        return [c for c in self.env.get("JUDGE_WORKER_CPUS", "").split(",") if c]

    @property
    def test_parallelism(self) -> int | None:
        """`JUDGE_TEST_PARALLELISM`: boxes at once for one submission's tests, on idle cores
        (judge/cores.py); None for `auto` (the default, and a value that is not a number): one
        per core of the worker's set. 1 runs one test at a time."""
        raw = self.env.get("JUDGE_TEST_PARALLELISM", "").strip()
        try:
            return max(1, int(raw)) if raw and raw != "auto" else None
        except ValueError:
            return None

    @property
    def cores_dir(self) -> str | None:
        """`JUDGE_CORES_DIR`: where the workers of this machine say which cores are busy
        (judge/cores.py; containers of one machine must share it); None: /run/judge-cores."""
        return self.env.get("JUDGE_CORES_DIR") or None

    @property
    def webhook_backoff_s(self) -> float:
        """`JUDGE_WEBHOOK_BACKOFF_S`: the first wait between a webhook's attempts (default 2)."""
        return float(self.env.get("JUDGE_WEBHOOK_BACKOFF_S") or DEFAULT_WEBHOOK_BACKOFF_S)

    @property
    def compile_cache_dir(self) -> str | None:
        """`JUDGE_COMPILE_CACHE_DIR`; None when unset or `off` (no cache)."""
        directory = self.env.get("JUDGE_COMPILE_CACHE_DIR")
        return None if not directory or directory == "off" else directory

    @property
    def compile_cache_bytes(self) -> int:
        """`JUDGE_COMPILE_CACHE_MIB` (default 512), in bytes."""
        return int(self.env.get("JUDGE_COMPILE_CACHE_MIB") or DEFAULT_COMPILE_CACHE_MIB) << 20

    @property
    def image_dir(self) -> str:
        """`JUDGE_IMAGE_DIR`: the image store (default /var/lib/judge/images)."""
        return self.env.get("JUDGE_IMAGE_DIR", DEFAULT_IMAGE_DIR)

    @property
    def language_files(self) -> list[Path]:
        """`JUDGE_LANGUAGES`: the operator's recipe files, `:` between several; none when unset."""
        return [Path(p) for p in self.env.get("JUDGE_LANGUAGES", "").split(":") if p.strip()]

    @property
    def redis_server(self) -> str | None:
        """`JUDGE_REDIS_SERVER`: the redis-server binary the embedded Redis runs, else None (PATH)."""
        return self.env.get("JUDGE_REDIS_SERVER") or None

    @property
    def metrics_token(self) -> str | None:
        """`JUDGE_METRICS_TOKEN`: the bearer token /metrics wants; None (open) when unset."""
        return self.env.get("JUDGE_METRICS_TOKEN") or None

    @property
    def judge0_prefix(self) -> str:
        """`JUDGE0_PREFIX`: where the Judge0-compatible API is mounted (default /judge0)."""
        return self.env.get("JUDGE0_PREFIX", DEFAULT_JUDGE0_PREFIX)

    @property
    def judge0_max_queue_size(self) -> int:
        """`JUDGE0_MAX_QUEUE_SIZE` (default 100)."""
        return int(self.env.get("JUDGE0_MAX_QUEUE_SIZE", str(DEFAULT_JUDGE0_MAX_QUEUE_SIZE)))

    @property
    def proxy_hops_raw(self) -> str:
        """`JUDGE_PROXY_HOPS` as given, stripped ("" when unset); web/app.py says what it means."""
        return self.env.get("JUDGE_PROXY_HOPS", "").strip()

    def short_of_space(self) -> str | None:
        """Why new submissions must wait for disk space, or None: the data directory's file
        system, or the SQLite file's, has less than `min_free_mb` MiB free. A directory that does
        not exist yet is judged by the nearest one that does."""
        if self.min_free_mb <= 0:
            return None
        places = [self.data_dir]
        url = make_url(self.database_url)
        sqlite_file = url.database if url.get_backend_name() == "sqlite" else None
        if sqlite_file and sqlite_file != ":memory:" and not sqlite_file.startswith("file:"):
            places.append(Path(sqlite_file).parent)
        for place in places:
            while not place.exists() and place != place.parent:
                place = place.parent
            try:
                fs = os.statvfs(place)
            except OSError:
                continue  # not ours to judge: the write itself reports what is wrong
            free = fs.f_bavail * fs.f_frsize
            if free < self.min_free_mb * MiB:
                return (
                    f"only {free / MiB:.1f} MiB free on the file system of {place}; new submissions "
                    f"wait until at least {self.min_free_mb:g} MiB are (JUDGE_MIN_FREE_MB)"
                )
        return None

    @property
    def problems_dir(self) -> Path:
        return self.data_dir / "problems"

    def secret_key(self) -> str:
        """`JUDGE_SECRET_KEY`, else the one kept in the data directory (made on first use)."""
        given = os.environ.get("JUDGE_SECRET_KEY")  # live, as it always was read
        if given:
            return given
        path = self.data_dir / "secret_key"
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            pass
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(key + "\n")
        return key
