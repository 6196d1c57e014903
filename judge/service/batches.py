"""Batches in the service: one problem's submissions sent together, one per contestant.

A batch comes as a zip whose every file is one contestant's submission (the label is the
file's name without its extension, the language comes from the extension; a single top folder
is looked through), or as a list of (label, language, source) from the API's JSON. Everything
is checked before anything is stored; `make_batch` stores the batch and its submissions and
queues them (judge/service/submissions.py), and leaves nothing if that fails. The web
(web/api/organiser.py, web/pages/organiser.py) parses the request and calls these; a refusal
is a Refused (judge/errors.py) naming why.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from judge import languages
from judge.errors import Refusal, Refused, UnknownLanguage
from judge.problems.archive import CheckedZip
from judge.problems.files import PackageError
from judge.service.settings import MAX_UPLOAD_BYTES
from judge.service.submissions import MAX_SOURCE_BYTES, NewSubmission, Services, create, rejudge_all
from judge.storage import repo
from judge.storage.models import Batch

MAX_BATCH_FILES = 5000
MAX_BATCH_BYTES = MAX_UPLOAD_BYTES  # unpacked: no more than the same batch sent as JSON could carry
CSV_COLUMNS = ("label", "submission", "language", "state", "verdict", "score", "time", "memory")


@dataclass(frozen=True, slots=True)
class Entry:
    """One contestant's submission in a batch, before it is stored."""

    label: str
    language: str
    source: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class MadeBatch:
    """A stored and queued batch: its id, and (submission id, label, language) per contestant."""

    id: int
    problem_id: str
    name: str
    submissions: tuple[tuple[int, str, str], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One contestant's result in a batch (times in seconds, rounded to the millisecond)."""

    label: str | None
    submission: int
    language: str
    state: str
    verdict: str | None
    score: float | None
    time: float | None
    memory: int | None
    tests: tuple[dict[str, Any], ...]  # {name, verdict, time, memory}, as the API shows them

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "submission": self.submission,
            "language": self.language,
            "state": self.state,
            "verdict": self.verdict,
            "score": self.score,
            "time": self.time,
            "memory": self.memory,
            "tests": list(self.tests),
        }


def from_upload(stream: IO[bytes], label: str = "archive") -> list[Entry]:
    """from_zip of an uploaded archive, spooled to a file on disk, never whole into memory."""
    with tempfile.TemporaryDirectory(prefix="judge-batch-") as tmp:
        path = Path(tmp) / "batch.zip"
        with path.open("wb") as out:
            shutil.copyfileobj(stream, out)
        return from_zip(path, label)


def from_zip(data: bytes | Path, label: str = "archive") -> list[Entry]:
    """The entries of a batch archive (bytes, or a file).

    The archive is checked whole first, as a package is (judge/problems/archive.py: paths that
    leave their folder, links, zip bombs, absurd entry counts), with a batch's own bound on bytes:
    `bad_archive` naming the entry and the fault.
    """
    try:
        with CheckedZip(data, label, max_bytes=MAX_BATCH_BYTES) as zf:
            return _unique(_read_batch(zf))
    except PackageError as e:
        raise Refused(Refusal.BAD_ARCHIVE, str(e)) from None


def _read_batch(zf: CheckedZip) -> list[Entry]:
    files = [
        i
        for i in zf.infos
        if not i.is_dir() and not i.filename.split("/")[-1].startswith(".") and "__MACOSX" not in i.filename
    ]
    if len(files) > MAX_BATCH_FILES:
        raise Refused(Refusal.TOO_LARGE, f"{len(files)} files; at most {MAX_BATCH_FILES} in a batch")
    tops = {f.filename.split("/")[0] for f in files}
    nested = len(tops) == 1 and all("/" in f.filename for f in files)
    found = []
    for info in files:
        parts = info.filename.split("/")[1 if nested else 0 :]
        if len(parts) != 1:
            raise Refused(Refusal.BAD_ARCHIVE, f"{info.filename}: one file per contestant, no folders")
        if info.file_size > MAX_SOURCE_BYTES:
            raise Refused(Refusal.TOO_LARGE, f"{info.filename}: over {MAX_SOURCE_BYTES} bytes")
        name = parts[0]
        try:
            lang = languages.by_extension(name)
        except UnknownLanguage as e:
            raise Refused(Refusal.UNKNOWN_LANGUAGE, f"{info.filename}: {e}") from None
        found.append(Entry(name.rsplit(".", 1)[0], lang.id, zf.read(info)))
    if not found:
        raise Refused(Refusal.BAD_ARCHIVE, "the archive holds no submissions")
    return found


