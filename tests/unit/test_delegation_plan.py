"""Where a delegated cgroup v2 subtree comes from (sandbox/delegation.py), on laid-out trees.

The trees are the ones a stock host has: systemd's root shell in a session scope with memory
and pids but no cpu, a plain service likewise, a unit with Delegate=yes, a worker's pool process
in its leaf, a container's namespace root, and a host nobody manages. The kernel's side (making
a subtree under a real root cgroup and moving a process into it) is
tests/sandbox/test_root_subtree.py; systemd's side is the fresh-machine check (.ci/fresh-machine).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox import delegation
from sandbox.delegation import Delegation, plan, root_subtree, sweep

STOCK_ROOT = "cpuset cpu io memory hugetlb pids rdma misc"
STOCK_SLICE = "memory pids"  # what systemd enables below user.slice and system.slice by default


def lay_out(d: Path, controllers: str, *, root: bool = False) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "cgroup.controllers").write_text(controllers + "\n")
    (d / "cgroup.subtree_control").write_text("")
    (d / "cgroup.procs").write_text("")
    if not root:
        (d / "cgroup.type").write_text("domain\n")  # the kernel gives every cgroup but the root one
    return d


@pytest.fixture
def host(tmp_path: Path) -> Path:
    lay_out(tmp_path, STOCK_ROOT, root=True)
    lay_out(tmp_path / "user.slice" / "user-0.slice" / "session-3.scope", STOCK_SLICE)
    lay_out(tmp_path / "system.slice" / "plain.service", STOCK_SLICE)
    lay_out(tmp_path / "system.slice" / "judge-worker.service", "cpuset cpu io memory pids")
    return tmp_path


def test_a_root_login_shell_on_systemd_asks_for_a_scope_because_cpu_is_missing(host: Path) -> None:
    p = plan(host, "/user.slice/user-0.slice/session-3.scope", systemd=True)
    assert (p.action, p.missing) == ("systemd-scope", ("cpu",))
    assert p.start == "/user.slice/user-0.slice/session-3.scope"


def test_a_plain_service_asks_for_a_scope_too(host: Path) -> None:
    assert plan(host, "/system.slice/plain.service", systemd=True).action == "systemd-scope"


def delegated(cgroup: Path) -> bool:
    """systemd's answer on the laid-out host: units named judge-* have Delegate=yes."""
    return cgroup.name.startswith(("judge-", "run-r"))


def test_a_unit_with_delegate_yes_keeps_its_own_subtree(host: Path) -> None:
    p = plan(host, "/system.slice/judge-worker.service", systemd=True, delegated=delegated)
    assert (p.action, p.missing) == ("none", ())


def test_a_session_scope_with_every_controller_is_still_systemds(host: Path) -> None:
    """Where a slice has cpu enabled too: the judge must not move the login shell into a leaf."""
    lay_out(host / "user.slice" / "user-0.slice" / "session-3.scope", "cpuset cpu io memory pids")
    p = plan(host, "/user.slice/user-0.slice/session-3.scope", systemd=True, delegated=delegated)
    assert (p.action, p.missing) == ("systemd-scope", ())


def test_systemd_marks_a_delegated_cgroup_with_an_xattr(tmp_path: Path) -> None:
    from sandbox.delegation import systemd_delegated

    unit = tmp_path / "judge-worker.slice"  # a name systemctl is never asked about
    unit.mkdir()
    assert not systemd_delegated(unit)
    try:
        os.setxattr(unit, "user.delegate", b"1")
    except OSError as e:
        pytest.skip(f"{tmp_path} takes no user xattrs: {e}")
    assert systemd_delegated(unit)


def test_a_pool_process_in_the_workers_leaf_uses_the_workers_subtree(host: Path) -> None:
    lay_out(host / "system.slice" / "judge-worker.service" / "supervisor", "")
    p = plan(host, "/system.slice/judge-worker.service/supervisor", systemd=True, delegated=delegated)
    assert (p.action, p.start) == ("none", "/system.slice/judge-worker.service")


def test_without_a_manager_a_shell_lacking_cpu_gets_a_subtree_under_the_root(host: Path) -> None:
    assert plan(host, "/user.slice/user-0.slice/session-3.scope", systemd=False).action == "root-subtree"


def test_the_real_root_cgroup_is_never_used_as_the_subtree(host: Path) -> None:
    """It has every controller, but a worker there would move every process into its leaf."""
    p = plan(host, "/", systemd=False)
    assert (p.action, p.start, p.missing) == ("root-subtree", "/", ())


def test_a_containers_namespace_root_with_the_controllers_is_its_own(tmp_path: Path) -> None:
    lay_out(tmp_path, "cpuset cpu io memory pids")  # has cgroup.type: not the real root
    assert plan(tmp_path, "/", systemd=False).action == "none"


def test_the_root_subtree_enables_the_controllers_and_moves_the_process(host: Path) -> None:
    real_mkdir = Path.mkdir

    def mkdir(self: Path, *args: object, **kwargs: object) -> None:  # the kernel's interface files
        real_mkdir(self, *args, **kwargs)  # type: ignore[arg-type]
        for name, text in (
            ("cgroup.controllers", STOCK_ROOT),
            ("cgroup.subtree_control", ""),
            ("cgroup.procs", ""),
        ):
            (self / name).write_text(text)

    with pytest.MonkeyPatch.context() as m:
        m.setattr(Path, "mkdir", mkdir)
        mine = root_subtree(host, 4242)
    assert mine == host / "judge.subtrees" / "run-4242"
    assert (host / "cgroup.subtree_control").read_text() == "+memory +pids +cpu +cpuset"
    assert (host / "judge.subtrees" / "cgroup.subtree_control").read_text() == "+memory +pids +cpu +cpuset"
    assert (mine / "cgroup.procs").read_text() == "4242"


