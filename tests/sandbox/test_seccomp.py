"""The kernel attack surface (sandbox/README.md's attack list, items 10-13): denied calls kill the box.

A denied call never returns: every probe prints "before", makes the call, and prints "after"
if it comes back. The box must die in between, as RTE with signal 31 (SIGSYS) and a message
naming the call. The arguments are harmless if the filter let the call through (bad magic
numbers, null pointers), so a broken filter fails a test without touching the host.
"""

from __future__ import annotations

import errno
import os
import platform
import signal

import pyseccomp
import pytest

from sandbox import RunStatus, seccomp

pytestmark = pytest.mark.sandbox

ATTEMPT = """
#include <linux/perf_event.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
int main(void) {
    printf("before\\n"); fflush(stdout);
    long r = (%s);
    printf("after %%ld %%d\\n", r, errno);
    return 0;
}
"""

# what the issue names, each made the way a program would make it -> the call the box must name
ATTACKS = {
    "mount": ('mount("none", "/tmp", "tmpfs", 0, NULL)', "mount"),
    "ptrace": ("ptrace(PTRACE_TRACEME, 0, NULL, NULL)", "ptrace"),
    "bpf": ("syscall(SYS_bpf, 0, NULL, 0)", "bpf"),
    "keyctl": ("syscall(SYS_keyctl, 0, -3, 0)", "keyctl"),  # KEYCTL_GET_KEYRING_ID, session
    "add_key": ('syscall(SYS_add_key, "user", "judge-test", "x", 1, -3)', "add_key"),
    "request_key": ('syscall(SYS_request_key, "user", "judge-test", NULL, 0)', "request_key"),
    "perf_event_open": (
        "({ struct perf_event_attr a = {.type = PERF_TYPE_SOFTWARE, .size = sizeof a};"
        " syscall(SYS_perf_event_open, &a, 0, -1, -1, 0); })",
        "perf_event_open",
    ),
    "userfaultfd": ("syscall(SYS_userfaultfd, 0)", "userfaultfd"),
    "io_uring": ("({ char p[120] = {0}; syscall(SYS_io_uring_setup, 4, p); })", "io_uring_setup"),
    "unshare": ("unshare(CLONE_NEWUSER)", "unshare"),
    "setns": ("syscall(SYS_setns, 0, 0)", "setns"),
    "clone_newuser": ("syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)", "clone"),
    "kexec": ("syscall(SYS_kexec_load, 0, 0, NULL, 0)", "kexec_load"),
    "init_module": ('syscall(SYS_init_module, NULL, 0, "")', "init_module"),
    "finit_module": ('syscall(SYS_finit_module, -1, "", 0)', "finit_module"),
    "delete_module": ('syscall(SYS_delete_module, "judge_test", 0)', "delete_module"),
    "reboot": ("syscall(SYS_reboot, 0, 0, 0, NULL)", "reboot"),  # bad magic: EINVAL if it ran
    "AF_VSOCK": ("socket(40, SOCK_STREAM, 0)", "socket"),
    "AF_PACKET": ("socket(17, SOCK_RAW, 0)", "socket"),
    "AF_NETLINK": ("socket(16, SOCK_RAW, 0)", "socket"),
    "AF_NETLINK_pair": ("({ int sv[2]; socketpair(16, SOCK_RAW, 0, sv); })", "socketpair"),
    "TIOCSTI": ('ioctl(0, TIOCSTI, "x")', "ioctl"),
    "TIOCLINUX": ("({ char c = 2; ioctl(0, TIOCLINUX, &c); })", "ioctl"),
    "chroot": ('chroot("/tmp")', "chroot"),
    "pivot_root": ('syscall(SYS_pivot_root, "/tmp", "/tmp")', "pivot_root"),
    "fsopen": ('syscall(SYS_fsopen, "tmpfs", 0)', "fsopen"),
    "open_by_handle_at": ("syscall(SYS_open_by_handle_at, -1, NULL, 0)", "open_by_handle_at"),
    "process_vm_readv": ("syscall(SYS_process_vm_readv, 1, NULL, 0, NULL, 0, 0)", "process_vm_readv"),
    "pidfd_getfd": ("syscall(SYS_pidfd_getfd, -1, 0, 0)", "pidfd_getfd"),
}


def assert_killed_for(result, call: str) -> None:
    assert result.stdout == b"before\n", f"the {call} call returned: {result.stdout!r}"
    assert result.status == RunStatus.RTE
    assert result.signal == signal.SIGSYS
    assert result.exit_code is None
    assert result.syscall == call
    assert f"forbidden system call: {call}" in result.message


@pytest.mark.parametrize(("expr", "call"), list(ATTACKS.values()), ids=list(ATTACKS))
def test_kernel_attack_surface_is_killed(run, expr: str, call: str) -> None:
    assert_killed_for(run.c(ATTEMPT % expr), call)


