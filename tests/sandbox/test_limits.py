"""Limits hold against programs that try to exceed them (reference/sandboxes.md 7b, items 1-6, 16).

Each probe overruns one limit of `SMALL` (tests/sandbox/conftest.py) and the test checks the
status, the figure behind it and that the box stopped promptly. Bounds are loose on purpose:
they say "contained", not "fast".
"""

from __future__ import annotations

import errno
import os

import pytest

from sandbox import MiB, RunStatus

pytestmark = pytest.mark.sandbox

SPIN = "int main(void) { for (volatile unsigned long i = 0;; i++) ; }"


def test_a_fork_bomb_stops_at_the_process_limit(run) -> None:
    result = run.c(r"""
        int main(void) {
            int n = 0;
            for (;;) {
                pid_t p = fork();
                if (p == 0) { pause(); _exit(0); }
                if (p < 0) break;
                n++;
            }
            printf("forks=%d errno=%d\n", n, errno);
            return 0;
        }
    """, processes=16)
    assert result.status == RunStatus.OK, result.message
    facts = run.fields(result.stdout.replace(b" ", b"\n"))
    assert facts["errno"] == str(errno.EAGAIN)
    assert 14 <= int(facts["forks"]) <= 15


def test_an_endless_fork_bomb_is_stopped_by_the_clock(run) -> None:
    result = run.c("int main(void) { for (;;) fork(); }", processes=16, cpu_time_ms=500, wall_time_ms=1500)
    assert result.status == RunStatus.TLE
    assert result.wall_time_ms < 2500


def test_a_thread_bomb_stops_at_the_process_limit(run) -> None:
    result = run.c(r"""
        static void *wait_forever(void *arg) { pause(); return arg; }
        int main(void) {
            int n = 0, err;
            pthread_t t;
            while ((err = pthread_create(&t, NULL, wait_forever, NULL)) == 0)
                n++;
            printf("threads=%d errno=%d\n", n, err);
            return 0;
        }
    """, processes=16)
    assert result.status == RunStatus.OK, result.message
    facts = run.fields(result.stdout.replace(b" ", b"\n"))
    assert facts["errno"] == str(errno.EAGAIN)
    assert 14 <= int(facts["threads"]) <= 15


FORK_ONCE = r"""
int main(void) {
    pid_t p = fork();
    if (p == 0) _exit(0);
    printf("fork=%d\n", p > 0 ? 0 : errno);
    return 0;
}
"""


@pytest.mark.parametrize(("processes", "fork_errno"), [(1, errno.EAGAIN), (2, 0)])
def test_the_process_limit_counts_the_programs_own_tasks(run, processes: int, fork_errno: int) -> None:
    """`processes=1` is a single-process program (isolate's default): it runs, and cannot fork.

    The box's own pid 1 must not be billed against the program's allowance.
    """
    result = run.c(FORK_ONCE, processes=processes)
    assert result.status == RunStatus.OK, result.message
    assert run.fields(result.stdout) == {"fork": str(fork_errno)}


def test_a_memory_bomb_is_mle(run) -> None:
    result = run.c(r"""
        int main(void) {
            for (;;) {
                char *p = malloc(1 << 20);
                if (!p) { printf("malloc failed\n"); return 1; }
                memset(p, 1, 1 << 20);
            }
        }
    """, memory_bytes=64 * MiB)
    assert result.status == RunStatus.MLE
    assert 56 * MiB <= result.memory_bytes <= 64 * MiB + 64 * 1024
    assert result.signal == 9
    assert result.wall_time_ms < 2000


def test_memory_in_tmpfs_is_charged_to_the_box(run) -> None:
    """/dev/shm pages count against the memory limit: a box cannot hoard RAM in a tmpfs."""
    result = run.c(r"""
        int main(void) {
            static char buf[1 << 20];
            memset(buf, 1, sizeof buf);
            int fd = open("/dev/shm/hoard", O_WRONLY | O_CREAT, 0600);
            for (int i = 0; i < 48; i++)
                if (write(fd, buf, sizeof buf) != sizeof buf) { printf("short at %d MiB\n", i); return 0; }
            printf("wrote 48 MiB\n");
            return 0;
        }
    """, memory_bytes=32 * MiB, tmp_bytes=64 * MiB, file_size_bytes=64 * MiB)
    assert result.status == RunStatus.MLE, (result.status, result.stdout)
    assert result.memory_bytes <= 32 * MiB + 64 * 1024


