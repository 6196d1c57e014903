"""Schemathesis against /api/v1/openapi.json: no answer is a 5xx, and every answer is as documented.

A service of this module's own (service_kit's `run_service`: a real Redis, worker and web on a
fresh SQLite data directory), so the fuzzing's requests neither slow nor disturb the shared
one. Every operation of the document is generated from its schemas (valid and invalid bodies,
parameters and paths; schemathesis's coverage phase adds the boundary values) and called over
HTTP as an organiser, then again as a contestant. Each answer must not be a 5xx
(`not_a_server_error`) and must match the document's schema for its status, event streams
event by event (`response_schema_conformance`). Nothing is excluded: the event stream of a
submission ends once it is done, and the ones fuzzing makes are ad hoc runs in C or Python,
which the worker here takes; TIMEOUT_S still stops a stream that would hang.

Bounded: MAX_EXAMPLES generated cases per operation and role, no deadline (answers come
through a real server), no example database (nothing is written into the checkout); about
three minutes in all. Each 5xx it found was a bug, fixed, with a regression test in
tests/service/test_bad_input.py: a lone surrogate in a string, an id beyond the database's
integers, a callback_url urlsplit could not split, and an event stream the document
described as one string.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from service_kit import Service, run_service

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

MAX_EXAMPLES = 25
TIMEOUT_S = 90  # longer than any bounded wait the API offers (60 s)
FUZZ = settings(
    max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


@pytest.fixture(scope="module")
def fuzz_service(tmp_path_factory: pytest.TempPathFactory, sandbox_ready: None) -> Iterator[Service]:
    data_dir = tmp_path_factory.mktemp("fuzz")
    yield from run_service(data_dir, f"sqlite:///{data_dir / 'judge.db'}")


@pytest.fixture(scope="module")
def api_schema(fuzz_service: Service) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(fuzz_service.url("/openapi.json"))


schema = schemathesis.pytest.from_fixture("api_schema")


def _call(case: schemathesis.Case, service: Service, who: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {service.tokens[who]}"},
        checks=[not_a_server_error, response_schema_conformance],
        timeout=TIMEOUT_S,
    )


@schema.parametrize()
@FUZZ
def test_as_an_organiser(case: schemathesis.Case, fuzz_service: Service) -> None:
    _call(case, fuzz_service, "organiser")


@schema.parametrize()
@FUZZ
def test_as_a_contestant(case: schemathesis.Case, fuzz_service: Service) -> None:
    _call(case, fuzz_service, "alice")
