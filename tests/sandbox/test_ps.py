"""`judge ps`, `judge stop` and `judge kill` on real boxes, named by prefixes of their ids.

Each test has a registry directory of its own (SANDBOX_REGISTRY), so boxes that other tests or
a judge on this machine run at the same time are neither listed nor signalled here, and ids
can be chosen to share a prefix. Boxes run in threads with a minute's limits; whatever a test
leaves running is killed when it ends.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from kit import wait_until

import sandbox
from judge import cli
from sandbox import Limits, MiB, RunResult, RunStatus, registry, uids
from sandbox.cgroup import CgroupV1

pytestmark = pytest.mark.sandbox

LONG = Limits(cpu_time_ms=60_000, wall_time_ms=60_000, memory_bytes=64 * MiB, processes=16)
BUSY = ["/bin/sh", "-c", "while :; do :; done"]
DEAF = ["/bin/sh", "-c", 'trap "" TERM; while :; do :; done']  # ignores SIGTERM
POLITE = ["/bin/sh", "-c", 'trap "exit 3" TERM; while :; do :; done']  # handles it its own way
SLEEP = ["/bin/sleep", "600"]


def judge(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


def ps() -> list[dict[str, Any]]:
    result = judge("ps", "--json")
    assert result.exit_code == 0, result.output
    listed: list[dict[str, Any]] = json.loads(result.stdout)
    return listed


def listed_ids() -> set[str]:
    return {str(doc["id"]) for doc in ps()}


class Running:
    """A box running argv in a thread of its own, under the id given."""

    def __init__(self, sb: sandbox.Sandbox, argv: Sequence[str], box_id: str) -> None:
        self.argv = list(argv)
        self.id = box_id
        self.result: RunResult | None = None
        self.error: BaseException | None = None
        self._sb = sb
        self.thread = threading.Thread(target=self._run, name=f"box-{box_id}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            with self._sb.box(limits=LONG) as box:
                box.id = self.id
                self.result = box.run(self.argv, LONG)
        except BaseException as e:  # handed to the test by wait()
            self.error = e

    def listed(
        self, until: Callable[[dict[str, Any]], bool] = lambda doc: True, timeout_s: float = 15.0
    ) -> dict[str, Any]:
        """This box's `judge ps --json` entry, once it is listed and `until` holds for it."""

        def wanted(doc: dict[str, Any] | None) -> bool:
            return doc is not None and until(doc)

        def entry() -> dict[str, Any] | None:
            doc = next((d for d in ps() if d["id"] == self.id), None)
            ended = f"the run ended before it was listed: {self.error or self.result}"
            assert wanted(doc) or self.thread.is_alive(), ended
            return doc

        found: dict[str, Any] = wait_until(
            entry, until=wanted, what=f"box {self.id} listed as wanted", timeout_s=timeout_s, every_s=0.02
        )
        return found

    def wait(self, timeout_s: float = 15.0) -> RunResult:
        self.thread.join(timeout_s)
        assert not self.thread.is_alive(), f"box {self.id} still runs"
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


Start = Callable[..., Running]


@pytest.fixture
def registry_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "boxes"
    monkeypatch.setenv(registry.ENV, str(path))
    return path


@pytest.fixture
def start(sb: sandbox.Sandbox, registry_dir: Path) -> Iterator[Start]:
    started: list[Running] = []

    def start_box(argv: Sequence[str], box_id: str | None = None) -> Running:
        box = Running(sb, argv, box_id or registry.new_id())
        started.append(box)
        return box

    yield start_box
    board = registry.Registry(registry_dir)
    for box in started:
        if box.thread.is_alive():
            for entry in board.entries():
                if entry.id == box.id:
                    board.kill(entry)
        box.thread.join(15)


def leftovers(registry_dir: Path) -> list[str]:
    return sorted(os.listdir(registry_dir)) if registry_dir.exists() else []


