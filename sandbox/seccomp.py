"""The default system-call policy: a readable table, compiled once to BPF with pyseccomp.

Every call this table knows and does not list is allowed: compilers, JVMs and runtimes need a
wide set of calls, and the namespaces, cgroups, rlimits and the box's own unprivileged uid already
confine what those calls can reach. What is listed is the kernel attack surface that judged
programs never need, where kernel bugs live (nested namespaces, io_uring, bpf, userfaultfd,
keyrings, exotic sockets), and calls that would open a channel between boxes.

A call the table does not know is refused: `KNOWN` names, per architecture, the numbers it was
reviewed against (x86_64: up to removexattrat, 466, Linux 6.13); any other number, a newer
kernel's call (open_tree_attr, 467) or a hole in the table, fails with ENOSYS, as on a kernel
that does not have it, before the libseccomp program is even consulted. A newer kernel cannot
widen the surface silently: a call joins `KNOWN` only when someone has read what it does.

Actions:
- KILL: the call never runs and every process of the box is killed. The filter returns
  SECCOMP_RET_USER_NOTIF; the box's init receives the notification, notes the call and kills
  the box, so the keeper can name the call ("RTE, signal 31, forbidden system call: bpf"),
  which a plain SECCOMP_RET_KILL_PROCESS cannot tell anyone.
- ERRNO: the call fails with an error and the program goes on (file locks on the shared
  read-only root would let two boxes signal each other; programs cope with ENOLCK; inotify
  watches on the shared read-only files would show a box every file another box opens, and
  its instances are a per-user limit: ENOSYS, as on a kernel built without inotify).
Calls from another architecture (i386, x32) are killed outright (the bad-arch action).
"""

from __future__ import annotations

import errno
import functools
import os
import struct
import tempfile

import pyseccomp as sc

# call -> why no judged program needs it
KILL: dict[str, str] = {
    "mount": "mounts filesystems",
    "umount2": "unmounts filesystems",
    "pivot_root": "changes the root mount",
    "chroot": "changes the root directory",
    "open_tree": "new mount API",
    "move_mount": "new mount API",
    "fsopen": "new mount API (CVE-2022-0185)",
    "fsconfig": "new mount API (CVE-2022-0185)",
    "fsmount": "new mount API",
    "fspick": "new mount API",
    "mount_setattr": "new mount API",
    "unshare": "makes namespaces (nested user namespaces open most of the kernel)",
    "setns": "joins namespaces",
    "ptrace": "traces processes",
    "process_vm_readv": "reads another process's memory",
    "process_vm_writev": "writes another process's memory",
    "kcmp": "compares kernel objects of other processes",
    "pidfd_getfd": "steals descriptors from other processes",
    "bpf": "loads BPF programs",
    "perf_event_open": "performance counters (side channels, kernel bugs)",
    "userfaultfd": "widens kernel race windows",
    "io_uring_setup": "io_uring (a frequent source of kernel bugs; bypasses this filter)",
    "io_uring_enter": "io_uring",
    "io_uring_register": "io_uring",
    "keyctl": "kernel keyrings outlive the box",
    "add_key": "kernel keyrings outlive the box",
    "request_key": "kernel keyrings outlive the box",
    "kexec_load": "loads a new kernel",
    "kexec_file_load": "loads a new kernel",
    "init_module": "loads kernel modules",
    "finit_module": "loads kernel modules",
    "delete_module": "unloads kernel modules",
    "reboot": "reboots the machine",
    "swapon": "enables swap",
    "swapoff": "disables swap",
    "acct": "process accounting",
    "quotactl": "disk quotas",
    "syslog": "reads the kernel log",
    "iopl": "raw port I/O",
    "ioperm": "raw port I/O",
    "settimeofday": "sets the clock",
    "clock_settime": "sets the clock",
    "clock_adjtime": "sets the clock",
    "adjtimex": "sets the clock",
    "sethostname": "renames the host",
    "setdomainname": "renames the domain",
    "open_by_handle_at": "opens files by handle, past mount boundaries (the 'shocker' escape)",
    "name_to_handle_at": "file handles",
    "fanotify_init": "watches the filesystem",
    "lookup_dcookie": "kernel profiling",
    "uselib": "obsolete loader call",
    "vhangup": "hangs up terminals",
}

