"""A delegated cgroup v2 subtree for this process, obtained by itself where it was given none.

Boxes need the memory, pids and cpu controllers in a cgroup subtree that is ours to arrange
(sandbox/cgroup.py, `delegate`). A unit with `Delegate=yes` or a container with its own cgroup
namespace gives one. A stock cgroup v2 host (Debian 12, Ubuntu 24.04) run by hand does not: a
root login shell sits in `/user.slice/user-0.slice/session-N.scope` and a plain service in
`/system.slice/x.service`, where systemd enables memory and pids but not cpu, and the cgroup is
systemd's. `ensure()` decides, once per process, before the first box:

- cgroup v1 (or this machine's hybrid), or `SANDBOX_CGROUP_ROOT` (a laid-out tree): nothing.
- This process's cgroup already has memory, pids and cpu, and is not the root cgroup: it was
  given a subtree (`Delegate=yes`, a container, or a parent judge process that did what
  follows); children inherit it. Nothing.
- systemd manages the host (`/run/systemd/system`): systemd starts a transient scope unit
  `judge-PID.scope` with `Delegate=yes` holding this process, the D-Bus call
  `StartTransientUnit` that `systemd-run --scope -p Delegate=yes` makes, through `busctl`.
  The process is moved, not re-run: stdin, the terminal, Ctrl-C and the exit code stay its own.
  Where the D-Bus call is refused (no D-Bus daemon) and the caller allows it, the command
  re-runs itself under `systemd-run --scope -p Delegate=yes --quiet`, which execs it in place
  (same pid, same terminal and foreground process group, same exit code).
- Nothing manages the host: the controllers are enabled in the root cgroup's
  `cgroup.subtree_control`, and the process moves into a subtree of its own,
  `/judge.subtrees/run-PID` (those of processes that ended are removed on the next start).

What it did is printed in one line on stderr, by the process that did it, and kept in
`JUDGE_CGROUP_DELEGATION` (`how path`) for its children; `python -m sandbox.check` reports it.
The decision itself, `plan()`, reads only files, so the tests lay out trees to exercise it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .cgroup import CGROUP2_MAGIC_ROOT, LEAF, V2_CONTROLLERS, _is_cgroup2, _own_paths, _read, _write
from .errors import HostSetupError

NEEDED = ("memory", "pids", "cpu")  # cpuset is used where it is there
SUBTREES = "judge.subtrees"  # under the root cgroup, where nothing manages the host
ENV = "JUDGE_CGROUP_DELEGATION"
REEXEC_ENV = "JUDGE_CGROUP_REEXEC"  # set across a systemd-run re-exec, so it happens once
SYSTEMD_RUN = ("systemd-run", "--scope", "-p", "Delegate=yes", "--quiet", "--collect")
MOVE_WAIT_S = 30.0  # systemd starts the scope asynchronously; an emulated machine is slow


@dataclass(frozen=True, slots=True)
class Delegation:
    """Where this process's boxes go and how it got there.

    how: "v1" (nothing to do), "laid-out" (SANDBOX_CGROUP_ROOT), "given" (this cgroup has the
    controllers), "systemd-scope" (moved into a transient scope with Delegate=yes),
    "root-subtree" (moved into a subtree of its own under the root cgroup), "missing" (none
    could be obtained: the driver's error says why).
    """

    how: str
    path: str  # the cgroup, relative to the cgroup2 mount ("/system.slice/judge-812.scope")
    detail: str


@dataclass(frozen=True, slots=True)
class Plan:
    action: str  # "none", "systemd-scope", "root-subtree"
    start: str  # this process's cgroup (its subtree's top when it is in a worker's leaf)
    missing: tuple[str, ...]


_done: Delegation | None = None


def own_start(mount: Path, own: str) -> Path:
    """The cgroup a process of `own` arranges boxes under (a worker's leaf counts as its parent)."""
    start = mount / own.lstrip("/")
    if start.name == LEAF and start != mount:
        start = start.parent
    return start


def plan(mount: Path, own: str, *, systemd: bool, delegated: Callable[[Path], bool] = lambda _: True) -> Plan:
    """What this process must do to have a delegated subtree; reads only files under `mount`.

    The real root cgroup (it alone has no `cgroup.type`) is no subtree of ours although it has
    every controller: a worker there would move every process of the machine into its leaf. The
    root of a container's cgroup namespace has `cgroup.type` and is the container's to use.
    Under systemd a cgroup with every controller is still systemd's unless its unit was
    delegated (`delegated(cgroup)`): a root shell's session scope may have cpu too, and the
    judge must not move the shell into a leaf of systemd's scope.
    """
    start = own_start(mount, own)
    rel = "/" + start.relative_to(mount).as_posix() if start != mount else "/"
    try:
        available = set(_read(start / "cgroup.controllers").split())
    except OSError as e:
        raise HostSetupError(f"cannot read {start}/cgroup.controllers ({e.strerror})") from e
    missing = tuple(c for c in NEEDED if c not in available)
    real_root = start == mount and not (mount / "cgroup.type").exists()
    if not missing and not real_root and (not systemd or start == mount or delegated(start)):
        return Plan("none", rel, ())
    if systemd:
        return Plan("systemd-scope", rel, missing)
    if (mount / "cgroup.type").exists():
        return Plan("none", rel, missing)  # a container's namespace lacking them: nothing to do here
    return Plan("root-subtree", rel, missing)


def systemd_delegated(cgroup: Path) -> bool:
    """Did systemd delegate this cgroup (its unit has Delegate=yes)?

    systemd 251 and later mark a delegated unit's cgroup with the xattr trusted.delegate=1;
    older ones are asked for the unit's Delegate property (`systemctl show`)."""
    for name in ("trusted.delegate", "user.delegate"):
        try:
            if os.getxattr(cgroup, name).strip(b"\0") == b"1":
                return True
        except OSError:
            pass
    unit = cgroup.name
    if not unit.endswith((".service", ".scope")):
        return False
    try:
        done = subprocess.run(
            ["systemctl", "show", "--property=Delegate", "--value", unit],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.stdout.strip() == "yes"


def root_subtree(mount: Path, pid: int) -> Path:
    """Enable the controllers from the root cgroup down to `judge.subtrees/run-PID`, move `pid`
    there, and remove the subtrees of processes that ended. Returns the new cgroup."""
    try:
        available = _read(mount / "cgroup.controllers").split()
        want = " ".join("+" + c for c in V2_CONTROLLERS if c in available)
        top = mount / SUBTREES
        if want:
            _write(mount / "cgroup.subtree_control", want)
        top.mkdir(exist_ok=True)
        if want:
            _write(top / "cgroup.subtree_control", want)
        sweep(top)
        mine = top / f"run-{pid}"
        mine.mkdir(exist_ok=True)
        _write(mine / "cgroup.procs", str(pid))
    except OSError as e:
        raise HostSetupError(
            f"cannot make a cgroup subtree under {mount} ({e.strerror}). Run as root, or run the "
            "judge in a unit with Delegate=yes; `python -m sandbox.check` explains."
        ) from e
    return mine


def sweep(top: Path) -> None:
    """Remove `run-PID` subtrees whose process ended (deepest first; a busy one stays)."""
    try:
        runs = [d for d in top.iterdir() if d.is_dir() and d.name.startswith("run-")]
    except OSError:
        return
    for run in runs:
        pid = run.name[4:]
        if not pid.isdigit() or Path(f"/proc/{pid}").exists():
            continue
        for d in sorted((p for p in run.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            try:
                os.rmdir(d)
            except OSError:
                pass
        try:
            os.rmdir(run)
        except OSError:
            pass


def _systemd_runs() -> bool:
    return Path("/run/systemd/system").is_dir()  # sd_booted(): systemd is this host's init


def _cgroup_now() -> str:
    return _own_paths().get("", "/")


def systemd_scope(pid: int) -> str:
    """Ask systemd for `judge-PID.scope` with Delegate=yes holding `pid`; returns its cgroup.

    Raises OSError when busctl is missing or the call is refused (no D-Bus daemon)."""
    busctl = shutil.which("busctl")
    if busctl is None:
        raise FileNotFoundError("busctl")
    unit = f"judge-{pid}.scope"
    args = [
        busctl,
        "call",
        "--quiet",
        "org.freedesktop.systemd1",
        "/org/freedesktop/systemd1",
        "org.freedesktop.systemd1.Manager",
        "StartTransientUnit",
        "ssa(sv)a(sa(sv))",
        unit,
        "fail",
        "4",
        "PIDs",
        "au",
        "1",
        str(pid),
        "Delegate",
        "b",
        "true",
        "CollectMode",
        "s",
        "inactive-or-failed",
        "Description",
        "s",
        f"judge: boxes of process {pid}",
        "0",
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise OSError(f"busctl StartTransientUnit: {done.stderr.strip() or done.returncode}")
    deadline = time.monotonic() + MOVE_WAIT_S
    while time.monotonic() < deadline:
        now = _cgroup_now()
        if now.rsplit("/", 1)[-1] == unit:
            return now
        time.sleep(0.01)
    raise OSError(f"systemd did not move this process into {unit} within {MOVE_WAIT_S:.0f} s")


def _reexec_under_systemd_run() -> None:
    """exec this very command line under systemd-run --scope (same pid, terminal, exit code)."""
    with open("/proc/self/cmdline", "rb") as f:
        argv = [a.decode() for a in f.read().split(b"\0") if a]
    os.environ[REEXEC_ENV] = _cgroup_now()
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvp(SYSTEMD_RUN[0], [*SYSTEMD_RUN, "--", sys.executable, *argv[1:]])


def _announce(line: str) -> None:
    print(f"judge: {line}", file=sys.stderr, flush=True)


def ensure(*, reexec: bool = False, announce: bool = True) -> Delegation:
    """Make sure this process sits in a delegated cgroup v2 subtree; see the module's docstring.

    Call it early, before other processes are started, so that they inherit the subtree.
    `reexec`: a command line may re-run itself under systemd-run when the D-Bus call fails.
    Raises nothing for a host that cannot be helped: the cgroup driver's error says why later.
    """
    global _done
    if _done is not None:
        return _done
    _done = _decide(reexec=reexec, announce=announce)
    if _done.how in ("systemd-scope", "root-subtree"):
        os.environ[ENV] = f"{_done.how} {_done.path}"
    return _done


def _decide(*, reexec: bool, announce: bool) -> Delegation:
    forced = os.environ.get("SANDBOX_CGROUP")
    if os.environ.get("SANDBOX_CGROUP_ROOT"):
        root = os.environ["SANDBOX_CGROUP_ROOT"]
        return Delegation("laid-out", root, f"SANDBOX_CGROUP_ROOT: the tree laid out at {root}")
    if forced == "v1" or (forced is None and not _is_cgroup2(CGROUP2_MAGIC_ROOT)):
        return Delegation("v1", "", "not needed on cgroup v1 (a hierarchy per controller)")
    mount = CGROUP2_MAGIC_ROOT
    was = os.environ.pop(REEXEC_ENV, None)
    own = _cgroup_now()
    systemd = _systemd_runs()
    p = plan(mount, own, systemd=systemd, delegated=systemd_delegated)
    if p.action == "none" and not p.missing:
        if was is not None:  # this command re-ran itself under systemd-run: say so, once
            line = (
                f"cgroup v2: {was} lacked a delegated subtree; re-ran this command in the transient "
                f"systemd scope {p.start} (systemd-run --scope -p Delegate=yes)"
            )
            if announce:
                _announce(line)
            return Delegation("systemd-scope", p.start, line)
        inherited = os.environ.get(ENV)
        detail = f"given: {p.start} has {', '.join(NEEDED)}" + (
            f" (obtained by a parent judge process: {inherited})" if inherited else ""
        )
        return Delegation("given", p.start, detail)
    if p.action == "none" or os.geteuid() != 0 or was is not None:
        lacks = ", ".join(p.missing) or "a subtree of its own"
        return Delegation("missing", p.start, f"{p.start} lacks {lacks}")
    if p.missing:
        why = f"{p.start} lacks the {', '.join(p.missing)} controller{'s' if len(p.missing) > 1 else ''}"
    else:
        why = f"{p.start} is the root cgroup" if p.start == "/" else f"{p.start} is systemd's, not delegated"
    if p.action == "systemd-scope":
        try:
            path = systemd_scope(os.getpid())
        except (OSError, subprocess.SubprocessError) as e:
            if reexec and shutil.which(SYSTEMD_RUN[0]):
                _reexec_under_systemd_run()  # does not return
            return Delegation("missing", p.start, f"{why}; systemd gave no scope: {e}")
        line = (
            f"cgroup v2: {why}; moved this process into the transient systemd scope {path} "
            "(Delegate=yes), where its boxes' cgroups go"
        )
        if announce:
            _announce(line)
        return Delegation("systemd-scope", path, line)
    mine = root_subtree(mount, os.getpid())
    path = "/" + str(mine.relative_to(mount))
    line = (
        f"cgroup v2: {why} and no manager runs this host; enabled {', '.join(NEEDED)} from the "
        f"root cgroup down and moved this process into its own subtree {path}"
    )
    if announce:
        _announce(line)
    return Delegation("root-subtree", path, line)
