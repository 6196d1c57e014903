"""Nothing of a box survives its run (sandbox/README.md's attack list, items 2 and 10).

Not its processes (orphans, daemons in a session of their own), not its files (/tmp,
/dev/shm), not its IPC objects or keys, not its cgroup once the janitor has run. Two runs in
a row must not be able to talk to each other.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from kit import wait_until

import sandbox
from sandbox import RunStatus, uids

pytestmark = pytest.mark.sandbox

ORPHAN = r"""
int main(int argc, char **argv) {
    char ns[64] = {0};
    readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
    printf("ns=%s\nmarker=%s\n", ns, argv[2]);
    fflush(stdout);
    if (fork() == 0) {              /* double fork: the daemon escapes wait4 */
        setsid();
        if (fork() == 0) {
            signal(SIGTERM, SIG_IGN);
            signal(SIGHUP, SIG_IGN);
            close(1); close(2);
            for (volatile unsigned long i = 0;; i++) ;
        }
        _exit(0);
    }
    usleep(atoi(argv[1]) * 1000);
    return 0;
}
"""


def processes_in_namespace(ns: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/ns/pid") == ns:
                    found.append(int(entry))
            except OSError:
                pass
    return found


def processes_of_box_uids() -> set[int]:
    """Processes on the machine whose uid is one of those boxes take (sandbox/uids.py)."""
    first, count = uids.uid_range()
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if first <= os.stat(f"/proc/{entry}").st_uid < first + count:
                    found.add(int(entry))
            except OSError:
                pass
    return found


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def test_an_orphan_is_killed_with_the_program(run) -> None:
    before = processes_of_box_uids()
    marker = f"orphan-{os.getpid()}-{time.monotonic_ns()}"
    result = run.c(ORPHAN, args=["0", marker], wall_time_ms=3000)
    assert result.status == RunStatus.OK, result.message
    assert result.wall_time_ms < 1000, "the run waited for the orphan"
    ns = run.fields(result.stdout)["ns"]
    assert ns.startswith("pid:[")
    assert processes_in_namespace(ns) == [], "processes of the box outlived its run"
    assert run.fields(result.stdout)["marker"] == marker

    # the daemon by its marker, wherever it went (other judges' boxes on this machine run as
    # uids of the same range: only ours counts); exiting processes get a moment (half a second)
    def daemons() -> list[int]:
        return [p for p in processes_of_box_uids() - before if marker in cmdline(p)]

    wait_until(daemons, until=lambda pids: pids == [], what="the orphan to be gone", timeout_s=0.5)
    new = processes_of_box_uids() - before
    assert [p for p in new if marker in cmdline(p)] == []


SPINNING_DAEMON = r"""
int main(void) {
    pid_t pid = fork();
    if (pid == 0) {                 /* the daemon: spins in a session of its own */
        setsid();
        for (volatile unsigned long i = 0;; i++) ;
    }
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    for (;;) {                      /* wait, without spinning, until the daemon has used 0.3 s */
        FILE *f = fopen(path, "r");
        if (!f || !fgets(buf, sizeof buf, f)) return 2;
        fclose(f);
        unsigned long utime = 0, stime = 0;
        char *p = strrchr(buf, ')');
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime);
        if ((utime + stime) * 1000 / sysconf(_SC_CLK_TCK) >= 300) return 0;
        usleep(10000);
    }
}
"""


def test_an_orphans_cpu_time_is_billed(run) -> None:
    """The daemon spins while the program sleeps: its CPU time is the box's, not free. The
    program ends once its daemon has used 0.3 s of CPU (however long a busy machine takes)."""
    result = run.c(SPINNING_DAEMON, cpu_time_ms=5000, wall_time_ms=60000)
    assert result.status == RunStatus.OK, result.message
    assert result.cpu_time_ms >= 300


def test_an_orphan_cannot_outrun_the_cpu_limit(run) -> None:
    result = run.c(ORPHAN, args=["5000", "cpu-limit"], cpu_time_ms=300, wall_time_ms=6000)
    assert result.status == RunStatus.TLE
    assert result.wall_time_ms < 1500


def test_kill_minus_one_reaches_only_the_box(sb, run) -> None:
    """kill(-1) from the program: the host's processes of the same uid must live on."""
    binary = run.cc(r"""
        int main(void) {
            kill(-1, SIGKILL);
            kill(-1, SIGTERM);
            printf("kill1=%d\n", kill(1, SIGKILL) == 0 ? 0 : errno);
            printf("alive\n");
            return 0;
        }
    """)
    with sb.box(limits=run.limits()) as box:
        sleeper = subprocess.Popen(["sleep", "30"], user=box.uid)  # the box's own uid, on the host
        try:
            box.put("prog", binary, 0o755)
            result = box.run(["./prog"], run.limits())
            time.sleep(0.05)
            assert sleeper.poll() is None, "kill(-1) in the box killed a host process"
        finally:
            sleeper.kill()
            sleeper.wait()
    assert result.status == RunStatus.OK, result.message
    assert result.stdout == b"kill1=1\nalive\n"  # EPERM: the box's init is not the program's