def test_ps_lists_a_running_box_and_kill_ends_it(start: Start, registry_dir: Path) -> None:
    busy = start(BUSY)
    doc = busy.listed(until=lambda d: float(d["cpu_time"]) > 0.05)
    assert doc["image"] == "host"
    assert doc["command"] == BUSY
    assert doc["keeper_pid"] == os.getpid()
    first, count = uids.uid_range()
    assert first <= doc["uid"] < first + count  # the box's own uid: what its processes show in ps(1)
    assert int(doc["memory"]) > 0
    assert 0 <= float(doc["age"]) < 60
    assert abs(float(doc["started"]) + float(doc["age"]) - time.time()) < 5

    table = judge("ps")
    assert table.exit_code == 0
    assert busy.id in table.stdout
    assert "host" in table.stdout and "while" in table.stdout

    killed = judge("kill", busy.id[:5])
    assert killed.exit_code == 0, killed.output
    assert killed.stdout == busy.id + "\n"
    result = busy.wait()
    assert (result.status, result.signal) == (RunStatus.RTE, 9)
    assert result.message == "killed by an operator (judge kill)"
    assert result.extra == {"operator": "kill"}
    assert busy.id not in listed_ids()
    assert leftovers(registry_dir) == []


def test_stop_ends_a_program_with_sigterm(start: Start, registry_dir: Path) -> None:
    sleeper = start(SLEEP)
    sleeper.listed()
    t0 = time.monotonic()
    stopped = judge("stop", sleeper.id[:4])
    assert stopped.exit_code == 0, stopped.output
    assert stopped.stdout == sleeper.id + "\n"
    assert time.monotonic() - t0 < 5  # well within the 10 s grace period: SIGTERM did it
    result = sleeper.wait()
    assert (result.status, result.signal) == (RunStatus.RTE, 15)
    assert result.message == "stopped by an operator (judge stop)"
    assert sleeper.id not in listed_ids()
    assert leftovers(registry_dir) == []


def test_stop_kills_a_program_that_ignores_sigterm_after_the_grace_period(start: Start) -> None:
    deaf = start(DEAF)
    deaf.listed(until=lambda d: float(d["cpu_time"]) > 0.1)  # trap set, looping
    t0 = time.monotonic()
    stopped = judge("stop", "--grace", "0.5", deaf.id[:6])
    waited = time.monotonic() - t0
    assert stopped.exit_code == 0, stopped.output
    assert stopped.stdout == deaf.id + "\n"
    assert "killed" in stopped.stderr
    assert 0.5 <= waited < 5
    result = deaf.wait()
    assert (result.status, result.signal) == (RunStatus.RTE, 9)
    assert result.message == "stopped by an operator (judge stop)"
    assert result.extra == {"operator": "stop"}


def test_a_program_that_handles_sigterm_ends_its_own_way(start: Start) -> None:
    polite = start(POLITE)
    polite.listed(until=lambda d: float(d["cpu_time"]) > 0.1)
    assert judge("stop", "--grace", "10", polite.id).exit_code == 0
    result = polite.wait()
    assert (result.status, result.exit_code, result.signal) == (RunStatus.RTE, 3, None)
    assert result.message == "stopped by an operator (judge stop)"


def test_an_ambiguous_prefix_is_refused_naming_every_match(start: Start) -> None:
    common = registry.new_id()[:6]
    first, second = start(SLEEP, common + "000001"), start(SLEEP, common + "000002")
    first.listed()
    second.listed()
    for prefix in (common, common + "00000"):
        for command in ("stop", "kill"):
            refused = judge(command, prefix)
            assert refused.exit_code == 1
            assert "ambiguous" in refused.stderr
            assert first.id in refused.stderr and second.id in refused.stderr
            assert refused.stdout == ""
    assert {first.id, second.id} <= listed_ids()  # neither was touched

    assert judge("kill", first.id).stdout == first.id + "\n"
    assert first.wait().signal == 9
    assert second.id in listed_ids()
    assert judge("kill", common).stdout == second.id + "\n"  # unique again now
    assert second.wait().signal == 9


