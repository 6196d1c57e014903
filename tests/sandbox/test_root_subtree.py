"""A subtree of our own under the root cgroup, where nothing manages the host: on the kernel.

sandbox/delegation.py makes `/judge.subtrees/run-PID` under the root of the cgroup2 hierarchy
and moves the process there when no systemd runs the host. Here the test does it for a sleeping
child on this machine's cgroup2 mount (on this hybrid host its root has only hugetlb, so no
controller is enabled; the laid-out trees of tests/unit/test_delegation_plan.py check those
writes), and the kernel must show the child in the new cgroup; `sweep` must remove it once the
child is gone. It also holds the rule `plan` rests on: the real root cgroup alone has no
`cgroup.type`.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.cgroup import _mounts
from sandbox.delegation import SUBTREES, plan, root_subtree, sweep


def cgroup_of(pid: int) -> str:
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        if line.startswith("0::"):
            return line[3:]
    raise AssertionError(f"process {pid} has no cgroup v2 line")


@pytest.fixture
def mount() -> Iterator[Path]:
    found = [Path(m) for m, t, _ in _mounts() if t == "cgroup2"]
    if not found:
        if os.environ.get("CI"):
            pytest.fail("no cgroup2 filesystem is mounted: this machine cannot run the judge's v2 code")
        pytest.skip("no cgroup2 filesystem is mounted")
    had = (found[0] / SUBTREES).exists()
    yield found[0]
    if not had:
        try:
            (found[0] / SUBTREES).rmdir()
        except OSError:
            pass  # another judge process on this host uses it now


def test_the_real_root_cgroup_alone_has_no_cgroup_type(mount: Path) -> None:
    if (mount / "cgroup.type").exists():
        pytest.skip(f"{mount} is a cgroup namespace's root, not the real one")  # a container
    assert plan(mount, "/", systemd=False).action == "root-subtree"


def test_a_process_moves_into_its_own_subtree_and_the_sweep_removes_it(mount: Path) -> None:
    child = subprocess.Popen(["sleep", "300"])
    try:
        mine = root_subtree(mount, child.pid)
        assert mine == mount / SUBTREES / f"run-{child.pid}"
        assert cgroup_of(child.pid).endswith(f"/{SUBTREES}/run-{child.pid}")
        assert (mine / "cgroup.type").read_text().strip() == "domain"
        sweep(mount / SUBTREES)
        assert mine.exists(), "the subtree of a running process was swept"
    finally:
        child.kill()
        child.wait()
    sweep(mount / SUBTREES)
    assert not mine.exists()