def test_sweep_removes_the_subtrees_of_ended_processes_only(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    (tmp_path / f"run-{gone.pid}" / "supervisor").mkdir(parents=True)
    (tmp_path / f"run-{gone.pid}" / "judge" / "box-1-a").mkdir(parents=True)
    (tmp_path / f"run-{os.getpid()}").mkdir()
    (tmp_path / "other").mkdir()
    sweep(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"run-{os.getpid()}", "other"])


@pytest.fixture
def stock(host: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """ensure() on the laid-out host, as root in a session scope of a systemd host."""
    monkeypatch.delenv("SANDBOX_CGROUP_ROOT", raising=False)
    monkeypatch.delenv("SANDBOX_CGROUP", raising=False)
    monkeypatch.delenv(delegation.ENV, raising=False)
    monkeypatch.delenv(delegation.REEXEC_ENV, raising=False)
    monkeypatch.setattr(delegation, "_done", None)
    monkeypatch.setattr(delegation, "CGROUP2_MAGIC_ROOT", host)
    monkeypatch.setattr(delegation, "_is_cgroup2", lambda path: path == host)
    monkeypatch.setattr(delegation, "_cgroup_now", lambda: "/user.slice/user-0.slice/session-3.scope")
    monkeypatch.setattr(delegation, "_systemd_runs", lambda: True)
    monkeypatch.setattr(delegation, "systemd_delegated", delegated)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    return host


def test_ensure_moves_into_a_scope_and_says_so_in_one_line(
    stock: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[int] = []

    def scope(pid: int) -> str:
        asked.append(pid)
        return f"/system.slice/judge-{pid}.scope"

    monkeypatch.setattr(delegation, "systemd_scope", scope)
    d = delegation.ensure()
    pid = os.getpid()
    assert asked == [pid]
    assert (d.how, d.path) == ("systemd-scope", f"/system.slice/judge-{pid}.scope")
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "session-3.scope lacks the cpu controller" in err
    assert f"/system.slice/judge-{pid}.scope (Delegate=yes)" in err
    assert os.environ[delegation.ENV] == f"systemd-scope /system.slice/judge-{pid}.scope"
    assert delegation.ensure() is d  # once per process
    assert capsys.readouterr().err == ""


def test_without_d_bus_a_command_re_runs_itself_under_systemd_run(
    stock: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(pid: int) -> str:
        raise OSError("Failed to connect to bus: No such file or directory")

    class Exec(Exception):
        pass

    def execvp(file: str, argv: list[str]) -> None:
        raise Exec(file, argv)

    monkeypatch.setattr(delegation, "systemd_scope", refused)
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(os, "execvp", execvp)
    with pytest.raises(Exec) as ran:
        delegation.ensure(reexec=True)
    file, argv = ran.value.args
    assert file == "systemd-run"
    assert argv[: argv.index("--")] == [
        "systemd-run",
        "--scope",
        "-p",
        "Delegate=yes",
        "--quiet",
        "--collect",
    ]
    assert argv[argv.index("--") + 1] == sys.executable
    assert os.environ[delegation.REEXEC_ENV] == "/user.slice/user-0.slice/session-3.scope"


def test_after_the_re_run_it_reports_the_scope_and_never_re_runs_again(
    stock: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lay_out(stock / "system.slice" / "run-r1.scope", "cpuset cpu io memory pids")
    monkeypatch.setenv(delegation.REEXEC_ENV, "/user.slice/user-0.slice/session-3.scope")
    monkeypatch.setattr(delegation, "_cgroup_now", lambda: "/system.slice/run-r1.scope")
    d = delegation.ensure(reexec=True)
    assert (d.how, d.path) == ("systemd-scope", "/system.slice/run-r1.scope")
    err = capsys.readouterr().err
    assert "re-ran this command in the transient systemd scope /system.slice/run-r1.scope" in err
    assert delegation.REEXEC_ENV not in os.environ  # its children decide afresh


def test_a_child_of_a_delegated_process_finds_the_subtree_given(
    stock: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(delegation.ENV, "systemd-scope /system.slice/judge-7.scope")
    lay_out(stock / "system.slice" / "judge-7.scope" / "supervisor", "")
    (stock / "system.slice" / "judge-7.scope" / "cgroup.controllers").write_text("cpuset cpu io memory pids")
    monkeypatch.setattr(delegation, "_cgroup_now", lambda: "/system.slice/judge-7.scope/supervisor")
    d = delegation.ensure()
    assert d == Delegation("given", "/system.slice/judge-7.scope", d.detail)
    assert "obtained by a parent judge process: systemd-scope /system.slice/judge-7.scope" in d.detail
    assert capsys.readouterr().err == ""


def test_cgroup_v1_hosts_are_left_as_they_are(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delegation, "_done", None)
    monkeypatch.setenv("SANDBOX_CGROUP", "v1")
    monkeypatch.delenv("SANDBOX_CGROUP_ROOT", raising=False)
    assert delegation.ensure().how == "v1"


@pytest.mark.parametrize(
    ("argv", "asks"),
    [
        (["run", "missing.c"], True),
        (["serve", "--help"], False),
        (["images", "ls"], False),
    ],
)
def test_the_judge_commands_that_make_boxes_ask_first(
    argv: list[str], asks: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before anything else (a usage error comes after), so that what they start inherits it."""
    from click.testing import CliRunner

    from judge import cli

    asked: list[bool] = []
    monkeypatch.setattr(delegation, "ensure", lambda **kw: asked.append(kw.get("reexec", False)))
    monkeypatch.setattr(sys, "argv", ["judge", *argv])
    CliRunner().invoke(cli.main, argv)
    assert asked == ([True] if asks else [])
