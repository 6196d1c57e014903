"""judge/bench/cputime.py: the CPU of a process tree, a reaped child's included."""

from __future__ import annotations

import os
import subprocess
import sys

from judge.bench import cputime

# a parent that starts a child burning 0.3 s of CPU, reaps it, then waits to be stopped
PARENT = """
import subprocess, sys
subprocess.run([sys.executable, "-c", "import time\\nwhile time.process_time() < 0.3: pass"], check=True)
print("reaped", flush=True)
sys.stdin.read()
"""


def test_a_reaped_childs_cpu_counts_in_its_parents_role() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        before = cputime.snapshot([parent.pid])
        assert parent.stdout is not None and parent.stdout.readline() == b"reaped\n"
        spent = cputime.spent(before, cputime.snapshot([parent.pid]))
    finally:
        parent.communicate(b"")
    assert list(spent) == [f"{sys.executable} -c {PARENT}".strip()]
    assert sum(spent.values()) >= 0.3 - 1 / cputime.TICKS_PER_S


def test_children_are_the_processes_started_here() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        assert child.pid in cputime.children(os.getpid())
    finally:
        child.communicate(b"")
    assert child.pid not in cputime.children(os.getpid())