# calls killed only with certain arguments
SOCKET_DOMAINS_OK = {1: "AF_UNIX", 2: "AF_INET", 10: "AF_INET6"}  # any other family is killed
CLONE_NAMESPACE_FLAGS = (
    0x00020000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x02000000 | 0x00000080
)  # NEWNS NEWUTS NEWIPC NEWUSER NEWPID NEWNET NEWCGROUP NEWTIME
TIOCSTI, TIOCLINUX = 0x5412, 0x541C  # terminal input injection (CVE-2017-5226)

# call -> errno: refused, the program goes on
ERRNO: dict[str, int] = {
    "clone3": errno.ENOSYS,  # its flags live in memory the filter cannot read; libc falls back to clone
    "flock": errno.ENOLCK,  # locks on shared read-only files are a channel between boxes
    "inotify_init": errno.ENOSYS,  # watches on shared files see other boxes' accesses
    "inotify_init1": errno.ENOSYS,
}
# TCP (and SCTP) sockets fail with EACCES: a listener's queue of connections not yet accepted
# holds receive buffers that no memory cgroup charges until accept(), v1 or v2 (measured: 654 MiB
# kept by a box limited to 32 MiB). UDP and AF_UNIX sockets work, and their buffers are charged.
STREAM_INET = {"SOCK_STREAM": 1, "SOCK_SEQPACKET": 5}
SOCK_TYPE_MASK = 0xF  # the type without SOCK_NONBLOCK and SOCK_CLOEXEC
FCNTL_LOCKS = (5, 6, 7, 36, 37, 38, 1024, 1026)  # F_GETLK..F_SETLKW, F_OFD_*, F_SETLEASE, F_NOTIFY


# architecture (AUDIT_ARCH_*) -> the ranges of call numbers the table was reviewed against,
# inclusive; every other number is ENOSYS. Extend a range only after reading the new calls.
KNOWN: dict[int, tuple[tuple[int, int], ...]] = {
    0xC000003E: ((0, 334), (424, 466)),  # x86_64: read .. rseq, pidfd_send_signal .. removexattrat
    0xC00000B7: ((0, 294), (424, 466)),  # aarch64: io_setup .. kexec_file_load, the same since 424
}
X32_SYSCALL_BIT = 0x40000000  # x86_64's x32 ABI: left to libseccomp, whose bad-arch action kills
SECCOMP_RET_ERRNO = 0x00050000


def _unknown_calls_prefix(arch: int) -> bytes:
    """Classic BPF run before libseccomp's program: ENOSYS for every number outside KNOWN[arch].

    Jumps in classic BPF are relative, so libseccomp's program works unchanged after it; every
    way out of the prefix but the ENOSYS return falls through to it (its first instruction
    loads the architecture again).
    """
    ranges = sorted(KNOWN[arch])
    ld_abs, jeq, jgt, jge, ja, ret = 0x20, 0x15, 0x25, 0x35, 0x05, 0x06
    # (code, jump-if-true label, jump-if-false label, k); labels: "lib" (libseccomp), "nosys"
    prog: list[tuple[int, str | None, str | None, int]] = [
        (ld_abs, None, None, 4),  # seccomp_data.arch
        (jeq, None, "lib", arch),
        (ld_abs, None, None, 0),  # seccomp_data.nr
    ]
    if arch == 0xC000003E:
        prog.append((jge, "lib", None, X32_SYSCALL_BIT))
    prog.append((jgt, "nosys", None, ranges[-1][1]))
    for i in range(len(ranges) - 1, 0, -1):
        prog.append((jge, "lib", None, ranges[i][0]))
        prog.append((jgt, "nosys", None, ranges[i - 1][1]))
    if ranges[0][0] > 0:
        prog.append((jge, "lib", "nosys", ranges[0][0]))
    else:
        prog.append((ja, None, None, 0))
    nosys = len(prog)
    prog.append((ret, None, None, SECCOMP_RET_ERRNO | errno.ENOSYS))
    lib = len(prog)
    out = bytearray()
    for pc, (code, jt, jf, k) in enumerate(prog):

        def rel(label: str | None, pc: int = pc) -> int:
            return 0 if label is None else {"lib": lib, "nosys": nosys}[label] - pc - 1

        if code == ja:
            k = lib - pc - 1
        out += struct.pack("=HBBI", code, rel(jt), rel(jf), k)
    return bytes(out)


