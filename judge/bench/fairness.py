"""`judge bench fairness`: one user's flood against another user's one submission (issue 17,
finding 6), through `judge serve`.

Set-up: `judge serve --workers W --languages python3` as `judge bench service` starts it
(judge/bench/service.py `serve`), and two more accounts made in its database, `flooder` and
`other` (organisers, so that the submission rate limit does not stop the flood: fairness is
per user whatever the role).

1. `flooder` sends `flood` ad hoc Python runs that each sleep `sleep_s` seconds (the batch
   endpoint, 100 per request), all at once.
2. Right after, `other` sends one `print(42)` and waits for its verdict: the figure is the
   time from its POST to its verdict, and how many of the flood were done by then. First come,
   first served, it waited for the whole flood; with fair shares, for about one grading per
   pool process.
3. Then the time until the whole flood is done, each of its runs checked: AC, one test, graded
   once (state `done` with one result each).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..storage import connect, session_factory
from ..storage.models import Role
from ..storage.repo import create_token, create_user
from . import BenchError
from .service import _Client, serve

FLOOD_TIMEOUT_S = 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class FairnessBench:
    workers: int
    flood: int
    sleep_s: float
    other_seconds: float  # the other user's POST to verdict
    flood_done_before_other: int  # of the flood, done when the other user's verdict came
    flood_seconds: float  # the flood's first POST to its last verdict

    def to_json(self) -> dict[str, object]:
        return {
            "workers": self.workers,
            "flood": self.flood,
            "sleep_s": self.sleep_s,
            "other_seconds": round(self.other_seconds, 2),
            "flood_done_before_other": self.flood_done_before_other,
            "flood_seconds": round(self.flood_seconds, 2),
        }


def _user(tmp: Path, name: str) -> str:
    engine = connect(f"sqlite:///{tmp / 'judge.db'}")
    try:
        with session_factory(engine).begin() as session:
            user = create_user(session, name, uuid.uuid4().hex, Role.ORGANISER)
            return create_token(session, user)[1]
    finally:
        engine.dispose()


def measure_fairness(*, flood: int = 200, sleep_s: float = 0.5, workers: int = 2) -> FairnessBench:
    tmp = Path(tempfile.mkdtemp(prefix="judge-bench-fairness-"))
    try:
        with serve(tmp, workers, ["python3"]) as (client, _, _):
            flooder = _Client(client.base, _user(tmp, "flooder"))
            other = _Client(client.base, _user(tmp, "other"))
            slow = {
                "language": "python3",
                "source": f"import time\ntime.sleep({sleep_s})\nprint(1)\n",
                "stdin": "",
            }
            t0 = time.monotonic()
            ids: list[int] = []
            while len(ids) < flood:
                n = min(100, flood - len(ids))
                body = json.dumps({"submissions": [slow] * n}).encode()
                doc = flooder.call("POST", "/submissions/batch", body)
                ids += [int(s["id"]) for s in doc["submissions"]]
            t1 = time.monotonic()
            one = json.dumps({"language": "python3", "source": "print(42)", "stdin": ""}).encode()
            mine = other.call("POST", "/submissions?wait=true&timeout=60", one)
            while mine["state"] != "done" and time.monotonic() - t1 < FLOOD_TIMEOUT_S:  # waits over 60 s
                mine = other.call("GET", f"/submissions/{mine['id']}?wait=true&timeout=60")
            other_s = time.monotonic() - t1
            if mine.get("verdict") != "AC" or mine.get("stdout") != "42\n":
                raise BenchError(f"the other user's submission: {mine}")
            ahead = _done(client, ids)
            while _done(client, ids) < flood:
                if time.monotonic() - t0 > FLOOD_TIMEOUT_S:
                    raise BenchError("the flood took over an hour")
                time.sleep(1.0)  # light polling: the benchmark shares the CPUs with what it measures
            flood_s = time.monotonic() - t0
            for sid in ids:
                doc = client.call("GET", f"/submissions/{sid}")
                if (doc["state"], doc["verdict"], len(doc["tests"])) != ("done", "AC", 1):
                    raise BenchError(
                        f"flood submission {sid}: {doc['state']} {doc['verdict']} "
                        f"with {len(doc['tests'])} tests"
                    )
            return FairnessBench(
                workers=workers,
                flood=flood,
                sleep_s=sleep_s,
                other_seconds=other_s,
                flood_done_before_other=ahead,
                flood_seconds=flood_s,
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _done(client: _Client, ids: list[int]) -> int:
    """How many of `ids` are done: the organiser's list, newest first, a page at a time."""
    wanted, done = set(ids), 0
    before: int | None = None
    while True:
        page = client.call("GET", "/submissions?limit=500" + (f"&before={before}" if before else ""))
        subs = page["submissions"]
        if not subs:
            return done
        done += sum(1 for s in subs if s["id"] in wanted and s["state"] == "done")
        before = min(int(s["id"]) for s in subs)
        if before <= min(wanted):
            return done


def show(report: FairnessBench) -> None:
    print(
        f"judge serve, {report.workers} workers: one user floods {report.flood} ad hoc runs "
        f"(Python, sleep {report.sleep_s:g} s each)"
    )
    print(
        f"  another user's print(42): verdict after {report.other_seconds:.1f} s, "
        f"{report.flood_done_before_other} of the flood done by then"
    )
    print(f"  the whole flood: {report.flood_seconds:.1f} s, every run AC and graded once")
