"""Deleting a problem (DELETE /api/v1/problems/{id}): what goes with it, and when it is refused.

On SQLite in tmp_path, and on PostgreSQL too when JUDGE_TEST_POSTGRES_URL is set, as
tests/unit/test_storage.py does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from judge.service import problems
from judge.storage.models import Batch, PackageArchive, Problem, Submission, TestResult
from judge.storage.repo import (
    StorageError,
    TestOutcome,
    add_submission,
    put_package_archive,
    put_problem,
    record_result,
)
from judge.verdict import Verdict


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _problem(sessions: sessionmaker[Session], data_dir: Path, pid: str) -> int:
    """A problem with a package on disk and in the database, a batch, and a queued submission."""
    (data_dir / "problems" / pid / "v1").mkdir(parents=True)
    with sessions.begin() as session:
        put_problem(
            session, problem_id=pid, name=pid, path=f"problems/{pid}/v1", time_limit_s=1.0, memory_mib=256
        )
        put_package_archive(session, problem_id=pid, path=f"problems/{pid}/v1", data=b"zip")
        batch = Batch(problem_id=pid, name="b")
        session.add(batch)
        session.flush()
        return add_submission(
            session, language="python3", source=b"print(1)", problem_id=pid, batch_id=batch.id
        ).id


def test_a_problem_goes_with_its_submissions_tests_batches_and_packages(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    kept = _problem(sessions, tmp_path, "kept")
    sid = _problem(sessions, tmp_path, "aplusb")
    with sessions.begin() as session:
        for s in (sid, kept):
            record_result(
                session,
                s,
                verdict=Verdict.AC,
                tests=[
                    TestOutcome(
                        index=1,
                        name="sample/1",
                        verdict=Verdict.AC,
                        time_s=0.1,
                        wall_s=0.2,
                        memory_bytes=1 << 20,
                    )
                ],
            )

    assert problems.delete_problem(sessions, tmp_path, "aplusb") == 1
    with sessions() as session:
        assert session.get(Problem, "aplusb") is None and session.get(Submission, sid) is None
        assert [_count(session, m) for m in (Problem, Submission, TestResult, Batch, PackageArchive)] == [
            1,
            1,
            1,
            1,
            1,
        ]  # the other problem's, untouched
    assert not (tmp_path / "problems" / "aplusb").exists() and (tmp_path / "problems" / "kept").is_dir()
    assert problems.delete_problem(sessions, tmp_path, "aplusb") is None  # gone: 404 in the API


def test_a_problem_with_a_submission_being_graded_is_kept(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    sid = _problem(sessions, tmp_path, "busy")
    with pytest.raises(StorageError, match="1 submission"):
        problems.delete_problem(sessions, tmp_path, "busy")
    with sessions() as session:
        assert session.get(Submission, sid) is not None and session.get(Problem, "busy") is not None
    assert (tmp_path / "problems" / "busy").is_dir()