def test_an_unknown_or_empty_prefix_is_refused(start: Start) -> None:
    sleeper = start(SLEEP)
    sleeper.listed()
    other = "0" if sleeper.id[0] != "0" else "1"
    for command in ("stop", "kill"):
        refused = judge(command, other + sleeper.id[1:4])
        assert refused.exit_code == 1
        assert f"no running box has an id starting with '{other + sleeper.id[1:4]}'" in refused.stderr
        for empty in ("", "  "):
            assert judge(command, empty).exit_code == 2
    assert sleeper.id in listed_ids()
    assert judge("kill", sleeper.id.upper()[:8]).exit_code == 0  # ids are case-blind, like hex
    assert sleeper.wait().signal == 9


def test_a_run_leaves_nothing_in_the_registry(sb: sandbox.Sandbox, registry_dir: Path) -> None:
    result = sb.run(["/bin/true"])
    assert result.status == RunStatus.OK
    assert result.message == "" and result.extra == {}
    assert leftovers(registry_dir) == []
    assert ps() == []


def _entry(box_id: str, *, keeper: tuple[int, int], init: tuple[int, int], tmp: Path) -> dict[str, Any]:
    d = tmp / "judge" / f"box-1-{box_id}"
    cg = CgroupV1((d,), d, d, d, None)
    return registry.Entry(
        id=box_id,
        image="host",
        argv=("/bin/true",),
        started=time.time(),
        keeper_pid=keeper[0],
        keeper_start=keeper[1],
        init_pid=init[0],
        init_start=init[1],
        cgroup=cg,
        cpu_baseline_ns=0,
    ).to_json()


def test_a_stale_entry_is_not_listed(registry_dir: Path, tmp_path: Path) -> None:
    """A dead keeper's entry is removed; a live keeper's entry of an ended box is left to it."""
    me = (os.getpid(), registry.start_time(os.getpid()) or 0)
    gone = subprocess.Popen(["/bin/true"])
    gone.wait()
    dead = (gone.pid, me[1])
    entries = {
        "aaaaaaaaaaa1": _entry("aaaaaaaaaaa1", keeper=dead, init=me, tmp=tmp_path),  # keeper exited
        # its pid now belongs to another process (this one, which started at another time)
        "aaaaaaaaaaa2": _entry("aaaaaaaaaaa2", keeper=(me[0], me[1] + 1), init=me, tmp=tmp_path),
        "aaaaaaaaaaa3": _entry("aaaaaaaaaaa3", keeper=me, init=dead, tmp=tmp_path),  # box ended
    }
    registry_dir.mkdir(mode=0o700)
    for box_id, doc in entries.items():
        (registry_dir / f"{box_id}.json").write_text(json.dumps(doc))
    (registry_dir / "aaaaaaaaaaa1.stop").write_text("kill")
    junk = registry_dir / "bbbbbbbbbbbb.json.tmp"  # a keeper died mid-write, long ago
    junk.write_text("{")
    os.utime(junk, (time.time() - 3600, time.time() - 3600))
    foreign = _entry("cccccccccccc", keeper=me, init=me, tmp=tmp_path)  # alive, but not a box's cgroup
    foreign["cgroup"] = {**foreign["cgroup"], "pids": "/sys/fs/cgroup/pids/system.slice"}
    (registry_dir / "cccccccccccc.json").write_text(json.dumps(foreign))

    assert ps() == []
    refused = judge("kill", "aaaa")
    assert refused.exit_code == 1 and "no running box" in refused.stderr
    assert leftovers(registry_dir) == ["aaaaaaaaaaa3.json", "cccccccccccc.json"]  # the latter: not old yet


def test_ps_shows_escape_sequences_in_a_command_as_text_never_raw(start: Start) -> None:
    """A contestant's argv that retitles the terminal and clears it (OSC 0, CSI 2J), with a
    right-to-left override: the table shows escapes, `--json` the argv as it is."""
    hostile = "\x1b]0;owned\x07\x1b[2J\u202e; exec sleep 600"
    box = start(["/bin/sh", "-c", hostile])
    assert box.listed()["command"] == ["/bin/sh", "-c", hostile]
    table = judge("ps")
    assert table.exit_code == 0, table.output
    assert box.id in table.stdout
    assert not any(c in table.stdout for c in "\x1b\x07\u202e")
    assert "\\x1b]0;owned\\x07" in table.stdout
