"""CPU time spent by a tree of processes, read from /proc: what a benchmark's service costs.

A service benchmark on a shared machine measures its own wall time and everyone else's load
with it; the CPU its processes spent is the part that is its own. `snapshot(roots)` reads, for
each root and every process under it, user and system time with that of its children already
reaped (utime, stime, cutime, cstime of /proc/PID/stat), and its role: the root itself, or
the child of the root it descends from. `spent(before, after)` is the difference per role
(for `judge serve`: itself, its web, its worker). A box or a compiler that ended in between
counts in its parent's reaped time, so nothing that ran is missed. Not exact, and small: a
process running at `before` and reaped by `after` counts its time from its start, and one
reaped by a parent outside the tree is lost (none here: each process of `judge serve` reaps
its own).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

TICKS_PER_S = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Snapshot:
    ticks: dict[int, int]  # pid -> its own and its reaped children's CPU, in clock ticks
    role: dict[int, int]  # pid -> its root, or the child of its root it descends from
    names: dict[int, str]  # a role's pid -> its command line


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, CPU ticks with reaped children), or None for a process gone meanwhile."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()  # after the command name, which may hold spaces
    return int(fields[1]), sum(int(x) for x in fields[11:15])


def _all() -> dict[int, tuple[int, int]]:
    return {
        pid: s
        for pid in (int(p) for p in os.listdir("/proc") if p.isdigit())
        if (s := _stat(pid)) is not None
    }


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` now."""
    return sorted(p for p, (parent, _) in _all().items() if parent == pid)


def snapshot(roots: list[int]) -> Snapshot:
    stats = _all()
    role: dict[int, int] = {root: root for root in roots if root in stats}
    for pid, (parent, _) in stats.items():
        if parent in roots and pid not in role:
            role[pid] = pid
    grew = True
    while grew:
        grew = False
        for pid, (parent, _) in stats.items():
            if pid not in role and parent in role:
                role[pid] = role[parent]
                grew = True
    names = {}
    for child in set(role.values()):
        try:
            with open(f"/proc/{child}/cmdline", "rb") as f:
                names[child] = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            names[child] = str(child)
    return Snapshot({pid: stats[pid][1] for pid in role}, role, names)


def spent(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """CPU seconds spent between the two snapshots, by the command line of each role."""
    by_role: dict[str, float] = {}
    for pid, ticks in after.ticks.items():
        name = after.names[after.role[pid]]
        by_role[name] = by_role.get(name, 0.0) + (ticks - before.ticks.get(pid, 0)) / TICKS_PER_S
    return by_role
