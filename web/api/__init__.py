"""The JSON API under /api/v1, documented in openapi.yaml (served as /api/v1/openapi.json).

* errors.py       every error as {"error": {"code", "message"}}, the service's refusals too
* body.py         JSON bodies: parsed without surprises, strings that can be stored
* auth.py         bearer tokens; who may see and do what
* submissions.py  submit (to a problem or ad hoc), read, wait, follow (SSE), batch, rejudge
* catalogue.py    languages, problems (organisers import packages), the caller's account
* organiser.py    batches and their results, rejudging a problem, the queue and the workers
* openapi.py      GET /api/v1/openapi.json: openapi.yaml as JSON, naming this server; no token

The views parse a request, call the service (judge/service/: submissions.py, batches.py,
problems.py) and answer; a refusal of the service (judge.errors.Refused) is answered by errors.py.
The pages (web/pages/) call the same service and never these views.
"""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")

# An id in a path is at most PostgreSQL's `integer` (2^31 - 1); a larger one matches no route,
# so it is a 404, never a query the database refuses (`<int:...>` alone was a 500 for 10^30).
MAX_ID = 2**31 - 1
ID = f"int(max={MAX_ID})"

from web.api import errors  # noqa: E402
from web.api.body import url_fault  # noqa: E402

errors.register(blueprint)


@blueprint.before_request
def _refuse_nul_in_urls() -> None:
    fault = url_fault()
    if fault is not None:
        raise errors.ApiError(400, "bad_request", fault)


from web.api import catalogue, openapi, organiser, submissions  # noqa: E402, F401
