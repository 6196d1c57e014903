"""Boxes now running on this machine, for `judge ps`, `judge stop` and `judge kill`.

Runs as root. Imports nothing from judge/. One small JSON file per running box in a directory
on /run (a tmpfs, so nothing of it outlives a reboot), mode 0700:

  <id>.json  written by the box's keeper when it sends GO (tmp + rename: a reader never sees
             half a file) and removed when the run returns. The id is 12 random hex digits,
             like Docker's short ids; a unique prefix names the box.
  <id>.stop  written by `judge stop` ("stop") or `judge kill` ("kill") before the first
             signal. The keeper reads it when the run ends, so the result says an operator
             ended the program, and removes it with the entry.

Only runs are listed: a box the pool prepared but no program has started in is not running
anything, and is an implementation detail of one process.

Pids are reused, so an entry names its keeper and its box's init each by pid *and* start time
(field 22 of /proc/PID/stat). An entry is listed while that init lives; it is removed by a
reader only when its keeper is gone (a dead keeper's box ends at once: init sees the control
socket close), because a live keeper removes its own and may still have to read the marker.
Every signal goes through a pidfd opened before the identity is checked again, so it can only
reach the process the check was about.

Stopping is systemd's KillMode=control-group: SIGTERM to every process of the box but its
init, then, after a grace period, SIGKILL to the init, which ends the whole pid namespace at
once. The init itself is never sent SIGTERM: as pid 1 of its namespace with no handler it
would not get it anyway. An entry appears at GO, a moment before init forks the program, and
the forked child runs boxinit's code until it execs: that child is not sent SIGTERM (its
/proc/PID/exe is still init's), and stop tries again every few milliseconds until the program
runs or the grace period is over, so that SIGTERM always reaches the program and never
boxinit's set-up (init would see that child die without a report, and say so). Killing is the
SIGKILL straight away. The keeper's run then returns RTE with signal 15 or 9 and a
message naming the operator's command (RunResult.extra["operator"] is "stop" or "kill"); a
killed init reports nothing, and the marker is what tells the keeper this is no failure of ours.

The directory is SANDBOX_REGISTRY when set (read when a Registry is made, never at import):
the tests keep their boxes apart from a real judge's that way.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import select
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .cgroup import BoxCgroup

log = logging.getLogger(__name__)

DEFAULT_DIR = "/run/judge-sandbox/boxes"
ENV = "SANDBOX_REGISTRY"
ID_RE = re.compile(r"[0-9a-f]{12}")
OPERATOR_MESSAGES = {
    "stop": "stopped by an operator (judge stop)",
    "kill": "killed by an operator (judge kill)",
}
LITTER_AGE_S = 60.0  # a tmp file or marker without its entry is removed after this long
EXIT_WAIT_S = 5.0  # after SIGKILL, how long to wait for the init to be gone
RETRY_MAX_S = 0.05  # `stop` looks for the program again after 1 ms, 2 ms, ... up to this


def new_id() -> str:
    """A fresh public box id: 12 random lowercase hex digits."""
    return secrets.token_hex(6)


class NoSuchBox(LookupError):
    """No running box has an id starting with the prefix."""


class AmbiguousPrefix(LookupError):
    """More than one running box has an id starting with the prefix; `matches` lists them."""

    def __init__(self, message: str, matches: list[str]) -> None:
        super().__init__(message)
        self.matches = matches


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One running box as its keeper recorded it at GO."""

    id: str
    image: str
    argv: tuple[str, ...]
    started: float  # Unix time of GO, seconds
    keeper_pid: int
    keeper_start: int  # clock ticks after boot, /proc/PID/stat field 22
    init_pid: int  # pid 1 of the box, as the host sees it
    init_start: int
    cgroup: BoxCgroup
    cpu_baseline_ns: int  # the cgroup's CPU counter at GO (0 on v1, where GO resets it)
    uid: int | None = None  # the box's own uid and gid (None: an entry of a keeper before it had one)

    def to_json(self) -> dict[str, object]:
        cg = self.cgroup
        return {
            "id": self.id,
            "image": self.image,
            "argv": list(self.argv),
            "started": self.started,
            "keeper_pid": self.keeper_pid,
            "keeper_start": self.keeper_start,
            "init_pid": self.init_pid,
            "init_start": self.init_start,
            "cgroup": {
                "version": cg.version,
                "dirs": [str(d) for d in cg.dirs],
                "memory": str(cg.memory),
                "pids": str(cg.pids),
                "cpu": str(cg.cpu),
                "cpuset": None if cg.cpuset is None else str(cg.cpuset),
            },
            "cpu_baseline_ns": self.cpu_baseline_ns,
            "uid": self.uid,
        }

    @classmethod
    def from_json(cls, doc: object) -> Entry:
        """Raises ValueError on anything but an entry this module wrote."""
        if not isinstance(doc, dict) or not isinstance(doc.get("cgroup"), dict):
            raise ValueError("not a registry entry")
        cg = doc["cgroup"]
        box_id, argv, dirs = _get(doc, "id", str), _get(doc, "argv", list), _get(cg, "dirs", list)
        if not ID_RE.fullmatch(box_id):
            raise ValueError(f"bad box id {box_id!r}")
        cpuset = cg.get("cpuset")
        uid = doc.get("uid")
        if uid is not None and (not isinstance(uid, int) or isinstance(uid, bool)):
            raise ValueError("registry entry field 'uid' is not int")
        cgroup = BoxCgroup.of(
            _get(cg, "version", int),
            tuple(Path(str(d)) for d in dirs),
            Path(_get(cg, "memory", str)),
            Path(_get(cg, "pids", str)),
            Path(_get(cg, "cpu", str)),
            None if cpuset is None else Path(str(cpuset)),
        )
        for d in (*cgroup.dirs, cgroup.memory, cgroup.pids, cgroup.cpu):
            # stop signals every process of this cgroup: never one that is not a box's
            if d.parent.name != "judge" or not d.name.startswith("box-"):
                raise ValueError(f"{d} is not a box's cgroup")
        return cls(
            id=box_id,
            image=_get(doc, "image", str),
            argv=tuple(str(a) for a in argv),
            started=_get(doc, "started", float),
            keeper_pid=_get(doc, "keeper_pid", int),
            keeper_start=_get(doc, "keeper_start", int),
            init_pid=_get(doc, "init_pid", int),
            init_start=_get(doc, "init_start", int),
            cgroup=cgroup,
            cpu_baseline_ns=_get(doc, "cpu_baseline_ns", int),
            uid=uid,
        )


