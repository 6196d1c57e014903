"""Per-box cgroups on cgroup v1 or v2, detected at start.

Each box gets its own cgroup: memory limited with no swap, pids limited, CPU time accounted
over every task, optionally pinned to CPUs. The keeper creates it, the box's init joins it
after its own setup (so setup is not billed), the keeper reads peak memory, OOM kills and CPU
time from it, and removes it after the run.

v1 (and the hybrid of this machine: v1 controllers with an empty cgroup2 mount): one
directory per controller (memory, pids, cpuacct, cpuset), under this process's own cgroup in
each hierarchy plus `judge/`. Figures: `memory.max_usage_in_bytes`, `oom_kill` in
`memory.oom_control`, `cpuacct.usage` (ns). Socket buffers: v1 charges a socket's buffers to
its cgroup only once `memory.kmem.tcp.limit_in_bytes` is written, and then to a counter apart
from the memory limit; each box's is written when it is made (V1_SOCKET_BYTES), so TCP and UDP
buffers of the box's sockets are bounded per box, not only by the host-wide tcp_mem/udp_mem.
On v2 the kernel charges them to memory.current (the "sock" line of memory.stat), so they
count against the memory limit itself.

v2: one directory under this process's own cgroup plus `judge/`, in a delegated subtree (a
systemd unit with `Delegate=yes`, a container with its own cgroup namespace). The "no internal
processes" rule means the worker's processes move into a `supervisor/` leaf before controllers
are enabled for the subtree's children; a process already in that leaf (a worker's pool process,
forked after the move) uses the same subtree. Every mkdir, rmdir and write is below the cgroup
the worker started in: it never writes outside the subtree it was given.
Figures: `memory.peak`, `oom_kill` in `memory.events`, `usage_usec` in `cpu.stat`.

Detection: a cgroup2 filesystem at /sys/fs/cgroup means v2; otherwise v1 when the memory,
pids and cpuacct hierarchies are mounted. `SANDBOX_CGROUP_ROOT` (with `SANDBOX_CGROUP=v2`)
points the v2 driver at another tree, which the tests use to lay one out.

Shape: `Cgroups` detects the version once and from then on makes every box's cgroup with that
version's class, `CgroupV1` or `CgroupV2`, behind one interface (`BoxCgroup`): limits,
counters reset, CPU time, peak and current memory, OOM kills, processes, kill, remove. What
differs is in the two classes (file names, the memory and swap writes, v2's CPU baseline and
`cgroup.kill`); nothing else asks which version it is on.
"""

from __future__ import annotations

import errno
import os
import signal
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, NamedTuple

from .errors import HostSetupError, SandboxError

V1_CONTROLLERS = ("memory", "pids", "cpuacct", "cpuset")
# v1 charges socket buffers (TCP and UDP) to a counter of their own, and only once its limit is
# written: this bound, beside the memory limit, per box. v2 counts them in memory.current.
V1_SOCKET_BYTES = 8 * 1024 * 1024
V2_CONTROLLERS = ("memory", "pids", "cpu", "cpuset")
CGROUP2_MAGIC_ROOT = Path("/sys/fs/cgroup")
LEAF = "supervisor"  # where a v2 worker's own processes live, beside judge/


def _write(path: Path | str, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC)  # O_TRUNC: as `echo >` does
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def _read(path: Path | str) -> str:
    with open(path, encoding="ascii") as f:
        return f.read()


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, fs type, super options) for every cgroup mount of this mount namespace."""
    out = []
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fstype, _source, superopts = right.split()[:3]
            if fstype in ("cgroup", "cgroup2"):
                out.append((left.split()[4], fstype, set(superopts.split(","))))
    return out


def _own_paths() -> dict[str, str]:
    """Controller (or "" for v2) -> this process's cgroup path, from /proc/self/cgroup."""
    own: dict[str, str] = {}
    with open("/proc/self/cgroup", encoding="utf-8") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for c in controllers.split(",") if controllers else [""]:
                own[c] = path
    return own


class Figures(NamedTuple):
    """The files of a box's cgroup that a run's figures come from."""

    cpu: str  # CPU time of every task that was ever in the cgroup
    peak: str  # the highest memory use since the last reset
    usage: str  # memory use now
    oom: str  # holds the line "oom_kill N"


