"""Who the program is in the box: an unprivileged user in a session of its own, with nothing inherited.

One C probe reports its credentials, capabilities, seccomp mode, session, signal dispositions,
rlimits, open descriptors and environment as `key=value` lines; each test checks one fact.
"""

from __future__ import annotations

import os
import resource

import pytest
from kit import wait_until

import sandbox
from sandbox import RunStatus, uids

pytestmark = pytest.mark.sandbox

WHOAMI = r"""
extern char **environ;
static void status_line(const char *key) {
    char line[512];
    FILE *f = fopen("/proc/self/status", "r");
    size_t n = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':') {
            char *v = line + n + 1;
            while (*v == '\t' || *v == ' ') v++;
            v[strcspn(v, "\n")] = 0;
            printf("%s=%s\n", key, v);
        }
    fclose(f);
}
static void limit(const char *name, int res) {
    struct rlimit r;
    getrlimit(res, &r);
    printf("rlimit_%s=%llu/%llu\n", name, (unsigned long long)r.rlim_cur, (unsigned long long)r.rlim_max);
}
int main(void) {
    const char *keys[] = {"Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
                          "NoNewPrivs", "Seccomp", "SigIgn", "SigBlk"};
    for (unsigned i = 0; i < sizeof keys / sizeof *keys; i++)
        status_line(keys[i]);
    printf("pid=%d\nsid=%d\npgrp=%d\nppid=%d\n", getpid(), getsid(0), getpgrp(), getppid());
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    printf("fds=");
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d))
            printf("%s,", e->d_name);
    printf("\n");
    closedir(d);
    limit("core", RLIMIT_CORE);
    limit("fsize", RLIMIT_FSIZE);
    limit("nofile", RLIMIT_NOFILE);
    limit("memlock", RLIMIT_MEMLOCK);
    limit("msgqueue", RLIMIT_MSGQUEUE);
    limit("stack", RLIMIT_STACK);
    char cwd[256];
    printf("cwd=%s\n", getcwd(cwd, sizeof cwd));
    for (char **v = environ; *v; v++)
        printf("env:%s\n", *v);
    return 0;
}
"""


PEEK_FD = r"""
int main(int argc, char **argv) {
    char buf[64];
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    printf("fds=");
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d))
            printf("%s,", e->d_name);
    closedir(d);
    printf("\nread=%ld\n", (long)read(atoi(argv[1]), buf, sizeof buf));
    return 0;
}
"""


@pytest.fixture(scope="module")
def me(run) -> dict[str, object]:
    os.environ["JUDGE_TEST_SECRET"] = "leaked"  # the keeper's environment must not reach the box
    try:
        result = run.c(WHOAMI)
    finally:
        del os.environ["JUDGE_TEST_SECRET"]
    assert result.status == RunStatus.OK, result.message
    lines = result.stdout.decode().splitlines()
    facts: dict[str, object] = run.fields("\n".join(x for x in lines if not x.startswith("env:")).encode())
    facts["env"] = dict(x[4:].split("=", 1) for x in lines if x.startswith("env:"))
    return facts


def box_uid_range() -> range:
    first, count = uids.uid_range()
    return range(first, first + count)


def test_runs_as_a_user_of_its_own_with_no_groups(me) -> None:
    uid = int(me["Uid"].split()[0])
    assert uid in box_uid_range()
    assert me["Uid"].split() == [str(uid)] * 4
    assert me["Gid"].split() == [str(uid)] * 4
    assert me["Groups"] == ""


