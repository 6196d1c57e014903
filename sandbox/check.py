"""Can this host run boxes? One line per requirement, with the fix where one is missing.

    python -m sandbox.check          # prints the lines; exit 0 when boxes can run here
    sandbox.check.first_problem()    # None, or the first failing line (tests use it to skip)

Our `isolate-check-environment`: the checks run in the order a box needs them, and the last
one starts a real box.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True

    def line(self) -> str:
        mark = "ok  " if self.ok else ("FAIL" if self.required else "warn")
        text = f"{mark} {self.name}: {self.detail}"
        return text + (f"\n     fix: {self.fix}" if not self.ok and self.fix else "")


def _root() -> Check:
    ok = os.geteuid() == 0
    return Check(
        "root",
        ok,
        "running as root" if ok else f"running as uid {os.geteuid()}",
        "run the judge's workers as root (or with a delegated cgroup subtree and CAP_SYS_ADMIN)",
    )


def _kernel() -> Check:
    release = platform.release()
    try:
        major, minor = (int(x) for x in release.split(".")[:2])
    except ValueError:
        return Check("kernel", False, f"cannot read the version of {release}")
    ok = (major, minor) >= (5, 9)
    return Check(
        "kernel",
        ok,
        f"Linux {release}" + ("" if ok else ", older than 5.9"),
        "boxes need Linux 5.9 or newer (pidfd, openat2, seccomp user notification)",
    )


def _delegation() -> Check:
    from .delegation import ensure

    try:
        d = ensure()
    except Exception as e:  # the message is the point
        return Check("delegation", False, str(e), "see the message above")
    if d.how == "missing":
        return Check(
            "delegation",
            False,
            f"no delegated cgroup v2 subtree: {d.detail}",
            "run as root (the judge then obtains one), or in a unit with Delegate=yes",
        )
    if d.how in ("given", "v1", "laid-out"):
        return Check("delegation", True, d.detail)
    return Check("delegation", True, f"{d.how} {d.path}: {d.detail}")


def _cgroups() -> Check:
    from .cgroup import Cgroups

    try:
        cg = Cgroups.detect()
    except Exception as e:  # the message is the point
        return Check("cgroups", False, str(e), "see the message above")
    where = ", ".join(f"{c or 'unified'}: {p}" for c, p in cg.bases.items())
    return Check("cgroups", True, f"v{cg.version} ({where})")


def _helper() -> Check:
    from .helper import helper_path

    try:
        path = helper_path()
    except Exception as e:
        return Check("helper", False, str(e), "apt-get install gcc libc6-dev")
    return Check("helper", True, f"boxinit built at {path}")


def _seccomp() -> Check:
    try:
        from .seccomp import policy_bpf

        n = len(policy_bpf()) // 8
    except Exception as e:
        return Check(
            "seccomp",
            False,
            f"cannot build the filter: {e}",
            "apt-get install libseccomp2 && pip install pyseccomp",
        )
    return Check("seccomp", True, f"default policy compiles to {n} BPF instructions")


def _sysctl(name: str, want: str, why: str) -> Check:
    path = "/proc/sys/" + name.replace(".", "/")
    try:
        with open(path, encoding="ascii") as f:
            value = f.read().strip()
    except OSError:
        return Check(name, True, "not present on this kernel", required=False)
    return Check(name, value == want, f"{value} ({why})", f"sysctl -w {name}={want}", required=False)


def _box() -> Check:
    try:
        from .runtime import Sandbox

        sb = Sandbox(pool_depth=0)
        try:
            result = sb.run(["/bin/true"])
        finally:
            sb.close()
    except Exception as e:
        return Check("box", False, f"a box running /bin/true failed: {e}")
    ok = result.status == "OK"
    return Check(
        "box",
        ok,
        f"/bin/true in a fresh box: {result.status}, "
        f"{result.wall_time_ms:.1f} ms wall, {result.memory_bytes} bytes peak",
    )


def _box_uids() -> Check:
    """A host account with a box's uid could signal and trace that box's processes."""
    from .uids import uid_range

    first, count = uid_range()
    taken = []
    try:
        with open("/etc/passwd", encoding="utf-8", errors="replace") as f:
            for line in f:
                parts = line.split(":")
                if len(parts) > 2 and parts[2].isdigit() and first <= int(parts[2]) < first + count:
                    taken.append(f"{parts[0]} ({parts[2]})")
    except OSError:
        pass
    span = f"{first}-{first + count - 1}"
    if taken:
        return Check(
            "box uids",
            False,
            f"accounts of this host use box uids {span}: {', '.join(taken)}",
            "move them, or set SANDBOX_FIRST_UID to a free range",
            required=False,
        )
    return Check("box uids", True, f"{span}, no account of this host uses one", required=False)


def _socket_accounting() -> Check:
    """cgroup v2 charges socket buffers to the memory limit unless the kernel was told not to."""
    try:
        with open("/proc/cmdline", encoding="ascii", errors="replace") as f:
            off = "cgroup.memory=nosocket" in f.read().split()
    except OSError:
        off = False
    if off:
        return Check(
            "socket accounting",
            False,
            "booted with cgroup.memory=nosocket: on cgroup v2 a box's UDP buffers count against no limit",
            "boot without cgroup.memory=nosocket",
            required=False,
        )
    return Check("socket accounting", True, "socket buffers are charged to boxes' cgroups", required=False)


CHECKS: list[Callable[[], Check]] = [_root, _kernel, _delegation, _cgroups, _helper, _seccomp, _box]
ADVICE: list[Callable[[], Check]] = [
    lambda: _sysctl("dev.tty.legacy_tiocsti", "0", "boxes also block TIOCSTI with seccomp and setsid"),
    lambda: _sysctl("fs.protected_hardlinks", "1", "defence in depth for files boxes leave"),
    lambda: _sysctl("fs.protected_symlinks", "1", "defence in depth for files boxes leave"),
    lambda: _sysctl("kernel.randomize_va_space", "2", "judges may prefer 0 for steadier timings"),
    _box_uids,
    _socket_accounting,
]


def run_checks() -> list[Check]:
    out: list[Check] = []
    for check in CHECKS:
        result = check()
        out.append(result)
        if not result.ok:
            break  # later checks need this one
    return out + [advice() for advice in ADVICE]


def first_problem() -> str | None:
    """None when this host can run boxes, else the first failing requirement."""
    for result in run_checks():
        if result.required and not result.ok:
            return f"{result.name}: {result.detail}"
    return None


def main() -> int:
    from .delegation import ensure

    ensure(reexec=True, announce=False)  # as the judge's commands do; the delegation line says what it did
    results = run_checks()
    for r in results:
        print(r.line())
    return 0 if all(r.ok for r in results if r.required) else 1


if __name__ == "__main__":
    sys.exit(main())
