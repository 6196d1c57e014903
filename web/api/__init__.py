"""The JSON API under /api/v1, documented in openapi.yaml (served as /api/v1/openapi.json).

* errors.py       every error as {"error": {"code", "message"}}
* auth.py         bearer tokens; who may see and do what
* submissions.py  submit (to a problem or ad hoc), read, wait, follow (SSE), batch, rejudge
* catalogue.py    languages, problems (organisers import packages), the caller's account
* organiser.py    batches and their results, rejudging a problem, the queue and the workers
* openapi.py      GET /api/v1/openapi.json: openapi.yaml as JSON, naming this server; no token
"""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")

from web.api import errors  # noqa: E402

errors.register(blueprint)


from web.api import catalogue, openapi, organiser, submissions  # noqa: E402, F401
