"""Serving the web role: the Flask app under waitress, a production WSGI server in pure Python.

Waitress streams a response as the app yields it (the API's server-sent events need that) and
serves each request on a thread of a fixed pool; waits and event streams hold a thread each,
so the pool is sized for them (`--threads`, default 32). SIGINT and SIGTERM stop it.
"""

from __future__ import annotations

import logging

import click
import waitress  # type: ignore[import-untyped, unused-ignore]  # typed in some releases


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=32, show_default=True, type=click.IntRange(1, 1024),
              help="Requests served at once (waits and event streams hold one each).")
def main(host: str, port: int, threads: int) -> None:
    """Serve the judge's web pages and JSON API."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from web.app import create_app

    try:
        app = create_app()
    except ValueError as e:  # a setting from the environment that cannot be used
        raise click.ClickException(str(e)) from None
    click.echo(f"judge web: listening on http://{host}:{port}/ (API at /api/v1)", err=True)
    waitress.serve(app, host=host, port=port, threads=threads, ident="judge", _quiet=True,
                   channel_timeout=120, connection_limit=1000)