T = TypeVar("T")


def _get(doc: dict[str, object], key: str, kind: type[T]) -> T:
    value = doc.get(key)
    if kind is float and isinstance(value, int):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"registry entry field {key!r} is not {kind.__name__}")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class RunningBox:
    """A listed box with its figures, read from its cgroup when listed."""

    entry: Entry
    cpu_time_ns: int  # since GO, every process of the box
    memory_bytes: int  # now (v1 memory.usage_in_bytes, v2 memory.current), tmpfs pages included

    @property
    def id(self) -> str:
        return self.entry.id

    def age_s(self, now: float | None = None) -> float:
        return max(0.0, (time.time() if now is None else now) - self.entry.started)

    def to_json(self, now: float | None = None) -> dict[str, object]:
        """`judge ps --json`: seconds and bytes."""
        e = self.entry
        return {
            "id": e.id,
            "image": e.image,
            "command": list(e.argv),
            "cpu_time": self.cpu_time_ns / 1e9,
            "memory": self.memory_bytes,
            "started": e.started,
            "age": self.age_s(now),
            "keeper_pid": e.keeper_pid,
            "uid": e.uid,
        }


def start_time(pid: int) -> int | None:
    """When pid started (clock ticks after boot), or None if it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = data[data.rindex(b")") + 2 :].split()  # the command name may hold spaces and ')'
    if fields[0] in (b"Z", b"X"):
        return None
    return int(fields[19])


_self_start: tuple[int, int] = (0, 0)  # (pid, start time) of this process, re-read after fork


def _keeper_identity() -> tuple[int, int]:
    global _self_start
    pid = os.getpid()
    if _self_start[0] != pid:
        _self_start = (pid, start_time(pid) or 0)
    return _self_start


def _alive(pid: int, started: int) -> bool:
    return start_time(pid) == started


class Registry:
    """The registry directory. Keepers add and withdraw entries; operators list and signal."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path if path is not None else os.environ.get(ENV) or DEFAULT_DIR)
        self._dir = str(self.path)  # plain strings on the run's path: pathlib costs microseconds

    # -- the keeper's side ----------------------------------------------------------------

    def add_run(
        self,
        box_id: str,
        *,
        image: str,
        argv: tuple[str, ...] | list[str],
        init_pid: int,
        cgroup: BoxCgroup,
        cpu_baseline_ns: int,
        uid: int | None = None,
    ) -> bool:
        """List a run that has just been sent GO. Best effort: False (and a warning) if it cannot be.

        A run must never fail because `judge ps` could not list it; its limits hold regardless.
        """
        init_start = start_time(init_pid)
        if init_start is None:
            return False  # the box is already over; nothing to list or stop
        pid, pid_start = _keeper_identity()
        entry = Entry(
            id=box_id,
            image=image,
            argv=tuple(argv),
            started=time.time(),
            keeper_pid=pid,
            keeper_start=pid_start,
            init_pid=init_pid,
            init_start=init_start,
            cgroup=cgroup,
            cpu_baseline_ns=cpu_baseline_ns,
            uid=uid,
        )
        try:
            self._write_atomic(f"{box_id}.json", json.dumps(entry.to_json()).encode())
        except OSError as e:
            log.warning(
                "cannot list box %s in %s (%s); `judge ps` will not show it", box_id, self.path, e.strerror
            )
            return False
        return True

    def operator_action(self, box_id: str) -> str | None:
        """ "stop" or "kill" when an operator ended this box, else None."""
        try:
            fd = os.open(f"{self._dir}/{box_id}.stop", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            action = os.read(fd, 16).decode("ascii", errors="replace")
        finally:
            os.close(fd)
        return action if action in OPERATOR_MESSAGES else None

    def withdraw(self, box_id: str) -> str | None:
        """Unlist a run that has ended; returns the operator's action on it, if any."""
        action = self.operator_action(box_id)
        for name in (f"{box_id}.json", f"{box_id}.stop"):
            try:
                os.unlink(f"{self._dir}/{name}")
            except FileNotFoundError:
                pass
            except OSError as e:
                log.warning("cannot remove %s from %s: %s", name, self.path, e.strerror)
        return action

    def _write_atomic(self, name: str, data: bytes) -> None:
        path = f"{self._dir}/{name}"
        tmp = f"{path}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
        try:
            fd = os.open(tmp, flags, 0o600)
        except FileNotFoundError:
            os.makedirs(self._dir, mode=0o700, exist_ok=True)
            fd = os.open(tmp, flags, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.rename(tmp, path)

    # -- the operator's side --------------------------------------------------------------

    def entries(self) -> list[Entry]:
        """Entries of boxes whose init is running, newest first; removes those of dead keepers.

        Raises PermissionError when this process may not read the directory (not root).
        """
        try:
            names = os.listdir(self.path)
        except FileNotFoundError:
            return []
        now = time.time()
        live: list[Entry] = []
        for name in names:
            path = self.path / name
            stem, _, ext = name.partition(".")
            if ext != "json":
                if f"{stem}.json" not in names:
                    self._remove_litter(path, now)
                continue
            try:
                entry = Entry.from_json(json.loads(path.read_bytes()))
            except FileNotFoundError:
                continue  # its run just ended
            except ValueError:  # json's JSONDecodeError and UnicodeDecodeError are ValueErrors
                self._remove_litter(path, now)  # not ours or damaged; nothing can be signalled by it
                continue
            if not _alive(entry.keeper_pid, entry.keeper_start):
                self.withdraw(entry.id)
                continue
            if _alive(entry.init_pid, entry.init_start):
                live.append(entry)
        return sorted(live, key=lambda e: e.started, reverse=True)

    def running(self) -> list[RunningBox]:
        """Running boxes with their CPU time and memory now, newest first."""
        out = []
        for entry in self.entries():
            try:
                cpu = entry.cgroup.cpu_ns() - entry.cpu_baseline_ns
                memory = entry.cgroup.memory_now()
            except (OSError, ValueError):
                continue  # the box ended while we looked
            out.append(RunningBox(entry=entry, cpu_time_ns=max(cpu, 0), memory_bytes=memory))
        return out

    def find(self, prefix: str) -> Entry:
        """The one running box whose id starts with prefix; NoSuchBox or AmbiguousPrefix otherwise."""
        prefix = prefix.strip().lower()
        if not prefix:
            raise ValueError("an id prefix must not be empty")
        matches = [e for e in self.entries() if e.id.startswith(prefix)]
        if not matches:
            raise NoSuchBox(f"no running box has an id starting with {prefix!r}; `judge ps` lists them")
        if len(matches) > 1:
            ids = sorted(e.id for e in matches)
            raise AmbiguousPrefix(
                f"{prefix!r} is ambiguous: {len(ids)} running boxes have ids starting "
                f"with it ({', '.join(ids)}); give more of the id",
                ids,
            )
        return matches[0]

    def stop(self, entry: Entry, grace_s: float) -> str:
        """SIGTERM to the program's processes, SIGKILL to the box after grace_s if any is left.

        Returns "stopped" (the program ended within the grace period), "killed" (it did not),
        or "gone" (the box had ended already). Blocks until the box is gone.
        """
        pidfd = _open_init(entry)
        if pidfd is None:
            return "gone"
        try:
            self._mark(entry.id, "stop")
            deadline = time.monotonic() + grace_s
            pause = 0.001
            # listed at GO, the program may not run yet: retries, not a lost SIGTERM
            while not signal_box(entry.cgroup, entry.init_pid, signal.SIGTERM, spare_setup=True):
                left = deadline - time.monotonic()
                if left <= 0 or _wait_exit(pidfd, min(pause, left)):
                    break
                pause = min(2 * pause, RETRY_MAX_S)
            if _wait_exit(pidfd, max(0.0, deadline - time.monotonic())):
                return "stopped"
            _send(pidfd, signal.SIGKILL)
            _wait_exit(pidfd, EXIT_WAIT_S)
            return "killed"
        finally:
            os.close(pidfd)

    def kill(self, entry: Entry) -> str:
        """SIGKILL to the box's init: every process of the box dies at once. "killed" or "gone"."""
        pidfd = _open_init(entry)
        if pidfd is None:
            return "gone"
        try:
            self._mark(entry.id, "kill")
            _send(pidfd, signal.SIGKILL)
            _wait_exit(pidfd, EXIT_WAIT_S)
            return "killed"
        finally:
            os.close(pidfd)

    def _mark(self, box_id: str, action: str) -> None:
        # best effort: without the marker the run still ends, its message just names the signal
        try:
            self._write_atomic(f"{box_id}.stop", action.encode())
        except OSError as e:
            log.warning("cannot record the %s of box %s: %s", action, box_id, e.strerror)

    def _remove_litter(self, path: Path, now: float) -> None:
        """A tmp file or marker without its entry: a keeper died mid-write or a run ended mid-stop."""
        try:
            if now - path.stat().st_mtime > LITTER_AGE_S:
                path.unlink()
        except OSError:
            pass


def _open_init(entry: Entry) -> int | None:
    """A pidfd of the box's init, checked to be that init (not a reuse of its pid); None if gone."""
    try:
        pidfd = os.pidfd_open(entry.init_pid)
    except ProcessLookupError:
        return None
    # opened first, checked second: if the pid is still the init's now, the pidfd is the init's
    if not _alive(entry.init_pid, entry.init_start):
        os.close(pidfd)
        return None
    return pidfd


def signal_box(cgroup: BoxCgroup, init_pid: int, sig: signal.Signals, *, spare_setup: bool = False) -> int:
    """sig to every process of the box's cgroup but its init; how many got it.

    The cgroup lists host pids of the box only (empty once it is gone), and a process cannot
    leave it (the box has its own cgroup namespace and no /sys). A pid read from it may be
    reused before the signal, so each is opened as a pidfd and sent the signal only if it is
    still in the cgroup after that. With spare_setup (`judge stop`'s SIGTERM), a child of init
    that has not exec'd yet is still boxinit (same executable as init): skipped. Used for
    `judge stop` here and for Box.kill_program.
    """
    boxinit = _executable(init_pid) if spare_setup else None
    pidfds: dict[int, int] = {}
    try:
        for pid in cgroup.processes() - {init_pid}:
            try:
                pidfds[pid] = os.pidfd_open(pid)
            except ProcessLookupError:
                pass
        still = cgroup.processes()
        sent = 0
        for pid, fd in pidfds.items():
            if pid not in still:
                continue
            if spare_setup:
                exe = _executable(pid)
                if exe is None or exe == boxinit:
                    continue
            sent += _send(fd, sig)
        return sent
    finally:
        for fd in pidfds.values():
            os.close(fd)


def _executable(pid: int) -> tuple[int, int] | None:
    """(device, inode) of the file pid runs; None if it is gone or exiting."""
    try:
        st = os.stat(f"/proc/{pid}/exe")
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _send(pidfd: int, sig: signal.Signals) -> bool:
    try:
        signal.pidfd_send_signal(pidfd, sig)
    except ProcessLookupError:
        return False
    return True


def _wait_exit(pidfd: int, timeout_s: float) -> bool:
    """True once the process of pidfd has exited, False if it still runs after timeout_s."""
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    return bool(poller.poll(max(0, round(timeout_s * 1000))))