@dataclass(frozen=True, slots=True)
class BoxCgroup(ABC):
    """The cgroup(s) of one box, on the host's cgroup version: `CgroupV1` or `CgroupV2`.

    Paths in `procs` are what the box's init writes itself into. Which class a box gets is
    chosen once, by `Cgroups` when it detects the host; nothing here asks the version again.
    """

    version: ClassVar[int]
    files: ClassVar[Figures]  # where this version keeps the figures a run reads

    dirs: tuple[Path, ...]
    memory: Path
    pids: Path
    cpu: Path
    cpuset: Path | None
    has_swap_file: bool = False  # v1 memory.memsw.limit_in_bytes / v2 memory.swap.max exists

    @staticmethod
    def of(
        version: int, dirs: tuple[Path, ...], memory: Path, pids: Path, cpu: Path, cpuset: Path | None
    ) -> BoxCgroup:
        """The box cgroup of a recorded version (registry entries); ValueError for an unknown one."""
        kind = BOX_CGROUPS.get(version)
        if kind is None:
            raise ValueError(f"no cgroup version {version}")
        return kind(dirs, memory, pids, cpu, cpuset)

    @property
    def procs(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    def processes(self) -> set[int]:
        """Host pids of every process in the cgroup now; empty once it is gone."""
        try:
            with open(self.pids / "cgroup.procs", encoding="ascii") as f:
                return {int(p) for p in f.read().split()}
        except FileNotFoundError:
            return set()

    def set_limits(self, *, memory_bytes: int, processes: int, cpus: str | None) -> None:
        self._set_memory(memory_bytes)
        _write(self.pids / "pids.max", str(processes))
        if cpus is not None and self.cpuset is not None:
            _write(self.cpuset / "cpuset.cpus", cpus)

    @abstractmethod
    def _set_memory(self, limit: int) -> None:
        """The memory limit, swap included."""

    @abstractmethod
    def reset_counters(self) -> int:
        """Start this run's accounting now; returns the CPU baseline in ns (0 where reset works)."""

    def open_cpu(self) -> int:
        return os.open(self.cpu / self.files.cpu, os.O_RDONLY | os.O_CLOEXEC)

    def cpu_ns(self, fd: int | None = None) -> int:
        """CPU time of every task that was ever in the box, in ns."""
        own = fd is None
        if fd is None:
            fd = self.open_cpu()
        try:
            data = os.pread(fd, 4096, 0).decode()
        finally:
            if own:
                os.close(fd)
        return self._parse_cpu(data)

    @abstractmethod
    def _parse_cpu(self, data: str) -> int:
        """The text of files.cpu as ns."""

    def memory_peak(self) -> int:
        return int(_read(self.memory / self.files.peak))

    def memory_now(self) -> int:
        """Memory in use now, tmpfs pages included (`judge ps`)."""
        return int(_read(self.memory / self.files.usage))

    def oom_kills(self) -> int:
        for line in _read(self.memory / self.files.oom).splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def kill_all(self) -> None:
        """SIGKILL every process of the cgroup, until it is empty (up to about 0.1 s)."""
        for _ in range(100):
            pids = [int(p) for d in self.dirs for p in _read(d / "cgroup.procs").split()]
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.001)

    def remove(self) -> None:
        """rmdir every directory; tasks that are still exiting get a short grace period."""
        for d in self.dirs:
            for attempt in range(200):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError as e:
                    if e.errno != errno.EBUSY or attempt == 199:
                        raise SandboxError(f"cannot remove cgroup {d}: {e.strerror}") from e
                    if attempt == 50:
                        self.kill_all()
                    time.sleep(0.001)


