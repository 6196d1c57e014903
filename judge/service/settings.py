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

Read where they are used: `JUDGE_MAX_JOB_S` (the longest one grading may take, and from it
Redis's visibility timeout: judge/service/queue.py), `JUDGE_LEASE_S` (how soon a lost grading
is put back: judge/service/leases.py), `JUDGE_METRICS_TOKEN` (web/metrics.py).
"""

from __future__ import annotations

import math
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from judge.storage.db import default_url

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_MIN_FREE_MB = 100
DEFAULT_GRADE_ATTEMPTS = 3
DEFAULT_GRADE_RETRY_S = 2.0
DEFAULT_DB_RETRY_S = 60.0
MiB = 1024 * 1024


def _number(name: str, default: float, lowest: float) -> float:
    """A `JUDGE_*` number; the default when unset or not a number, never below `lowest`."""
    try:
        value = float(os.environ.get(name) or default)
    except ValueError:
        return default
    return max(lowest, value) if math.isfinite(value) else default


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str
    min_free_mb: float = DEFAULT_MIN_FREE_MB
    grade_attempts: int = DEFAULT_GRADE_ATTEMPTS
    grade_retry_s: float = DEFAULT_GRADE_RETRY_S
    db_retry_s: float = DEFAULT_DB_RETRY_S

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("JUDGE_DATA_DIR") or "./judge-data").resolve()
        return cls(
            data_dir=data_dir,
            database_url=default_url(),
            redis_url=os.environ.get("JUDGE_REDIS_URL") or DEFAULT_REDIS_URL,
            min_free_mb=_number("JUDGE_MIN_FREE_MB", DEFAULT_MIN_FREE_MB, 0),
            grade_attempts=int(_number("JUDGE_GRADE_ATTEMPTS", DEFAULT_GRADE_ATTEMPTS, 1)),
            grade_retry_s=_number("JUDGE_GRADE_RETRY_S", DEFAULT_GRADE_RETRY_S, 0),
            db_retry_s=_number("JUDGE_DB_RETRY_S", DEFAULT_DB_RETRY_S, 0),
        )

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
                return (f"only {free / MiB:.1f} MiB free on the file system of {place}; new submissions "
                        f"wait until at least {self.min_free_mb:g} MiB are (JUDGE_MIN_FREE_MB)")
        return None

    @property
    def problems_dir(self) -> Path:
        return self.data_dir / "problems"

    def secret_key(self) -> str:
        """`JUDGE_SECRET_KEY`, else the one kept in the data directory (made on first use)."""
        given = os.environ.get("JUDGE_SECRET_KEY")
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
