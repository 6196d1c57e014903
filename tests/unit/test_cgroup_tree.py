"""The cgroup v2 driver against a tree laid out by the test (this host has no v2 controllers).

A real cgroup2 filesystem creates the interface files itself; here the test writes them
after each mkdir, then checks what the driver wrote and read. The v1 driver is exercised by
every sandbox test on this (hybrid) host.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.cgroup import BoxCgroup, Cgroups, CgroupV2


def lay_out(d: Path, controllers: str = "cpuset cpu io memory pids", procs: str = "") -> None:
    (d / "cgroup.controllers").write_text(controllers + "\n")
    (d / "cgroup.subtree_control").write_text("")
    (d / "cgroup.procs").write_text(procs)


def test_v2_enables_controllers_after_moving_itself_into_a_leaf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lay_out(tmp_path, procs="4242\n")
    monkeypatch.setenv("SANDBOX_CGROUP", "v2")
    monkeypatch.setenv("SANDBOX_CGROUP_ROOT", str(tmp_path))
    # the kernel would make these when the directories are created
    real_mkdir = Path.mkdir

    def mkdir(self: Path, *args: object, **kwargs: object) -> None:
        real_mkdir(self, *args, **kwargs)  # type: ignore[arg-type]
        if self.name in ("supervisor", "judge"):
            lay_out(self)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    cg = Cgroups.detect()
    assert cg.version == 2
    assert (tmp_path / "supervisor" / "cgroup.procs").read_text() == "4242"
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+memory +pids +cpu +cpuset"
    assert (tmp_path / "judge" / "cgroup.subtree_control").read_text() == "+memory +pids +cpu +cpuset"
    assert cg.bases == {"": tmp_path / "judge"}


def test_v2_refuses_a_tree_without_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lay_out(tmp_path, controllers="cpu pids")
    monkeypatch.setenv("SANDBOX_CGROUP", "v2")
    monkeypatch.setenv("SANDBOX_CGROUP_ROOT", str(tmp_path))
    with pytest.raises(Exception, match="memory are not available"):
        Cgroups.detect()


def make_v2_box(tmp_path: Path) -> BoxCgroup:
    d = tmp_path / "box-1-abc"
    d.mkdir()
    for name, text in {
        "memory.max": "max\n",
        "memory.swap.max": "max\n",
        "pids.max": "max\n",
        "cpuset.cpus": "\n",
        "cgroup.procs": "",
        "cgroup.kill": "",
        "cpu.stat": "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n",
        "memory.peak": "67108864\n",
        "memory.events": "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n",
    }.items():
        (d / name).write_text(text)
    return CgroupV2((d,), d, d, d, d, True)


def test_v2_box_limits_and_figures(tmp_path: Path) -> None:
    box = make_v2_box(tmp_path)
    box.set_limits(memory_bytes=256 << 20, processes=16, cpus="1")
    d = box.dirs[0]
    assert (d / "memory.max").read_text() == str(256 << 20)
    assert (d / "memory.swap.max").read_text() == "0"
    assert (d / "pids.max").read_text() == "16"
    assert (d / "cpuset.cpus").read_text() == "1"
    assert box.reset_counters() == 1_500_000  # v2 cannot reset: the baseline is read instead
    assert box.cpu_ns() == 1_500_000
    assert box.memory_peak() == 64 << 20
    assert box.oom_kills() == 1
    assert box.procs == [str(d / "cgroup.procs")]
    box.kill_all()
    assert (d / "cgroup.kill").read_text() == "1"


def test_v2_a_process_already_in_the_leaf_uses_the_same_subtree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker's pool process is forked after the worker moved into supervisor/: it must not
    nest a second subtree inside the leaf (which would break the no-internal-processes rule)."""
    from sandbox import cgroup, delegation

    unit = tmp_path / "system.slice" / "judge-worker.service"
    (unit / "supervisor").mkdir(parents=True)
    (unit / "judge").mkdir()
    lay_out(unit)
    (unit / "cgroup.subtree_control").write_text("memory pids cpu cpuset")
    lay_out(unit / "judge")
    # the host's cgroup2 mount, where this process is in the unit's leaf and needs no delegation
    monkeypatch.setenv("SANDBOX_CGROUP", "v2")
    monkeypatch.delenv("SANDBOX_CGROUP_ROOT", raising=False)
    monkeypatch.setattr(cgroup, "CGROUP2_MAGIC_ROOT", tmp_path)
    monkeypatch.setattr(delegation, "ensure", lambda: None)
    monkeypatch.setattr(cgroup, "_own_paths", lambda: {"": "/system.slice/judge-worker.service/supervisor"})
    cg = Cgroups.detect()
    assert cg.bases == {"": unit / "judge"}
    assert not (unit / "supervisor" / "judge").exists()