def _add(f: sc.SyscallFilter, action: object, call: str, *args: sc.Arg) -> None:
    try:
        f.add_rule(action, call, *args)
    except (ValueError, OSError):
        pass  # a call this kernel or architecture does not have cannot be made either


@functools.cache
def policy_bpf() -> bytes:
    """The default policy as raw BPF (struct sock_filter[]), built once per process."""
    f = sc.SyscallFilter(sc.ALLOW)
    f.set_attr(sc.Attr.ACT_BADARCH, sc.KILL_PROCESS)
    for call in KILL:
        _add(f, sc.NOTIFY, call)
    top = max(SOCKET_DOMAINS_OK)
    for call in ("socket", "socketpair"):
        _add(f, sc.NOTIFY, call, sc.Arg(0, sc.GT, top))
        for domain in range(top):
            if domain not in SOCKET_DOMAINS_OK:
                _add(f, sc.NOTIFY, call, sc.Arg(0, sc.EQ, domain))
    for bit in range(32):
        flag = 1 << bit
        if CLONE_NAMESPACE_FLAGS & flag:
            _add(f, sc.NOTIFY, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    for request in (TIOCSTI, TIOCLINUX):
        _add(f, sc.NOTIFY, "ioctl", sc.Arg(1, sc.MASKED_EQ, 0xFFFFFFFF, request))
    for call, err in ERRNO.items():
        _add(f, sc.ERRNO(err), call)
    for domain in (2, 10):  # AF_INET, AF_INET6
        for kind in STREAM_INET.values():
            _add(
                f,
                sc.ERRNO(errno.EACCES),
                "socket",
                sc.Arg(0, sc.EQ, domain),
                sc.Arg(1, sc.MASKED_EQ, SOCK_TYPE_MASK, kind),
            )
    for cmd in FCNTL_LOCKS:
        _add(f, sc.ERRNO(errno.ENOLCK), "fcntl", sc.Arg(1, sc.EQ, cmd))
    with tempfile.TemporaryFile() as tmp:
        f.export_bpf(tmp)
        tmp.seek(0)
        program = tmp.read()
    arch = int(sc.system_arch())
    if arch not in KNOWN:
        raise NotImplementedError(f"no reviewed system call table for architecture {arch:#x}")
    return _unknown_calls_prefix(arch) + program


@functools.cache
def syscall_name(nr: int) -> str:
    """Name of a native system call number, for messages."""
    try:
        name = sc.resolve_syscall(sc.system_arch(), nr)
        return name.decode() if isinstance(name, bytes) else str(name)
    except Exception:  # a name is only for the message
        return f"syscall {nr}"


def describe(nr: int) -> str:
    name = syscall_name(nr)
    why = KILL.get(name)
    if name == "socket":
        why = f"only {', '.join(SOCKET_DOMAINS_OK.values())} sockets are allowed"
    elif name == "clone":
        why = "new namespaces are not allowed"
    elif name == "ioctl":
        why = "TIOCSTI and TIOCLINUX inject terminal input"
    return f"forbidden system call: {name}" + (f" ({why})" if why else "")


if __name__ == "__main__":  # pragma: no cover - a debugging aid
    print(f"{len(policy_bpf()) // 8} BPF instructions", file=__import__("sys").stderr)
    os.write(1, policy_bpf())