def test_a_cpu_spin_is_tle_near_the_limit(run) -> None:
    result = run.c(SPIN, cpu_time_ms=500, wall_time_ms=3000)
    assert result.status == RunStatus.TLE
    assert "CPU" in result.message
    assert 500 <= result.cpu_time_ms <= 600  # killed within 0.1 s of CPU of the limit


def test_spinning_threads_are_stopped_by_their_summed_cpu_time(run) -> None:
    result = run.c(r"""
        static void *spin(void *arg) { for (volatile unsigned long i = 0;; i++) ; return arg; }
        int main(void) {
            pthread_t t;
            for (int i = 0; i < 4; i++) pthread_create(&t, NULL, spin, NULL);
            spin(NULL);
        }
    """, cpu_time_ms=800, wall_time_ms=3000)
    assert result.status == RunStatus.TLE
    # five spinning threads: a keeper that checked at the pace of one CPU would overshoot by
    # the other CPUs' share; CPU time, not wall time, so a busy machine does not fail it
    assert 800 <= result.cpu_time_ms <= 950, "the limit was not checked at the pace of several CPUs"


def test_a_sleep_is_tle_by_wall_time(run) -> None:
    result = run.c("int main(void) { sleep(30); return 0; }", cpu_time_ms=1000, wall_time_ms=500)
    assert result.status == RunStatus.TLE
    assert "wall" in result.message
    assert 500 <= result.wall_time_ms < 2500  # a hang guard: a busy machine may be slow to kill
    assert result.cpu_time_ms < 50


def test_blocking_on_an_open_pipe_is_tle_by_wall_time(run) -> None:
    """stdin that never ends (an interactive judge that stalls): the wall clock still ends the run."""
    r, w = os.pipe()
    try:
        result = run.c(r"""
            int main(void) { char c; return (int)read(0, &c, 1); }
        """, stdin=r, wall_time_ms=500)
    finally:
        os.close(r)
        os.close(w)
    assert result.status == RunStatus.TLE
    assert 500 <= result.wall_time_ms < 1000


def test_pause_is_tle_by_wall_time(run) -> None:
    result = run.c("int main(void) { pause(); return 0; }", wall_time_ms=400)
    assert result.status == RunStatus.TLE
    assert 400 <= result.wall_time_ms < 900


FLOOD = r"""
int main(void) {
    static char buf[65536];
    memset(buf, 'x', sizeof buf);
    for (;;) write(%d, buf, sizeof buf);
}
"""


@pytest.mark.parametrize("stream", [1, 2], ids=["stdout", "stderr"])
def test_an_output_flood_is_ole(run, stream: int) -> None:
    result = run.c(FLOOD % stream, output_bytes=1 * MiB)
    assert result.status == RunStatus.OLE
    out, truncated = ((result.stdout, result.stdout_truncated) if stream == 1
                      else (result.stderr, result.stderr_truncated))
    assert truncated
    assert len(out) <= 1 * MiB
    assert result.wall_time_ms < 1000


def test_output_exactly_at_the_cap_is_not_ole(run) -> None:
    result = run.c(r"""
        int main(void) {
            static char buf[1 << 20];
            memset(buf, 'y', sizeof buf);
            for (size_t done = 0; done < sizeof buf;) done += write(1, buf + done, sizeof buf - done);
            return 0;
        }
    """, output_bytes=1 * MiB)
    assert result.status == RunStatus.OK, result.message
    assert result.stdout == b"y" * MiB
    assert not result.stdout_truncated


def test_a_file_over_the_size_limit_is_ole_by_sigxfsz(run) -> None:
    result = run.c(r"""
        int main(void) {
            static char buf[65536];
            int fd = open("big", O_WRONLY | O_CREAT, 0644);
            for (;;)
                if (write(fd, buf, sizeof buf) < 0) { printf("write failed errno=%d\n", errno); return 3; }
        }
    """, file_size_bytes=1 * MiB)
    assert result.status == RunStatus.OLE, (result.message, result.stdout)
    assert result.signal == 25  # SIGXFSZ


