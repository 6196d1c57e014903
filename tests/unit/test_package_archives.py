"""A worker machine without the web's data directory gets packages from the database."""

from __future__ import annotations

import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from judge.errors import JudgeError
from judge.service import problems
from judge.storage.models import PackageArchive

SUM_C = b'#include <stdio.h>\nint main(void){long a,b;scanf("%ld %ld",&a,&b);printf("%ld\\n",a+b);}\n'


def package(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("plus/problem.yaml", "name: Plus\n")
        zf.writestr("plus/data/sample/1.in", "1 2\n")
        zf.writestr("plus/data/sample/1.ans", "3\n")
        zf.writestr("plus/data/secret/1.in", "2 2\n")
        zf.writestr("plus/data/secret/1.ans", "4\n")
        zf.writestr("plus/submissions/accepted/sum.c", SUM_C)
        script = zipfile.ZipInfo("plus/output_validators/check/build")
        script.external_attr = 0o755 << 16
        zf.writestr(script, "#!/bin/sh\ntrue\n")
    return path


@pytest.fixture
def sessions(sqlite_sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    return sqlite_sessions  # one SQLite database: these tests are about archives, not storage


def files_of(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mode & 0o777)
        for p in root.rglob("*")
        if p.is_file()
    }


def test_another_machine_unpacks_the_same_files_from_the_database(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    web, worker = tmp_path / "web", tmp_path / "worker"
    row = problems.import_package(sessions, web, package(tmp_path / "plus.zip"))
    assert not (worker / row.path).exists()
    local = problems.ensure_local(sessions, worker, row.path)
    assert local == worker / row.path
    version = Path(row.path).parts[:3]
    assert files_of(worker.joinpath(*version)) == files_of(web.joinpath(*version))
    assert files_of(local)["output_validators/check/build"][1] == 0o755
    assert not any((worker / "problems" / ".incoming").iterdir())  # nothing half-written is left


def test_processes_racing_for_a_package_all_get_one_whole_copy(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    row = problems.import_package(sessions, tmp_path / "web", package(tmp_path / "plus.zip"))
    worker = tmp_path / "worker"
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(lambda _: problems.ensure_local(sessions, worker, row.path), range(8)))
    assert set(found) == {worker / row.path}
    assert "sample/1.in" in str(sorted(files_of(found[0])))


def test_a_damaged_archive_is_refused(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    row = problems.import_package(sessions, tmp_path / "web", package(tmp_path / "plus.zip"))
    with sessions.begin() as session:
        session.execute(update(PackageArchive).values(sha256="0" * 64))
    with pytest.raises(JudgeError, match="does not match its checksum"):
        problems.ensure_local(sessions, tmp_path / "worker", row.path)
    assert not (tmp_path / "worker" / row.path).exists()
    with pytest.raises(JudgeError, match="neither in"):
        problems.ensure_local(sessions, tmp_path / "worker", "problems/plus/nope/plus")
