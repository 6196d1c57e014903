"""`judge web`: the Flask app under gunicorn with web/server.py's evented worker class.

The same server as the deployments in compose/ (`gunicorn -k web.server.Worker web.wsgi:app`),
run in-process: gunicorn's master forks `--processes` workers (default 1; each serves thousands
of connections), each makes the app after gevent has patched it. SIGINT and SIGTERM stop it:
open requests get GRACE_S, then are cut (an event stream never ends by itself).
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

import click
from gunicorn.app.base import BaseApplication

from judge.text import PrintableFormatter

if TYPE_CHECKING:
    from flask import Flask


class _Gunicorn(BaseApplication):  # type: ignore[misc]  # gunicorn is untyped
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from web.app import create_app  # in the worker, after gevent patched it

        try:
            return create_app()
        except ValueError as e:  # a setting from the environment that cannot be used
            click.echo(f"Error: {e}", err=True)
            sys.exit(3)  # gunicorn's "worker failed to boot": the master stops too


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--processes",
    default=1,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Worker processes, each serving thousands of connections (more use more cores).",
)
def main(host: str, port: int, processes: int) -> None:
    """Serve the judge's web pages and JSON API."""
    log_lines = logging.StreamHandler()  # what a contestant sent may be quoted: shown escaped
    log_lines.setFormatter(PrintableFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[log_lines])
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # Only light modules here: the app's (flask, SQLAlchemy, Celery) are imported in the worker,
    # after gevent has patched it. Settings of the app are checked as it is made (load above).
    from web import server
    from web.holds import HoldLimits

    try:
        HoldLimits.from_env()
        server.idle_per_address()
        server.connections()
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    click.echo(f"judge web: listening on http://{bind}/ (API at /api/v1)", err=True)
    _Gunicorn(
        {
            "bind": [bind],
            "workers": processes,
            "worker_class": "web.server.Worker",
            "graceful_timeout": server.GRACE_S,
            "timeout": 60,  # a worker whose loop is stuck this long is replaced
            "proc_name": "judge-web",
            "loglevel": "warning",
            "errorlog": "-",
            "accesslog": None,
        }
    ).run()
