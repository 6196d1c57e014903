"""`judge bench load` end to end: the real command, its own `judge serve`, 40 submissions.

Asserts correctness only (every verdict right, none lost, none graded twice), never a figure:
this machine's speed is not the test's business.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


def test_forty_submissions_at_once_all_end_once_with_their_verdicts(sandbox_ready: None) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("JUDGE_REDIS_URL", "JUDGE_DATABASE_URL")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "judge",
            "bench",
            "load",
            "--count",
            "40",
            "--languages",
            "c,python3",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    doc = json.loads(proc.stdout)
    assert doc["ok"] is True and doc["faults"] == [], doc["faults"]
    counts = {k: doc[k] for k in ("matched", "lost", "graded_twice", "refused", "unheard", "stray")}
    assert counts == {"matched": 40, "lost": 0, "graded_twice": 0, "refused": 0, "unheard": 0, "stray": 0}
    assert doc["languages"] == ["c", "python3"]
    verdicts = doc["verdicts"]
    assert set(verdicts) == {"AC", "WA", "TLE", "RTE", "CE"}
    assert all(v["got"] == v["expected"] > 0 for v in verdicts.values()), verdicts
    assert sum(v["got"] for v in verdicts.values()) == 40
    assert {lang: sum(counts.values()) for lang, counts in doc["mix"].items()} == {"c": 20, "python3": 20}
