"""The web role as a WSGI application, for gunicorn: `gunicorn -k web.server.Worker web.wsgi:app`.

What the deployments in compose/ serve (the Compose file's `web` service and the systemd unit
judge-web.service); `judge web` (web/main.py) runs the same server in-process.

Gunicorn must use our worker class, web.server.Worker (gevent, with per-address bounds and
timeouts; its docstring says why). The API holds requests open: `?wait=true` waits for a
grading to finish, and the progress streams are server-sent events that last as long as a
grading. The default `sync` class serves one request at a time per process, and `gthread` one
per thread: a few dozen open streams would stall every request behind them.

The one module besides worker/app.py that reads the environment at import (STYLE.md, "Configuration"):
a WSGI server needs a module-level app. Gunicorn imports it in each of its worker processes,
after the fork, so no database connection or Redis socket is shared between processes; do not
add `--preload`, which would make the app (and its connections) in the master before the fork.
Each process brings the schema up to date as it starts (a no-op when it is current); on a new
database run the migration once first, as compose/ and the systemd unit do, so that two
processes never race to make the same tables.
"""

from __future__ import annotations

import logging

from flask import Flask

from judge.text import PrintableFormatter
from web.app import create_app

log_lines = logging.StreamHandler()  # what a contestant sent may be quoted: shown escaped
log_lines.setFormatter(PrintableFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
logging.basicConfig(level=logging.INFO, handlers=[log_lines])
logging.getLogger("alembic").setLevel(logging.WARNING)

app: Flask = create_app()
