"""The service under test, whole and real: a Redis, a Celery worker grading in real boxes, the web.

`service` (one per session) starts the embedded redis-server (judge/service/redis_server.py),
`python -m worker` (C and Python 3 only, so its self-tests are quick; two pool processes, one
per CPU) and `python -m web` on a free loopback port, all on a fresh SQLite data directory,
and makes three accounts with tokens: an organiser and two contestants. It runs once on SQLite
and, when JUDGE_TEST_POSTGRES_URL is set (CI sets it), once more on a PostgreSQL database of
its own, made on that server for the run and dropped after it. Webhook retries back
off from 0.2 s instead of 2 s, so the retry test is quick. Logs are kept in the data directory
and their ends printed when a test fails to start the service.

Skipped where the host cannot run boxes, except under CI=true (STYLE.md, "Tests").
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from service_kit import Service, run_service, sum_package

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("JUDGE_TEST_POSTGRES_URL") else [])


@contextlib.contextmanager
def _database(backend: str, data_dir: Path) -> Iterator[str]:
    """A fresh, empty database's URL: a SQLite file, or a PostgreSQL database made for the run."""
    if backend == "sqlite":
        yield f"sqlite:///{data_dir / 'judge.db'}"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(os.environ["JUDGE_TEST_POSTGRES_URL"])
    name = f"judge_service_{os.getpid()}"
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=BACKENDS)
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sandbox_ready: None
) -> Iterator[Service]:
    data_dir = tmp_path_factory.mktemp(f"service-{request.param}")
    with _database(request.param, data_dir) as database_url:
        yield from run_service(data_dir, database_url)


# Rate limits far above what any test does (web/ratelimit.py), for every web a test starts from
# this environment; test_rate_limits.py gives its service low ones.
GENEROUS_RATE_LIMITS = {
    "JUDGE_RATE_LIMIT_SUBMIT": "100000/minute",
    "JUDGE_RATE_LIMIT_API": "1000000/minute",
    "JUDGE_RATE_LIMIT_PAGES": "1000000/minute",
    "JUDGE_RATE_LIMIT_LOGIN": "100000/minute",
}


@pytest.fixture(scope="session", autouse=True)
def generous_rate_limits() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        for name, value in GENEROUS_RATE_LIMITS.items():
            mp.setenv(name, value)
        yield


@pytest.fixture(scope="session")
def sum_problem(service: Service, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The id of an imported, verified `sum` problem."""
    archive = sum_package(tmp_path_factory.mktemp("pkg") / "sum.zip")
    with open(archive, "rb") as f:
        r = service.call("POST", "/problems", as_="organiser", files={"package": ("sum.zip", f)})
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["verification"]["ok"] is True, doc
    return str(doc["id"])


# -- the real browser (tests/service/test_pages.py, test_statement_pages.py) ----------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's headless chromium through Playwright, one per session (Playwright's sync API runs
    one at a time, so every page test shares it)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must have Debian's chromium at {CHROMIUM} (.ci/setup installs it)")
        pytest.skip(f"no {CHROMIUM}: apt-get install chromium")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: JUDGE_SCREENSHOT_DIR when set (the README's come from there)."""
    folder = Path(os.environ.get("JUDGE_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
