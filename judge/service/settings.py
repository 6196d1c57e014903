"""The service's settings, from the environment (CONTRACTS.md's names), read once per process.

`JUDGE_DATA_DIR` (default ./judge-data) holds the SQLite database, imported problem packages
and the embedded Redis's files. `JUDGE_DATABASE_URL` defaults to SQLite there.
`JUDGE_REDIS_URL` is where the broker is; `judge serve` sets it to the Redis it starts, and
`judge web` / `judge worker` alone default to a Redis on this machine's standard port.
`JUDGE_SECRET_KEY` signs the web's sessions and derives each user's webhook key; when unset,
a random one is made once and kept in the data directory (mode 0600), so restarts keep it.
Machines that share a service must share the key: set it on each.

Read where they are used: `JUDGE_MAX_JOB_S` (the longest one grading may take, and from it
Redis's visibility timeout: judge/service/queue.py), `JUDGE_LEASE_S` (how soon a lost grading
is put back: judge/service/leases.py), `JUDGE_METRICS_TOKEN` (web/metrics.py).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from judge.storage.db import default_url

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("JUDGE_DATA_DIR") or "./judge-data").resolve()
        return cls(
            data_dir=data_dir,
            database_url=default_url(),
            redis_url=os.environ.get("JUDGE_REDIS_URL") or DEFAULT_REDIS_URL,
        )

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
