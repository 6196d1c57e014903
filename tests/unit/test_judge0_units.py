"""judge/service/judge0.py and the queue-full answer of web/judge0.py, without a worker."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask

from judge.service import judge0
from judge.storage import repo
from judge.storage.models import Role, Submission, SubmissionState
from judge.verdict import Verdict
from web.context import context


@pytest.mark.parametrize(
    ("expected", "actual", "same"),
    [
        (b"a\n", b"a", True),
        (b"a  \nb\n\n\n", b"a\nb", True),
        (b"a\n", b"A\n", False),
        (b"a b", b"a  b", False),
        (b"", b"\n\n", True),
        (b" a", b"a", False),
    ],
)
def test_compare_is_judge0s(expected: bytes, actual: bytes, same: bool) -> None:
    assert judge0.compare(expected, actual) is same


def _sub(
    state: SubmissionState = SubmissionState.DONE,
    verdict: Verdict | None = Verdict.AC,
    signal: int | None = None,
    **kw: object,
) -> Submission:
    return Submission(
        id=1,
        token="t",
        language="python3",
        source=b"print(1)",
        stdin=b"",
        state=state,
        verdict=verdict,
        signal=signal,
        created_at=datetime.now(UTC),
        tests=[],
        **kw,
    )


@pytest.mark.parametrize(
    ("state", "verdict", "signal", "status"),
    [
        (SubmissionState.QUEUED, None, None, 1),
        (SubmissionState.RUNNING, None, None, 2),
        (SubmissionState.DONE, Verdict.AC, None, 3),
        (SubmissionState.DONE, Verdict.WA, None, 4),
        (SubmissionState.DONE, Verdict.TLE, None, 5),
        (SubmissionState.DONE, Verdict.CE, None, 6),
        (SubmissionState.DONE, Verdict.RTE, 11, 7),
        (SubmissionState.DONE, Verdict.OLE, None, 8),
        (SubmissionState.DONE, Verdict.RTE, 8, 9),
        (SubmissionState.DONE, Verdict.RTE, 6, 10),
        (SubmissionState.DONE, Verdict.RTE, None, 11),
        (SubmissionState.DONE, Verdict.RTE, 9, 12),
        (SubmissionState.DONE, Verdict.MLE, 9, 12),
        (SubmissionState.DONE, Verdict.IE, None, 13),
    ],
)
def test_status_ids(state: SubmissionState, verdict: Verdict | None, signal: int | None, status: int) -> None:
    assert judge0.status_id(_sub(state, verdict, signal)) == status


def test_document_units_fields_and_base64() -> None:
    sub = _sub(stdout=b"out\n", time_s=0.0123, memory_bytes=1_000_000)
    doc = judge0.document(sub, b64=False)
    assert list(doc) == list(judge0.DEFAULT_FIELDS)
    assert doc["time"] == "0.012" and doc["memory"] == 977  # seconds as a string, KB rounded up
    assert doc["status"] == {"id": 3, "description": "Accepted"}
    assert judge0.document(sub, b64=True)["stdout"] == base64.b64encode(b"out\n").decode()
    assert list(judge0.document(sub, b64=False, fields=("token", "stdout"))) == ["token", "stdout"]
    with pytest.raises(judge0.NotUtf8):
        judge0.document(_sub(stdout=b"\xff"), b64=False)
    assert judge0.document(_sub(stdout=b"\xff"), b64=True)["stdout"] == "/w=="


def test_a_full_queue_is_503(make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUDGE0_MAX_QUEUE_SIZE", "3")
    app = make_app()
    with app.app_context(), context().sessions.begin() as session:
        user = repo.create_user(session, "platform", "long enough", Role.CONTESTANT)
        secret = repo.create_token(session, user)[1]
        for _ in range(3):
            repo.add_submission(session, language="python3", source=b"print(1)", stdin=b"")
    r = app.test_client().post(
        "/judge0/submissions",
        json={"language_id": 71, "source_code": "print(1)"},
        headers={"X-Auth-Token": secret},
    )
    assert r.status_code == 503
    assert r.get_json() == {"error": "queue is full"}