def test_files_in_tmp_and_dev_shm_do_not_reach_the_next_run(run) -> None:
    first = run.py("""
for path in ("/tmp/mark", "/dev/shm/mark", "/box/mark"):
    open(path, "w").write("run 1")
print("written")
""")
    assert first.stdout == b"written\n"
    second = run.py("""
import os
print(sorted(os.listdir("/tmp")), sorted(os.listdir("/dev/shm")), sorted(os.listdir("/box")))
""")
    assert second.stdout == b"[] [] []\n"


def test_sysv_ipc_objects_do_not_reach_the_next_run_or_the_host(run) -> None:
    probe = r"""
        #include <sys/shm.h>
        #include <sys/msg.h>
        int main(int argc, char **argv) {
            int create = argv[1][0] == 'c' ? IPC_CREAT | 0666 : 0;
            printf("shm=%d\n", shmget(0x4a756467, 4096, create) >= 0 ? 0 : errno);
            printf("msg=%d\n", msgget(0x4a756467, create) >= 0 ? 0 : errno);
            return 0;
        }
    """
    assert run.fields(run.c(probe, args=["create"]).stdout) == {"shm": "0", "msg": "0"}
    assert run.fields(run.c(probe, args=["find"]).stdout) == {"shm": "2", "msg": "2"}  # ENOENT
    assert "4a756467" not in Path("/proc/sysvipc/shm").read_text().lower()
    assert str(0x4A756467) not in Path("/proc/sysvipc/shm").read_text()


def test_a_key_added_in_one_run_cannot_be_found_in_the_next(run) -> None:
    """Kernel keyrings are not namespaced: add_key and request_key must both be denied."""
    add = run.c(r"""
        int main(void) {
            printf("before\n"); fflush(stdout);
            syscall(SYS_add_key, "user", "judge-leftover", "secret", 6, -2 /* user keyring */);
            printf("added\n");
            return 0;
        }
    """)
    find = run.c(r"""
        int main(void) {
            printf("before\n"); fflush(stdout);
            long id = syscall(SYS_request_key, "user", "judge-leftover", NULL, 0);
            printf("found=%ld\n", id);
            return 0;
        }
    """)
    for result, call in ((add, "add_key"), (find, "request_key")):
        assert result.stdout == b"before\n"
        assert result.status == RunStatus.RTE
        assert result.signal == signal.SIGSYS
        assert result.syscall == call


def test_the_box_cgroup_is_removed_by_the_janitor(private_sandbox: sandbox.Sandbox) -> None:
    with private_sandbox.box() as box:
        assert box.cgroup is not None
        dirs = list(box.cgroup.dirs)
        assert all(d.is_dir() for d in dirs)
        result = box.run(["/bin/true"], sandbox.Limits())
        assert result.status == RunStatus.OK
    wait_until(
        lambda: not any(d.exists() for d in dirs),
        what="the janitor to remove the box's cgroup",
        timeout_s=5,
        every_s=0.01,
    )
    assert not [d for d in dirs if d.exists()], "the janitor left the box's cgroup behind"


def test_closing_the_pool_removes_every_cgroup_and_helper(private_sandbox: sandbox.Sandbox) -> None:
    with private_sandbox.box() as box:
        assert box.cgroup is not None
        dirs = list(box.cgroup.dirs)
        helper, init = box.pid, box.init_pid
        box.run(["/bin/sleep", "0.01"], sandbox.Limits())
    private_sandbox.pool.close()
    assert not [d for d in dirs if d.exists()]
    for pid in (helper, init):
        assert not Path(f"/proc/{pid}").exists() or _is_other_process(pid), f"box process {pid} remains"


def test_an_unused_box_leaves_nothing_either(private_sandbox: sandbox.Sandbox) -> None:
    """A box taken and handed back without a run (a compile error upstream, say) is cleaned up too."""
    with private_sandbox.box() as box:
        assert box.cgroup is not None
        dirs = list(box.cgroup.dirs)
        init = box.init_pid
    private_sandbox.pool.close()
    assert not [d for d in dirs if d.exists()]
    assert not Path(f"/proc/{init}").exists() or _is_other_process(init)


def _is_other_process(pid: int) -> bool:
    """True when the pid was reused by something that is not a box helper."""
    try:
        return "boxinit" not in os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return True
