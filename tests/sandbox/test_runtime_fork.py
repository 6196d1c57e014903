"""The supervisor from a Celery-like process: threads, then fork, then boxes in the child."""

from __future__ import annotations

import os
import threading

import pytest

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