def _number(name: str) -> int | None:
    try:
        return int(pyseccomp.resolve_syscall(pyseccomp.system_arch(), name))
    except (ValueError, OSError, TypeError):
        return None


ANY_CALL = """
int main(int argc, char **argv) {
    printf("before\\n"); fflush(stdout);
    long r = syscall(atol(argv[1]), 0, 0, 0, 0, 0, 0);
    printf("after %ld %d\\n", r, errno);
    return 0;
}
"""


@pytest.mark.parametrize("name", sorted(seccomp.KILL))
def test_every_call_of_the_deny_table_is_killed(run, name: str) -> None:
    """The table itself, with all-zero arguments: no entry may be a silent no-op."""
    nr = _number(name)
    if nr is None or nr < 0:
        pytest.skip(f"{name} does not exist on {platform.machine()}")
    assert_killed_for(run.c(ANY_CALL, args=[str(nr)]), name)


def test_a_denied_call_in_a_thread_kills_the_whole_box(run) -> None:
    result = run.c(r"""
        static void *attack(void *arg) {
            usleep(50000);
            syscall(SYS_bpf, 0, NULL, 0);
            return NULL;
        }
        int main(void) {
            pthread_t t;
            pthread_create(&t, NULL, attack, NULL);
            printf("main\n"); fflush(stdout);
            sleep(2);
            printf("main survived\n");
            return 0;
        }
    """)
    assert result.status == RunStatus.RTE
    assert result.signal == signal.SIGSYS
    assert result.syscall == "bpf"
    assert result.stdout == b"main\n"
    assert result.wall_time_ms < 1500, "the main thread was left running after its thread was killed"


def test_a_denied_call_in_a_child_process_kills_the_parent_too(run) -> None:
    result = run.c(r"""
        int main(void) {
            if (fork() == 0) {
                usleep(50000);
                unshare(CLONE_NEWNET);
                _exit(0);
            }
            sleep(2);
            printf("parent survived\n");
            return 0;
        }
    """)
    assert result.status == RunStatus.RTE
    assert result.syscall == "unshare"
    assert result.stdout == b""
    assert result.wall_time_ms < 1500


@pytest.mark.skipif(platform.machine() != "x86_64", reason="int 0x80 is the i386 ABI on x86_64")
def test_a_call_through_the_i386_abi_is_killed(run) -> None:
    """The filter is for the native ABI; another one (int 0x80) must not slip past it."""
    result = run.c(r"""
        int main(void) {
            printf("before\n"); fflush(stdout);
            long r;
            /* i386 mount is 21; its table differs from x86_64's, so the native rules do not match */
            __asm__ volatile ("int $0x80" : "=a"(r) : "a"(21L), "b"(0L), "c"(0L), "d"(0L) : "memory");
            printf("after %ld\n", r);
            return 0;
        }
    """)
    assert result.stdout == b"before\n"
    assert result.status == RunStatus.RTE
    assert result.signal == signal.SIGSYS


@pytest.mark.skipif(platform.machine() != "x86_64", reason="x32 exists on x86_64 only")
def test_a_call_through_the_x32_abi_is_killed(run) -> None:
    result = run.c(r"""
        int main(void) {
            printf("before\n"); fflush(stdout);
            long r = syscall(0x40000000L | SYS_getpid);
            printf("after %ld %d\n", r, errno);
            return 0;
        }
    """)
    assert result.stdout == b"before\n"
    assert result.status == RunStatus.RTE
    assert result.signal == signal.SIGSYS


def test_tiocsti_on_a_real_terminal_injects_nothing(run) -> None:
    """stdin is a pty (what a careless judge run from a shell would pass): no injection."""
    master, slave = os.openpty()
    try:
        result = run.c(
            r"""
            int main(void) {
                pid_t sid = 0;
                printf("isatty=%d\n", isatty(0));
                printf("ctty=%d\n", ioctl(0, TIOCGSID, &sid) == 0);
                printf("before\n"); fflush(stdout);
                ioctl(0, TIOCSTI, "x");
                printf("after\n");
                return 0;
            }
        """,
            stdin=slave,
        )
        assert result.status == RunStatus.RTE
        assert result.syscall == "ioctl"
        fields = run.fields(result.stdout)
        assert fields["isatty"] == "1"
        assert fields["ctty"] == "0", "the host's terminal became the box's controlling terminal"
        assert b"after" not in result.stdout
        os.set_blocking(slave, False)
        os.set_blocking(master, False)
        for fd in (slave, master):
            with pytest.raises(BlockingIOError):
                os.read(fd, 16)
    finally:
        os.close(master)
        os.close(slave)


