"""cgroup v2 delegation on a real cgroup2 filesystem: the kernel, not a tree of plain files.

The test plays systemd (`Delegate=yes`) or a container runtime: it makes a cgroup, puts a
"worker" (a sleeping process) in it and hands it over. Then `sandbox.cgroup.delegate` must move
the worker into its leaf (the kernel refuses to enable controllers for a cgroup's children while
it has processes of its own: a real EBUSY here, which a laid-out tree cannot give), enable the
controllers for `judge/`, and make, use and remove a box cgroup, all without one write outside
the subtree it was given.

On a pure cgroup v2 host the controllers are the sandbox's own (memory, pids, cpu, cpuset). On
this hybrid host the only controller the cgroup2 mount has is hugetlb (the others are bound to
v1), which is enough for the kernel to enforce every rule above; the full v2 driver is checked
against a laid-out tree in tests/unit/test_cgroup_tree.py.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cgroup_kit import cgroup2_mount, cgroup_of

from sandbox import cgroup
from sandbox.cgroup import V2_CONTROLLERS, Cgroups, delegate


@pytest.fixture
def given(request: pytest.FixtureRequest) -> Iterator[tuple[Path, list[str], subprocess.Popen[bytes]]]:
    """A delegated cgroup with a "worker" in it, on the host's cgroup2 mount; removed after."""
    mount = cgroup2_mount()
    root_controllers = (mount / "cgroup.controllers").read_text().split()
    usable = [c for c in (*V2_CONTROLLERS, "hugetlb") if c in root_controllers]
    assert usable, f"the cgroup2 mount {mount} has no controller at all"
    enabled_before = (mount / "cgroup.subtree_control").read_text().split()
    added = [c for c in usable if c not in enabled_before]
    if added:  # as systemd does for the slices it delegates from
        (mount / "cgroup.subtree_control").write_text(" ".join("+" + c for c in added))
    start = mount / f"judge-delegation-test-{os.getpid()}"
    start.mkdir()
    worker = subprocess.Popen(["sleep", "300"])
    (start / "cgroup.procs").write_text(str(worker.pid))
    yield start, usable, worker
    worker.kill()
    worker.wait()
    for d in sorted(start.rglob("*"), key=lambda p: -len(p.parts)):
        if d.is_dir():
            d.rmdir()
    start.rmdir()
    if added:
        try:
            (mount / "cgroup.subtree_control").write_text(" ".join("-" + c for c in added))
        except OSError as e:  # another cgroup now uses it: leave it on, as systemd would
            assert e.errno == errno.EBUSY


def test_the_kernel_refuses_controllers_beside_processes(
    given: tuple[Path, list[str], subprocess.Popen[bytes]],
) -> None:
    start, usable, _ = given
    with pytest.raises(OSError) as refused:
        (start / "cgroup.subtree_control").write_text("+" + usable[0])
    assert refused.value.errno == errno.EBUSY  # what `delegate` must work around


def test_delegate_moves_the_worker_into_its_leaf_and_never_writes_outside(
    given: tuple[Path, list[str], subprocess.Popen[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    start, usable, worker = given
    touched: list[Path] = []
    real_write, real_mkdir = cgroup._write, Path.mkdir

    def write(path: Path | str, value: str) -> None:
        touched.append(Path(path))
        real_write(path, value)

    def mkdir(self: Path, *args: object, **kwargs: object) -> None:
        touched.append(self)
        real_mkdir(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cgroup, "_write", write)
    monkeypatch.setattr(Path, "mkdir", mkdir)

    base = delegate(start, usable)
    assert base == start / "judge"
    assert cgroup_of(worker.pid).endswith(f"/{start.name}/supervisor")
    assert set(usable) <= set((start / "cgroup.subtree_control").read_text().split())
    assert set(usable) <= set((base / "cgroup.subtree_control").read_text().split())
    assert delegate(start, usable) == base  # a second worker process: the same subtree

    # a box cgroup in the subtree: made, entered, emptied, removed
    cg = Cgroups(2, {"": base})
    box = cg.create("box-1-deadbeef")
    child = subprocess.Popen(["sleep", "300"])
    Path(box.procs[0]).write_text(str(child.pid))
    assert cgroup_of(child.pid).endswith("/judge/box-1-deadbeef")
    box.kill_all()
    child.wait()
    box.remove()
    assert not (base / "box-1-deadbeef").exists()

    outside = [p for p in touched if start not in p.parents and p != start]
    assert touched and not outside, f"wrote outside the delegated subtree: {outside}"
