"""A worker runs the language self-tests first and takes no work for a language that fails them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from service_kit import Service

pytestmark = pytest.mark.sandbox


def run_worker(tmp_path: Path, env: dict[str, str], languages: str) -> subprocess.CompletedProcess[str]:
    """`python -m worker` on a data directory and database of its own, which must end by itself."""
    env = dict(env, JUDGE_DATA_DIR=str(tmp_path), JUDGE_DATABASE_URL=f"sqlite:///{tmp_path / 'judge.db'}")
    return subprocess.run(
        [sys.executable, "-m", "worker", "--languages", languages],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_worker_offers_no_language_whose_image_is_not_here(tmp_path: Path, service: Service) -> None:
    # an image directory without the images: no language can run, and none is self-tested in vain
    proc = run_worker(tmp_path, dict(service.env, JUDGE_IMAGE_DIR=str(tmp_path / "no-images")), "c,python3")
    assert proc.returncode == 1
    assert "not offering 2 languages whose image is not here: c, python3" in proc.stderr
    assert "no language passed its self-test" in proc.stderr


def test_a_worker_refuses_languages_whose_self_test_fails(tmp_path: Path, service: Service) -> None:
    # an operator's recipe (JUDGE_LANGUAGES) on a built image whose self-test prints the wrong sum
    recipes = tmp_path / "languages.toml"
    recipes.write_text(
        '[broken]\nname = "Broken"\nextensions = [".broken"]\nsource = "main.py"\nimage = "python3"\n'
        'run = ["/usr/bin/python3", "{source}"]\nversion = ["/usr/bin/python3", "--version"]\n'
        '[broken.self_test]\nsource = "print(4)"\nstdin = "2 3\\n"\nexpected = "5\\n"\n'
    )
    proc = run_worker(tmp_path, dict(service.env, JUDGE_LANGUAGES=str(recipes)), "broken")
    assert proc.returncode == 1
    assert "refusing broken: its self-test failed: wrong output: expected '5\\n', got '4'" in proc.stderr
    assert "no language passed its self-test" in proc.stderr


def test_the_running_worker_announces_what_it_takes(service: Service) -> None:
    (worker,) = service.call("GET", "/workers", as_="organiser").json()["workers"]
    assert sorted(worker["languages"]) == ["c", "python3"]
    assert set(worker["versions"]) == {"c", "python3"}
    assert worker["cpus"] == sorted(os.sched_getaffinity(0))


def test_an_unknown_language_is_a_usage_error(service: Service) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "worker", "--languages", "swift"],
        env=service.env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "swift" in proc.stderr
