"""A submission as the service shows it: in the API, in progress events, in webhook bodies.

docs/contracts.md's fields first (`id`, `state`, `verdict`, `score`, `time`, `memory`,
`compile_output`, `tests` of `{name, verdict, time, memory}`), then ours: the language, the
problem or null for an ad hoc run, the batch and its label, a message (why it is IE, what the
checker said), timestamps in ISO 8601 UTC, and for ad hoc runs the program's own `stdout`,
`stderr`, `exit_code` and `signal`. Times are CPU seconds, memory is peak bytes; `time` and
`memory` of a submission are the largest over its tests.

What the checker said about a test (`message`) can quote the expected answer ("expected 30,
found 29"), so for a problem's hidden tests it is shown only with `secret_feedback` (the web
sets it for organisers): a contestant sees every test's name, verdict, time and memory, and
the message of the samples alone, whose data the statement shows anyway. The documents that
leave without a viewer (progress events, webhooks) are the contestant's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from judge.storage.models import Submission, TestResult


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def _text(data: bytes | None) -> str | None:
    return data.decode("utf-8", errors="replace") if data is not None else None


def is_sample(test_name: str) -> bool:
    """A test of the `sample` group (`sample/1`): its data is in the statement, so no secret."""
    return test_name == "sample" or test_name.startswith("sample/")


def test_json(test: TestResult, *, feedback: bool = True) -> dict[str, Any]:
    return {
        "name": test.name,
        "verdict": test.verdict.value,
        "time": round(test.time_s, 3),
        "wall_time": round(test.wall_s, 3),
        "memory": test.memory_bytes,
        "score": test.score,
        "message": test.message if feedback or is_sample(test.name) else None,
    }


test_json.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, whatever its name


def submission_json(
    sub: Submission, *, with_tests: bool = True, secret_feedback: bool = False
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": sub.id,
        "state": sub.state.value,
        "verdict": sub.verdict.value if sub.verdict is not None else None,
        "score": sub.score,
        "time": round(sub.time_s, 3) if sub.time_s is not None else None,
        "memory": sub.memory_bytes,
        "compile_output": sub.compile_output,
        "message": sub.message,
        "language": sub.language,
        "problem": sub.problem_id,
        "batch": sub.batch_id,
        "label": sub.label,
        "created_at": _iso(sub.created_at),
        "started_at": _iso(sub.started_at),
        "finished_at": _iso(sub.finished_at),
    }
    if sub.problem_id is None:
        doc |= {
            "stdout": _text(sub.stdout),
            "stderr": _text(sub.stderr),
            "exit_code": sub.exit_code,
            "signal": sub.signal,
            "time_limit": sub.time_limit_s,
            "memory_limit": sub.memory_mib,
        }
    if with_tests:
        feedback = secret_feedback or sub.problem_id is None  # an ad hoc run's one test is the caller's own
        doc["tests"] = [test_json(t, feedback=feedback) for t in sub.tests]
    return doc
