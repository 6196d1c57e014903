"""`judge serve`, `judge web` and `judge worker`: the service, whole or one role at a time.

`judge web` and `judge worker` replace themselves (exec) with `python -m web` and
`python -m worker`: the roles live in web/ and worker/, which depend on judge/, never the other
way, so judge/ starts them by name. They read docs/contracts.md's environment (JUDGE_DATA_DIR,
JUDGE_DATABASE_URL, JUDGE_REDIS_URL, JUDGE_SECRET_KEY); the split roles need JUDGE_REDIS_URL
(default redis://127.0.0.1:6379/0).

`judge serve` is the whole service on one machine:

1. takes the data directory (a lock file: one `judge serve` per directory), checks that the port
   is free, and brings the database schema up to date;
2. on the first start (no organiser yet) creates the organiser `admin` with a random password
   and an API token, and prints both once;
3. unless JUDGE_REDIS_URL is set, starts the embedded Redis (judge/service/redis_server.py);
   on the first start, unless `--no-example`, imports the example problem (judge/examples/) and
   queues its verification, then prints a `curl` line that submits to it and one that fetches
   the verdict;
4. starts the worker (`--workers` boxes at a time, default one per CPU) and the web server,
   each in its own session, so the terminal's Ctrl-C reaches only `judge serve`;
5. on Ctrl-C or SIGTERM stops the web server, then the worker (a warm shutdown: running
   gradings finish, up to a grace period), then Redis last; if either child dies, it stops the
   rest and exits 1. Killed outright (SIGKILL), it leaves nothing running: each child gets
   SIGTERM from the kernel (judge/service/lifetime.py).
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import click
from sqlalchemy import select

from ..errors import JudgeError
from ..examples import EXAMPLE_ID, EXAMPLE_SOLUTION, import_example
from ..service import queue
from ..service.lifetime import terminate_with_parent
from ..service.redis_server import EmbeddedRedis, RedisServerError
from ..service.settings import Settings
from ..storage import connect, migrate, session_factory
from ..storage.models import Role, User
from ..storage.repo import create_token, create_user

STOP_GRACE_S = 30.0
FIRST_ORGANISER = "admin"


@click.command("web", context_settings={"ignore_unknown_options": True}, add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def web_command(args: tuple[str, ...]) -> None:
    """Run the web role alone: pages and the JSON API (options: judge web --help)."""
    os.execv(sys.executable, [sys.executable, "-m", "web", *args])


@click.command("worker", context_settings={"ignore_unknown_options": True}, add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def worker_command(args: tuple[str, ...]) -> None:
    """Run the worker role alone: grade queued submissions (options: judge worker --help)."""
    os.execv(sys.executable, [sys.executable, "-m", "worker", *args])


def _lock(data_dir: Path) -> IO[str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    f = open(data_dir / "serve.lock", "a+")  # held open for the life of the process
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise click.ClickException(
            f"another `judge serve` is using {data_dir}; stop it, or set JUDGE_DATA_DIR to another directory"
        ) from None
    return f


def _check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            raise click.ClickException(
                f"cannot listen on {host}:{port} ({e.strerror}); choose another with --port"
            ) from None


def _first_organiser(settings: Settings) -> tuple[str, str] | None:
    """(password, token) of the organiser made now, or None when there is one already."""
    engine = connect(settings.database_url)
    try:
        migrate(engine)
        with session_factory(engine).begin() as session:
            staff = session.scalars(select(User).where(User.role.in_([Role.ORGANISER, Role.ADMIN]))).first()
            if staff is not None:
                return None
            password = secrets.token_urlsafe(12)
            user = create_user(session, FIRST_ORGANISER, password, Role.ORGANISER)
            _, token = create_token(session, user)
            return password, token
    finally:
        engine.dispose()


def _import_example(settings: Settings, redis_url: str) -> bool:
    """Import the example problem as an upload would; False (and a line saying why) if it failed."""
    engine = connect(settings.database_url)
    try:
        import_example(session_factory(engine), settings.data_dir, queue.client(redis_url))
        return True
    except (JudgeError, OSError) as e:  # not expected of our own package; the service runs on without it
        click.echo(f"judge serve: could not import the example problem: {e}", err=True)
        return False
    finally:
        engine.dispose()


def curl_lines(base: str, token: str) -> tuple[str, str]:
    """Shell lines that submit the example's accepted solution and wait for its verdict, then
    fetch a submission again (ID: the "id" of the first answer)."""
    body = json.dumps({"problem": EXAMPLE_ID, "language": "python3", "source": EXAMPLE_SOLUTION.read_text()})
    auth = f"-H 'Authorization: Bearer {token}'"
    submit = (
        f"curl -sS {auth} -H 'Content-Type: application/json' "
        f"-d {shlex.quote(body)} '{base}/api/v1/submissions?wait=true'"
    )
    return submit, f"curl -sS {auth} '{base}/api/v1/submissions/ID'"


def _stop(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the web server listens on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=None,
    help="Boxes at a time (worker processes, each pinned to a CPU); default: one per CPU.",
)
@click.option("--languages", default=None, help="Comma-separated language ids to offer (default: all).")
@click.option(
    "--no-example",
    is_flag=True,
    help=f"On the first start, do not import the example problem {EXAMPLE_ID!r}.",
)
def serve_command(host: str, port: int, workers: int | None, languages: str | None, no_example: bool) -> None:
    """The whole service on this machine: web, API, workers, and (unless JUDGE_REDIS_URL is set)
    an embedded Redis; SQLite under JUDGE_DATA_DIR unless JUDGE_DATABASE_URL is set. Ctrl-C stops it."""
    settings = Settings.from_env()
    lock = _lock(settings.data_dir)
    _check_port(host, port)
    made = _first_organiser(settings)
    settings.secret_key()  # made now, before two children race to make it
    redis_server: EmbeddedRedis | None = None
    env = dict(os.environ, JUDGE_DATA_DIR=str(settings.data_dir), JUDGE_DATABASE_URL=settings.database_url)
    if not settings.redis_url_given:
        redis_server = EmbeddedRedis(settings.data_dir / "redis")
        try:
            env["JUDGE_REDIS_URL"] = redis_server.start()
        except RedisServerError as e:
            raise click.ClickException(str(e)) from None
    example = made is not None and not no_example and _import_example(settings, env["JUDGE_REDIS_URL"])
    stopping = [False]

    def on_signal(signum: int, _frame: object) -> None:
        stopping[0] = True

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    children: list[tuple[str, subprocess.Popen[bytes]]] = []
    status = 0
    try:
        worker_args = ["--concurrency", str(workers)] if workers else []
        worker_args += ["--languages", languages] if languages else []
        for name, args in (("worker", worker_args), ("web", ["--host", host, "--port", str(port)])):
            proc = subprocess.Popen(
                [sys.executable, "-m", name, *args],
                env=env,
                start_new_session=True,
                preexec_fn=terminate_with_parent,
            )
            children.append((name, proc))
        shown = f"[{host}]" if ":" in host else host
        click.echo(
            f"judge serve: http://{shown}:{port}/  API: http://{shown}:{port}/api/v1/  "
            f"data: {settings.data_dir}  (Ctrl-C stops)",
            err=True,
        )
        if made is not None:
            password, token = made
            click.echo(
                f"judge serve: first start: created the organiser {FIRST_ORGANISER!r}\n"
                f"  password:  {password}\n  API token: {token}\n"
                "  (shown once; more with `judge user add` and `judge token create`)",
                err=True,
            )
            if example:
                local = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, shown)
                submit, fetch = curl_lines(f"http://{local}:{port}", token)
                click.echo(
                    f"judge serve: imported the example problem {EXAMPLE_ID!r}; log in and submit "
                    f"to it at http://{local}:{port}/problems/{EXAMPLE_ID}, or from a shell:\n"
                    f"  {submit}\n"
                    '  and fetch a submission again by the "id" that answer gave:\n'
                    f"  {fetch}",
                    err=True,
                )
        while not stopping[0]:
            dead = [(name, p) for name, p in children if p.poll() is not None]
            if dead:
                name, p = dead[0]
                click.echo(f"judge serve: the {name} stopped (exit code {p.returncode}); stopping", err=True)
                status = 1
                break
            time.sleep(0.2)
    finally:
        click.echo("judge serve: stopping", err=True)
        for _name, p in reversed(children):  # web first, then the worker, which finishes its gradings
            _stop(p, STOP_GRACE_S)
        if redis_server is not None:
            redis_server.stop()
        for s, handler in old.items():
            signal.signal(s, handler)
        lock.close()
    sys.exit(status)