@pytest.mark.parametrize("capset", ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"])
def test_has_no_capabilities(me, capset: str) -> None:
    assert int(me[capset], 16) == 0


def test_cannot_gain_privileges_and_is_filtered(me) -> None:
    assert me["NoNewPrivs"] == "1"
    assert me["Seccomp"] == "2"  # filter mode


def test_is_the_leader_of_a_new_session(me) -> None:
    assert me["sid"] == me["pid"]
    assert me["pgrp"] == me["pid"]


def test_only_stdin_stdout_and_stderr_are_open(me) -> None:
    """Nothing leaks in: not boxinit's control socket, not the keeper's pipes."""
    assert me["fds"] == "0,1,2,"


@pytest.mark.parametrize("number", [None, 2000], ids=["low", "above_1023"])
def test_an_inheritable_descriptor_of_the_keeper_does_not_reach_the_box(
    private_sandbox: sandbox.Sandbox, cc, number: int | None
) -> None:
    """A descriptor opened without O_CLOEXEC in the keeper's process (a library's, a careless
    worker's) is inherited by every child it spawns. The box must not see it at any number:
    worker processes with many connections hand out descriptors above 1023.
    """
    fd = os.open("/etc/hostname", os.O_RDONLY)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        if number is not None:
            if soft <= number:
                resource.setrlimit(resource.RLIMIT_NOFILE, (number + 1, max(hard, number + 1)))
            os.dup2(fd, number, inheritable=True)
            os.close(fd)
            fd = number
        os.set_inheritable(fd, True)
        # the private sandbox keeps no boxes ready, so this box's helper is spawned now, with fd open
        result = private_sandbox.run(["./prog", str(fd)], files={"prog": (cc(PEEK_FD), 0o755)})
    finally:
        os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert result.status == RunStatus.OK, result.message
    assert result.stdout == b"fds=0,1,2,\nread=-1\n", f"descriptor {fd} leaked into the box"


def test_the_environment_is_clean(me) -> None:
    env = me["env"]
    assert "JUDGE_TEST_SECRET" not in env
    assert set(env) <= {"PATH", "HOME", "LANG", "LC_ALL", "TERM"}
    assert all(part in ("/usr/local/bin", "/usr/bin", "/bin") for part in env["PATH"].split(":"))
    assert me["cwd"] == "/box"


def test_the_caller_chooses_the_whole_environment(run) -> None:
    result = run.c(
        r"""
        extern char **environ;
        int main(void) { for (char **v = environ; *v; v++) printf("%s\n", *v); return 0; }
    """,
        env={"ONLY": "this"},
    )
    assert result.stdout == b"ONLY=this\n"


def test_signal_dispositions_are_the_defaults(me) -> None:
    """Nothing ignored or blocked is inherited from the keeper (Python ignores SIGPIPE and SIGXFSZ).

    An ignored SIGXFSZ turns a file over the size limit into EFBIG instead of OLE; an ignored
    SIGPIPE changes how programs die on a closed pipe.
    """
    assert int(me["SigBlk"], 16) == 0
    ignored = int(me["SigIgn"], 16)
    names = [n for n in range(1, 65) if ignored >> (n - 1) & 1]
    assert names == [], f"signals ignored in the box: {names}"


def test_rlimits_follow_the_limits(me, run) -> None:
    lim = run.limits()
    assert me["rlimit_core"] == "0/0"
    assert me["rlimit_memlock"] == "0/0"
    assert me["rlimit_msgqueue"] == "0/0"
    assert me["rlimit_fsize"] == f"{lim.file_size_bytes}/{lim.file_size_bytes}"
    assert me["rlimit_nofile"] == f"{lim.open_files}/{lim.open_files}"
    assert me["rlimit_stack"] == f"{lim.memory_bytes}/{lim.memory_bytes}"


def test_the_box_cannot_raise_its_rlimits(run) -> None:
    result = run.c(r"""
        int main(void) {
            struct rlimit r = {RLIM_INFINITY, RLIM_INFINITY};
            printf("fsize=%d\n", setrlimit(RLIMIT_FSIZE, &r) == 0 ? 0 : errno);
            printf("nofile=%d\n", setrlimit(RLIMIT_NOFILE, &r) == 0 ? 0 : errno);
            return 0;
        }
    """)
    assert run.fields(result.stdout) == {"fsize": str(1), "nofile": str(1)}  # EPERM


def test_privileged_calls_fail(run) -> None:
    """What root could do and the box's user cannot: each fails with its errno and the program goes on."""
    result = run.c(r"""
        #include <sys/time.h>
        int main(void) {
            struct sched_param sp = {.sched_priority = 1};
            static char page[4096];
            printf("nice=%d\n", setpriority(PRIO_PROCESS, 0, -5) == 0 ? 0 : errno);
            printf("fifo=%d\n", sched_setscheduler(0, SCHED_FIFO, &sp) == 0 ? 0 : errno);
            printf("mlock=%d\n", mlock(page, sizeof page) == 0 ? 0 : errno);
            printf("chown=%d\n", chown("/box", 0, 0) == 0 ? 0 : errno);
            printf("chmod=%d\n", chmod("/usr/bin/python3", 04755) == 0 ? 0 : errno);
            printf("kill1=%d\n", kill(1, SIGTERM) == 0 ? 0 : errno);
            return 0;
        }
    """)
    assert result.status == RunStatus.OK, result.message
    assert run.fields(result.stdout) == {
        "nice": "13",  # EACCES
        "fifo": "1",  # EPERM
        "mlock": "1",  # EPERM: RLIMIT_MEMLOCK is 0
        "chown": "1",
        "chmod": "30",  # EROFS
        "kill1": "1",  # the box's init is root
    }


def test_cannot_become_root_again(run) -> None:
    result = run.c(r"""
        int main(void) {
            printf("setuid=%d\n", setuid(0) == 0 ? 0 : errno);
            printf("setgid=%d\n", setgid(0) == 0 ? 0 : errno);
            printf("uid=%d\n", getuid());
            return 0;
        }
    """)
    fields = run.fields(result.stdout)
    assert (fields["setuid"], fields["setgid"]) == ("1", "1")
    assert int(fields["uid"]) in box_uid_range()


def test_boxes_that_exist_at_once_have_uids_of_their_own(sb) -> None:
    with sb.box() as a, sb.box() as b, sb.box() as c:
        assert len({a.uid, b.uid, c.uid}) == 3
        assert {a.uid, b.uid, c.uid} <= set(box_uid_range())


def test_another_process_never_takes_a_uid_a_box_holds(sb) -> None:
    """Workers and `judge run`s on one machine: the lock files keep their uids apart."""
    import subprocess
    import sys

    with sb.box() as a, sb.box() as b:
        held = {a.uid, b.uid}
        # another process takes every uid it can of a range that holds ours (other boxes on the
        # machine hold some of the rest)
        first = min(held)
        env = {**os.environ, "SANDBOX_FIRST_UID": str(first), "SANDBOX_UID_COUNT": str(max(held) - first + 3)}
        code = (
            "from sandbox import uids, SandboxError\nleases = []\n"
            "try:\n    while True: leases.append(uids.take())\nexcept SandboxError: pass\n"
            "print(' '.join(str(x.uid) for x in leases))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        taken = {int(x) for x in out.stdout.split()}
    assert taken, out.stderr
    assert not taken & held, f"another process took uids a box holds: {taken & held}"


def test_a_uid_goes_back_to_the_range_once_its_box_is_reaped(private_sandbox: sandbox.Sandbox) -> None:
    env_first = min(box_uid_range())
    with private_sandbox.box() as box:
        uid = box.uid
        assert box.run(["/bin/true"], sandbox.Limits()).status == RunStatus.OK
    private_sandbox.close()  # the janitor has reaped every box: nothing may hold its uid now
    fd = os.open(f"{uids.DEFAULT_DIR}/{uid}.lock", os.O_RDONLY | os.O_CLOEXEC)
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises BlockingIOError if still held
    finally:
        os.close(fd)
    assert uid >= env_first


IN_FLIGHT = r"""
/* Put descriptors in flight over SCM_RIGHTS until the kernel's per-user bound refuses
 * (ETOOMANYREFS: at most RLIMIT_NOFILE in flight per user); print how many; then, with "hold",
 * keep them in flight until the keeper puts /box/done. */
int main(int argc, char **argv) {
    int sv[2], n = 0, err = 0;
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    int fd = open("/dev/null", O_RDONLY);
    for (; n < 4096; n++) {
        char c = 0, cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {&c, 1};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                            .msg_controllen = sizeof cbuf};
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof fd);
        if (sendmsg(sv[0], &mh, MSG_DONTWAIT) < 0) { err = errno; break; }
    }
    printf("in_flight=%d\nerrno=%d\n", n, err);
    fflush(stdout);
    if (argc > 1) {
        close(creat("/box/full", 0644));
        while (access("/box/done", F_OK) != 0)
            usleep(5000);
    }
    return 0;
}
"""


def test_a_box_that_exhausts_a_per_user_limit_leaves_the_next_box_its_own(sb, run) -> None:
    """SCM_RIGHTS in flight are counted per user: one box at its bound, the next still sends."""
    import threading

    binary = run.cc(IN_FLIGHT)
    lim = run.limits(wall_time_ms=60000, cpu_time_ms=5000, open_files=64)
    with sb.box(limits=lim) as hog:
        hog.put("prog", binary, 0o755)
        results: list[sandbox.RunResult] = []
        thread = threading.Thread(target=lambda: results.append(hog.run(["./prog", "hold"], lim)))
        thread.start()
        try:
            wait_until(
                lambda: "full" in hog.listdir() or not thread.is_alive(),
                timeout_s=30,
                every_s=0.01,
                what="the first box to reach its bound (or end)",
            )
            assert "full" in hog.listdir(), "the first box never reached its bound"
            second = run.c(IN_FLIGHT, open_files=64)
        finally:
            hog.put("done", b"")
            thread.join(60)
    first = run.fields(results[0].stdout)
    assert first["errno"] == "109", first  # ETOOMANYREFS: the hog reached the bound
    fields = run.fields(second.stdout)
    assert fields["errno"] == "109" and int(fields["in_flight"]) >= 60, (
        f"the second box inherited the first's count: {fields}"
    )


def test_what_the_attack_review_also_tried_stays_refused(run) -> None:
    """Issue 16's review: /proc and /sys writes, PR_SET_MM, chattr (raw sockets, clone3, rlimit
    raises and killing init have tests of their own)."""
    result = run.c(r"""
        #include <linux/fs.h>
        #include <sys/prctl.h>
        static int write_to(const char *path) {
            int fd = open(path, O_WRONLY);
            if (fd < 0) return errno;
            return write(fd, "1", 1) == 1 ? 0 : errno;
        }
        int main(void) {
            printf("proc_sys=%d\n", write_to("/proc/sys/kernel/hostname"));
            printf("sysrq=%d\n", write_to("/proc/sysrq-trigger"));
            printf("sys=%d\n", write_to("/sys/kernel/uevent_helper"));
            int mm = prctl(PR_SET_MM, PR_SET_MM_START_BRK, (unsigned long)sbrk(0), 0, 0);
            printf("set_mm=%d\n", mm == 0 ? 0 : errno);
            int fd = open("/box/f", O_RDONLY | O_CREAT, 0644), flags = FS_IMMUTABLE_FL;
            printf("chattr=%d\n", ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0 ? 0 : errno);
            return 0;
        }
    """)
    assert result.status == RunStatus.OK, result.message
    fields = run.fields(result.stdout)
    assert fields["proc_sys"] in ("13", "30"), fields  # EACCES or EROFS: never written
    assert fields["sysrq"] in ("2", "13", "30"), fields
    assert fields["sys"] == "2", fields  # ENOENT: there is no /sys in a box
    assert fields["set_mm"] == "1", fields  # EPERM: needs CAP_SYS_RESOURCE
    assert fields["chattr"] in ("1", "25", "95"), fields  # EPERM (or no such flag: ENOTTY, EOPNOTSUPP)