def test_fallocate_over_the_size_limit_is_ole(run) -> None:
    result = run.c(r"""
        int main(void) {
            int fd = open("big", O_WRONLY | O_CREAT, 0644);
            printf("fallocate errno=%d\n", fallocate(fd, 0, 0, 1L << 30) ? errno : 0);
            return 0;
        }
    """, file_size_bytes=4 * MiB)
    assert result.status == RunStatus.OLE, (result.message, result.stdout)


FILL = r"""
int main(int argc, char **argv) {
    static char buf[65536];
    memset(buf, 'z', sizeof buf);
    int fd = open(argv[1], O_WRONLY | O_CREAT, 0600);
    long total = 0;
    for (;;) {
        ssize_t n = write(fd, buf, sizeof buf);
        if (n <= 0) { printf("errno=%d\ntotal=%ld\n", errno, total); return 0; }
        total += n;
    }
}
"""


@pytest.mark.parametrize("where", ["/tmp", "/box", "/dev/shm"])
def test_filling_a_scratch_disk_stops_at_its_size(run, where: str) -> None:
    """The file size limit and the memory are larger than the tmpfs: ENOSPC must come first."""
    result = run.c(FILL, args=[f"{where}/fill"], tmp_bytes=8 * MiB, file_size_bytes=64 * MiB,
                   memory_bytes=128 * MiB)
    assert result.status == RunStatus.OK, result.message
    facts = run.fields(result.stdout)
    assert facts["errno"] == str(errno.ENOSPC)
    assert 6 * MiB <= int(facts["total"]) <= 8 * MiB


def test_fallocate_beyond_the_scratch_disk_is_refused(run) -> None:
    result = run.c(r"""
        int main(void) {
            int fd = open("/tmp/big", O_WRONLY | O_CREAT, 0644);
            printf("errno=%d\n", fallocate(fd, 0, 0, 32L << 20) ? errno : 0);
            return 0;
        }
    """, tmp_bytes=8 * MiB, file_size_bytes=64 * MiB, memory_bytes=128 * MiB)
    assert result.status == RunStatus.OK, result.message
    assert run.fields(result.stdout) == {"errno": str(errno.ENOSPC)}


def test_creating_files_stops_at_the_inode_count(run) -> None:
    result = run.c(r"""
        int main(void) {
            char name[64];
            for (int i = 0;; i++) {
                snprintf(name, sizeof name, "/tmp/f%d", i);
                int fd = open(name, O_WRONLY | O_CREAT, 0600);
                if (fd < 0) { printf("files=%d\nerrno=%d\n", i, errno); return 0; }
                close(fd);
            }
        }
    """, tmp_inodes=256)
    facts = run.fields(result.stdout)
    assert facts["errno"] == str(errno.ENOSPC)
    assert int(facts["files"]) <= 256


def test_opening_descriptors_stops_at_the_open_files_limit(run) -> None:
    result = run.c(r"""
        int main(void) {
            int n = 0;
            while (open("/dev/null", O_RDONLY) >= 0) n++;
            printf("opened=%d\nerrno=%d\n", n, errno);
            return 0;
        }
    """, open_files=64)
    assert run.fields(result.stdout) == {"opened": "61", "errno": str(errno.EMFILE)}


def test_orphaned_zombies_are_reaped_by_the_box(run) -> None:
    """Grandchildren whose parent exited are reparented to the box's pid 1, which must reap them:
    200 of them in a row fit under a limit of 16 tasks only if they do not pile up as zombies.
    """
    result = run.c(r"""
        int main(void) {
            int ok = 0;
            for (int i = 0; i < 200; i++) {
                pid_t child = fork();
                if (child == 0) _exit(fork() < 0);   /* the grandchild exits at once */
                int st;
                if (child > 0 && waitpid(child, &st, 0) == child && WEXITSTATUS(st) == 0) ok++;
                usleep(1000);
            }
            printf("ok=%d\n", ok);
            return 0;
        }
    """, processes=16)
    assert result.status == RunStatus.OK, result.message
    assert run.fields(result.stdout) == {"ok": "200"}