@dataclass(frozen=True, slots=True)
class CgroupV1(BoxCgroup):
    """One directory per controller (memory, pids, cpuacct, cpuset); counters that reset."""

    version: ClassVar[int] = 1
    files: ClassVar[Figures] = Figures(
        "cpuacct.usage", "memory.max_usage_in_bytes", "memory.usage_in_bytes", "memory.oom_control"
    )

    @classmethod
    def make(cls, bases: dict[str, Path], name: str) -> CgroupV1:
        dirs = {c: base / name for c, base in bases.items()}
        for d in dirs.values():
            d.mkdir()
        cs = dirs["cpuset"]
        for f in ("cpuset.cpus", "cpuset.mems"):
            _write(cs / f, _read(bases["cpuset"] / f).strip())
        tcp = dirs["memory"] / "memory.kmem.tcp.limit_in_bytes"
        if tcp.exists():  # switches socket accounting on for sockets the box makes
            _write(tcp, str(V1_SOCKET_BYTES))
        swap = (dirs["memory"] / "memory.memsw.limit_in_bytes").exists()
        return cls(tuple(dirs.values()), dirs["memory"], dirs["pids"], dirs["cpuacct"], cs, swap)

    def _set_memory(self, limit: int) -> None:
        mem = self.memory / "memory.limit_in_bytes"
        memsw = self.memory / "memory.memsw.limit_in_bytes"
        has_memsw = self.has_swap_file
        # memsw must stay >= limit: raise memsw first when growing, lower limit first when shrinking
        try:
            _write(mem, str(limit))
            if has_memsw:
                _write(memsw, str(limit))
        except OSError as e:
            if e.errno != errno.EINVAL or not has_memsw:
                raise
            _write(memsw, str(limit))
            _write(mem, str(limit))

    def reset_counters(self) -> int:
        _write(self.cpu / "cpuacct.usage", "0")
        _write(self.memory / "memory.max_usage_in_bytes", "0")
        return 0

    def _parse_cpu(self, data: str) -> int:
        return int(data)


@dataclass(frozen=True, slots=True)
class CgroupV2(BoxCgroup):
    """One directory for every controller; the CPU counter cannot be reset, so a run has a baseline."""

    version: ClassVar[int] = 2
    files: ClassVar[Figures] = Figures("cpu.stat", "memory.peak", "memory.current", "memory.events")

    @classmethod
    def make(cls, bases: dict[str, Path], name: str) -> CgroupV2:
        d = bases[""] / name
        d.mkdir()
        cpuset = d if (d / "cpuset.cpus").exists() else None
        return cls((d,), d, d, d, cpuset, (d / "memory.swap.max").exists())

    def _set_memory(self, limit: int) -> None:
        _write(self.memory / "memory.max", str(limit))
        if self.has_swap_file:
            _write(self.memory / "memory.swap.max", "0")

    def reset_counters(self) -> int:
        return self.cpu_ns()

    def _parse_cpu(self, data: str) -> int:
        for line in data.splitlines():
            key, _, value = line.partition(" ")
            if key == "usage_usec":
                return int(value) * 1000
        raise SandboxError(f"no usage_usec in {self.cpu}/cpu.stat")

    def kill_all(self) -> None:
        kill = self.dirs[0] / "cgroup.kill"  # Linux 5.14 and later: the whole cgroup at once
        if kill.exists():
            _write(kill, "1")
            return
        BoxCgroup.kill_all(self)


BOX_CGROUPS: dict[int, type[CgroupV1] | type[CgroupV2]] = {1: CgroupV1, 2: CgroupV2}