def _unique(found: list[Entry]) -> list[Entry]:
    """The entries, refused when two share a label: a contestant has one submission here."""
    seen: set[str] = set()
    for entry in found:
        if entry.label in seen:
            raise Refused(Refusal.DUPLICATE_LABEL, f"two submissions for {entry.label!r}; one per contestant")
        seen.add(entry.label)
    return found


def from_json(items: Any) -> list[Entry]:
    """The entries of the API's JSON batch: a list of {label, language, source}."""
    if not isinstance(items, list) or not items:
        raise Refused(Refusal.INVALID_FIELD, "'submissions' must be a non-empty list")
    if len(items) > MAX_BATCH_FILES:
        raise Refused(Refusal.TOO_LARGE, f"{len(items)} submissions; at most {MAX_BATCH_FILES} in a batch")
    found = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) for k in ("label", "language", "source")
        ):
            raise Refused(Refusal.INVALID_FIELD, f"submissions[{i}]: needs string label, language and source")
        try:
            languages.by_id(item["language"])
        except UnknownLanguage as e:
            raise Refused(Refusal.UNKNOWN_LANGUAGE, f"submissions[{i}]: {e}") from None
        source = item["source"].encode()
        if len(source) > MAX_SOURCE_BYTES:
            raise Refused(Refusal.TOO_LARGE, f"submissions[{i}]: over {MAX_SOURCE_BYTES} bytes")
        found.append(Entry(item["label"][:200], item["language"], source))
    return _unique(found)


def make_batch(
    services: Services, *, user_id: int, problem_id: str, name: str, entries: Sequence[Entry]
) -> MadeBatch:
    """Store a batch and its submissions, then queue them; nothing stays if that fails."""
    with services.sessions.begin() as session:
        if repo.get_problem(session, problem_id) is None:
            raise Refused(Refusal.UNKNOWN_PROBLEM, f"no problem {problem_id!r}")
        batch_id = repo.add_batch(session, problem_id=problem_id, user_id=user_id, name=name).id
    wanted = [
        NewSubmission(
            language=e.language,
            source=e.source,
            user_id=user_id,
            problem_id=problem_id,
            batch_id=batch_id,
            label=e.label,
        )
        for e in entries
    ]
    try:
        ids = create(services, wanted)
    except Refused:
        with services.sessions.begin() as session:
            repo.delete_batch(session, batch_id)
        raise
    made = tuple((i, e.label, e.language) for i, e in zip(ids, entries, strict=True))
    return MadeBatch(id=batch_id, problem_id=problem_id, name=name, submissions=made)


def results(services: Services, batch_id: int) -> tuple[Batch, list[Row]]:
    """A batch (detached) and each contestant's result; `not_found` when there is no such batch."""
    with services.sessions() as session:
        batch = repo.get_batch(session, batch_id)
        if batch is None:
            raise Refused(Refusal.NOT_FOUND, f"no batch {batch_id}")
        rows = [
            Row(
                label=s.label,
                submission=s.id,
                language=s.language,
                state=s.state.value,
                verdict=s.verdict.value if s.verdict else None,
                score=s.score,
                time=round(s.time_s, 3) if s.time_s is not None else None,
                memory=s.memory_bytes,
                tests=tuple(
                    {
                        "name": t.name,
                        "verdict": t.verdict.value,
                        "time": round(t.time_s, 3),
                        "memory": t.memory_bytes,
                    }
                    for t in s.tests
                ),
            )
            for s in repo.submissions_of(session, batch_id=batch_id)
        ]
        return batch, rows


def results_csv(rows: Sequence[Row]) -> str:
    """A batch's results as CSV text: one line per contestant, CSV_COLUMNS."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(r.as_json() for r in rows)
    return out.getvalue()


def rejudge(services: Services, batch_id: int) -> list[int]:
    """Rejudge every submission of a batch; `not_found` when there is no such batch."""
    with services.sessions() as session:
        if repo.get_batch(session, batch_id) is None:
            raise Refused(Refusal.NOT_FOUND, f"no batch {batch_id}")
    return rejudge_all(services, batch_id=batch_id)