@pytest.mark.parametrize(
    ("expr", "err"),
    [
        ("flock(0, LOCK_EX)", errno.ENOLCK),
        (
            "({ struct flock l = {.l_type = F_RDLCK}; "
            'fcntl(open("/usr/bin/python3", O_RDONLY), F_SETLK, &l); })',
            errno.ENOLCK,
        ),
        ("syscall(SYS_clone3, NULL, 0)", errno.ENOSYS),
        ("inotify_init1(0)", errno.ENOSYS),
        ("syscall(SYS_inotify_init)", errno.ENOSYS),
    ],
    ids=["flock", "fcntl_lock", "clone3", "inotify_init1", "inotify_init"],
)
def test_refused_calls_fail_and_the_program_goes_on(run, expr: str, err: int) -> None:
    result = run.c("#include <sys/file.h>\n" + ATTEMPT % expr)
    assert result.status == RunStatus.OK, result.message
    assert result.stdout == f"before\nafter -1 {err}\n".encode()


# calls newer than the reviewed table, each with arguments that fail harmlessly if it ran, and
# numbers of no call at all (a hole in x86_64's table, one far past its end)
UNKNOWN = {
    "open_tree_attr": 'syscall(467, -1, "/", 0, NULL, 0)',  # Linux 6.15; EBADF if it ran
    "file_getattr": 'syscall(468, -1, "/", NULL, 0, 0)',  # Linux 6.17; EBADF or EFAULT if it ran
    "file_setattr": 'syscall(469, -1, "/", NULL, 0, 0)',
    "hole_400": "syscall(400, 0, 0, 0, 0, 0)",
    "far_past_the_end": "syscall(100000, 0, 0, 0, 0, 0)",
}


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the numbers are x86_64's")
@pytest.mark.parametrize("expr", list(UNKNOWN.values()), ids=list(UNKNOWN))
def test_a_call_the_table_does_not_know_fails_with_enosys(run, expr: str) -> None:
    """Default deny: a newer kernel's call is ENOSYS in the box, as on a kernel without it."""
    result = run.c("#include <sys/file.h>\n" + ATTEMPT % expr)
    assert result.status == RunStatus.OK, result.message
    assert result.stdout == f"before\nafter -1 {errno.ENOSYS}\n".encode()


def test_every_reviewed_number_reaches_the_table_and_no_other_does() -> None:
    """The prefix in front of libseccomp's program, run on its own: a small BPF interpreter."""
    arch = int(pyseccomp.system_arch())
    prog = seccomp.policy_bpf()
    ranges = seccomp.KNOWN[arch]
    known = {nr for lo, hi in ranges for nr in range(lo, hi + 1)}
    x32 = seccomp.X32_SYSCALL_BIT if arch == 0xC000003E else None  # x32 calls: libseccomp kills them
    for nr in [*range(0, ranges[-1][1] + 40), 0x3FFFFFFF, 0x40000000, 0xFFFFFFFF]:
        verdict = _prefix_verdict(prog, arch, nr)
        if nr in known or (x32 is not None and nr >= x32):
            assert verdict == "table", nr
        else:
            assert verdict == seccomp.SECCOMP_RET_ERRNO | errno.ENOSYS, nr
    assert _prefix_verdict(prog, arch ^ 1, 467) == "table"  # another architecture: libseccomp kills


def _prefix_verdict(prog: bytes, arch: int, nr: int) -> int | str:
    """Run the BPF until it returns or reaches libseccomp's program (which loads arch again)."""
    import struct

    pc, acc, seen_arch = 0, 0, 0
    while True:
        code, jt, jf, k = struct.unpack_from("=HBBI", prog, pc * 8)
        if code == 0x20:  # ld [k]
            if k == 4:
                seen_arch += 1
                if seen_arch == 2:
                    return "table"
            acc = arch if k == 4 else nr
            pc += 1
        elif code == 0x06:
            return k
        elif code == 0x05:
            pc += 1 + k
        else:
            taken = {0x15: acc == k, 0x25: acc > k, 0x35: acc >= k}[code]
            pc += 1 + (jt if taken else jf)


def test_the_sockets_and_threads_programs_need_still_work(run) -> None:
    """The filter must not be broader than its table: unix sockets, UDP over inet and inet6, threads.

    (TCP is refused with EACCES: tests/sandbox/test_limits.py says why.)"""
    result = run.c(r"""
        static void *nothing(void *arg) { return arg; }
        int main(void) {
            int sv[2];
            pthread_t t;
            printf("unix=%d\n", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
            printf("inet=%d\n", socket(AF_INET, SOCK_DGRAM, 0) >= 0);
            printf("inet6=%d\n", socket(AF_INET6, SOCK_DGRAM, 0) >= 0);
            printf("thread=%d\n", pthread_create(&t, NULL, nothing, NULL) == 0 && pthread_join(t, NULL) == 0);
            pid_t p = fork();
            if (p == 0) _exit(7);
            int st;
            waitpid(p, &st, 0);
            printf("fork=%d\n", WIFEXITED(st) && WEXITSTATUS(st) == 7);
            return 0;
        }
    """)
    assert result.status == RunStatus.OK, result.message
    assert run.fields(result.stdout) == {"unix": "1", "inet": "1", "inet6": "1", "thread": "1", "fork": "1"}
