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

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cgroup_kit import cgroup2_mount, cgroup_of

from sandbox.delegation import SUBTREES, plan, root_subtree, sweep


@pytest.fixture
def mount() -> Iterator[Path]:
    found = cgroup2_mount()
    had = (found / SUBTREES).exists()
    yield found
    if not had:
        try:
            (found / SUBTREES).rmdir()
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
