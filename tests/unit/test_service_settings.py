"""judge/service/settings.py: where the service keeps things, and its secret key."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from judge.service.settings import DEFAULT_REDIS_URL, Settings


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("JUDGE_DATABASE_URL", "JUDGE_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUDGE_DATA_DIR", str(tmp_path / "d"))
    s = Settings.from_env()
    assert s.data_dir == tmp_path / "d"
    assert s.database_url == f"sqlite:///{tmp_path / 'd' / 'judge.db'}"
    assert s.redis_url == DEFAULT_REDIS_URL
    monkeypatch.setenv("JUDGE_REDIS_URL", "redis://broker:6379/1")
    assert Settings.from_env().redis_url == "redis://broker:6379/1"


def test_secret_key_is_made_once_and_kept_private(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("JUDGE_SECRET_KEY", raising=False)
    s = Settings(data_dir=tmp_path, database_url="sqlite://", redis_url=DEFAULT_REDIS_URL)
    key = s.secret_key()
    assert len(key) >= 32
    assert s.secret_key() == key  # kept: a restart keeps sessions and webhook keys
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    monkeypatch.setenv("JUDGE_SECRET_KEY", "given")
    assert s.secret_key() == "given"
