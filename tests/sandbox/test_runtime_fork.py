"""The supervisor from a Celery-like process: threads, then fork, then boxes in the child."""

from __future__ import annotations

import os
import threading

import pytest
from kit import wait_until

import sandbox


@pytest.mark.sandbox
def test_boxes_from_threads_and_from_a_child_forked_while_threads_run() -> None:
    sb = sandbox.default()
    stop = threading.Event()
    results: list[str] = []

    def worker() -> None:
        while not stop.is_set():
            results.append(sb.run(["/bin/echo", "t"]).stdout.decode())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        pid = os.fork()  # what a Celery prefork pool does, with the pool thread alive
        if pid == 0:
            code = 1
            try:
                child = sandbox.default()
                ok = child is not sb and child.run(["/bin/echo", "child"]).stdout == b"child\n"
                code = 0 if ok else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert os.waitstatus_to_exitcode(status) == 0
    assert results and set(results) == {"t\n"}
    # the parent's own boxes still work after the fork
    assert sb.run(["/bin/echo", "parent"]).stdout == b"parent\n"


KEEPER = """
import sys, sandbox
from sandbox import Limits
print("go", flush=True)
sandbox.default().run(["/bin/sleep", "1000"], Limits(wall_time_ms=600_000, cpu_time_ms=600_000))
"""


def _box_sleepers() -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if f.read() == b"/bin/sleep\x001000\x00":
                    found.append(int(entry))
        except OSError:
            pass
    return found


@pytest.mark.sandbox
@pytest.mark.slow
def test_a_box_dies_with_its_keeper() -> None:
    import subprocess
    import sys

    keeper = subprocess.Popen([sys.executable, "-c", KEEPER], stdout=subprocess.PIPE)
    assert keeper.stdout is not None and keeper.stdout.readline() == b"go\n"
    wait_until(_box_sleepers, what="the box to start", timeout_s=10)
    assert _box_sleepers(), "the box never started"
    keeper.kill()  # SIGKILL: no atexit, no cleanup in the keeper
    keeper.wait()
    keeper.stdout.close()
    wait_until(
        _box_sleepers, until=lambda pids: pids == [], what="the box to die with its keeper", timeout_s=5
    )
    assert _box_sleepers() == []