class Cgroups:
    """Creates box cgroups under this process's own cgroup (v1 or v2, detected once)."""

    def __init__(self, version: int, bases: dict[str, Path]) -> None:
        self.version = version
        self.bases = bases  # controller -> directory under which box cgroups are made
        self.kind = BOX_CGROUPS[version]  # the one place the version chooses anything

    @classmethod
    def detect(cls) -> Cgroups:
        forced = os.environ.get("SANDBOX_CGROUP")
        root = os.environ.get("SANDBOX_CGROUP_ROOT")
        if forced == "v2" or (forced is None and _is_cgroup2(CGROUP2_MAGIC_ROOT)):
            if root is None:  # a stock host gives no subtree: obtain one (sandbox/delegation.py)
                from .delegation import ensure

                ensure()
            return cls._v2(Path(root) if root else CGROUP2_MAGIC_ROOT, own=root is None)
        return cls._v1()

    @classmethod
    def _v1(cls) -> Cgroups:
        mounts = _mounts()
        own = _own_paths()
        bases: dict[str, Path] = {}
        for c in V1_CONTROLLERS:
            mount = next((m for m, t, o in mounts if t == "cgroup" and c in o), None)
            if mount is None:
                raise HostSetupError(
                    f"the cgroup v1 {c} controller is not mounted and /sys/fs/cgroup is not "
                    f"cgroup v2. Mount it (mount -t cgroup -o {c} cgroup /sys/fs/cgroup/{c}) "
                    "or boot with cgroup v2; `python -m sandbox.check` explains."
                )
            base = Path(mount + own.get(c, "/")) / "judge"
            bases[c] = base
        for c, base in bases.items():
            try:
                base.mkdir(exist_ok=True)
                if c == "cpuset":
                    for f in ("cpuset.cpus", "cpuset.mems"):
                        if not _read(base / f).strip():
                            _write(base / f, _read(base.parent / f).strip())
            except OSError as e:
                raise HostSetupError(
                    f"cannot prepare the {c} cgroup {base} ({e.strerror}). Run as root; "
                    "`python -m sandbox.check` explains."
                ) from e
        return cls(1, bases)

    @classmethod
    def _v2(cls, mount: Path, *, own: bool) -> Cgroups:
        start = mount / _own_paths().get("", "/").lstrip("/") if own else mount
        if own and start.name == LEAF and start != mount:
            start = start.parent  # a process of a worker that already moved into its leaf
        try:
            available = set(_read(start / "cgroup.controllers").split())
        except OSError as e:
            raise HostSetupError(f"cannot read {start}/cgroup.controllers ({e.strerror})") from e
        missing = [c for c in V2_CONTROLLERS if c not in available and c != "cpuset"]
        if missing:
            raise HostSetupError(
                f"cgroup v2 controllers {', '.join(missing)} are not available in {start}. "
                "Delegate them (systemd: Delegate=yes; or run it under `systemd-run --scope -p "
                "Delegate=yes`), or run as root, where the judge obtains a subtree by itself; "
                "`python -m sandbox.check` explains."
            )
        return cls(2, {"": delegate(start, [c for c in V2_CONTROLLERS if c in available])})

    def sweep_stale(self) -> None:
        """Remove box cgroups left by keepers that died (names are box-<keeper pid>-<id>)."""
        for base in self.bases.values():
            try:
                entries = list(base.iterdir())
            except OSError:
                continue
            for d in entries:
                parts = d.name.split("-")
                if len(parts) != 3 or parts[0] != "box" or not parts[1].isdigit():
                    continue
                if Path(f"/proc/{parts[1]}").exists():
                    continue
                try:
                    os.rmdir(d)
                except OSError:
                    pass

    def create(self, name: str) -> BoxCgroup:
        try:
            return self.kind.make(self.bases, name)
        except OSError as e:
            raise SandboxError(f"cannot create cgroup {name} ({e.strerror})") from e


def delegate(start: Path, controllers: list[str]) -> Path:
    """Make the delegated cgroup v2 subtree `start` ready for box cgroups; returns `start/judge`.

    The processes in `start` (the worker's) move into the leaf `start/supervisor`, so that
    `controllers` can be enabled for `start`'s children (the kernel refuses that while `start`
    has processes of its own), then `start/judge` enables them for the boxes. Idempotent, and it
    touches nothing outside `start`.
    """
    base = start / "judge"
    want = " ".join("+" + c for c in controllers)
    try:
        enabled = set(_read(start / "cgroup.subtree_control").split())
        if not set(controllers) <= enabled:
            procs = _read(start / "cgroup.procs").split()
            if procs:
                leaf = start / LEAF
                leaf.mkdir(exist_ok=True)
                for pid in procs:
                    try:
                        _write(leaf / "cgroup.procs", pid)
                    except ProcessLookupError:
                        pass
            _write(start / "cgroup.subtree_control", want)
        base.mkdir(exist_ok=True)
        if controllers:
            _write(base / "cgroup.subtree_control", want)
    except OSError as e:
        raise HostSetupError(
            f"cannot prepare cgroup v2 subtree {base} ({e.strerror}). Run the worker as root "
            "with a delegated cgroup subtree (systemd: Delegate=yes; a container: its own cgroup "
            "namespace, /sys/fs/cgroup writable); `python -m sandbox.check` explains."
        ) from e
    return base


def _is_cgroup2(path: Path) -> bool:
    return any(m == str(path) and t == "cgroup2" for m, t, _ in _mounts())
