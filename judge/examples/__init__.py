"""The example problem that `judge serve` imports on its first start, so a new user has something
to submit to: `aplusb/`, a + b in the Kattis format (2025-09), with a sample, four hidden tests
and accepted and wrong submissions of its own.

It goes in as an organiser's upload does (`POST /api/v1/problems`, web/api/catalogue.py): zipped,
then judge/service/problems.py's import_package (unpacked with the upload's checks, loaded, stored
on disk and in the database), then a worker verifies it by running its submissions. From then on it
is an ordinary problem. Its problem.yaml states the time limit, so submissions are taken before the
verification ends. `judge serve` calls this only on the start that creates the first organiser:
later starts never import it again, also after an organiser deleted it, and `--no-example` leaves
it out (judge/cli/service_commands.py).
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from celery import Celery
from sqlalchemy.orm import Session, sessionmaker

from judge.service import problems, queue
from judge.storage.models import Problem

EXAMPLE_ID = "aplusb"
EXAMPLE_DIR = Path(__file__).with_name(EXAMPLE_ID)
# what the printed `curl` line submits: the accepted Python solution the package ships
EXAMPLE_SOLUTION = EXAMPLE_DIR / "submissions" / "accepted" / "sum.py"


def import_example(sessions: sessionmaker[Session], data_dir: Path, celery: Celery) -> Problem:
    """Import and queue the verification of the example problem, as an upload of its zip would."""
    with tempfile.TemporaryDirectory(prefix="judge-example-") as tmp:
        archive = Path(tmp) / f"{EXAMPLE_ID}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:  # as an organiser zips a folder
            for path in sorted(EXAMPLE_DIR.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    zf.write(path, f"{EXAMPLE_ID}/{path.relative_to(EXAMPLE_DIR)}")
        row = problems.import_package(sessions, data_dir, archive, EXAMPLE_ID)
    queue.enqueue_verify(celery, row.id)
    return row
