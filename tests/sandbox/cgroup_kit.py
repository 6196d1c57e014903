"""What the cgroup v2 tests on the kernel share (test_cgroup_delegation.py, test_root_subtree.py):
the host's cgroup2 mount, read from /proc/self/mountinfo as the test's own fact rather than through
the sandbox's private helper, and the v2 cgroup a process is in."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def cgroup2_mount() -> Path:
    """This mount namespace's cgroup2 mount point; skips the test where there is none, except
    under CI=true, where it fails: a CI machine must run the judge's v2 code."""
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[:1] == ["cgroup2"]:
                return Path(left.split()[4])
    if os.environ.get("CI"):
        pytest.fail("no cgroup2 filesystem is mounted: this machine cannot run the judge's v2 code")
    pytest.skip("no cgroup2 filesystem is mounted")


def cgroup_of(pid: int) -> str:
    """The cgroup v2 path of process `pid` (its `0::` line in /proc/PID/cgroup)."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        if line.startswith("0::"):
            return line[3:]
    raise AssertionError(f"process {pid} has no cgroup v2 line")
