"""How a program ended, reported as a fact: its exit code or the signal that killed it.

Crashes are RTE with the signal, exit codes are kept as given, and a command that cannot be
executed at all is the sandbox's ExecFailed, never a verdict on the program.
"""

from __future__ import annotations

import signal
import threading

import pytest
from kit import wait_until

import sandbox
from sandbox import RunStatus

pytestmark = pytest.mark.sandbox

CRASHES = {
    "SIGSEGV": ("int main(void) { volatile int *p = (int *)16; return *p; }", signal.SIGSEGV),
    "SIGFPE": ("int main(void) { volatile int num = 7, zero = 0; return num / zero; }", signal.SIGFPE),
    "SIGABRT": ("int main(void) { abort(); }", signal.SIGABRT),
    "SIGBUS": (
        """int main(void) {
                     int fd = open("/tmp/f", O_RDWR | O_CREAT, 0600);
                     volatile char *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
                     return p[0];
                 }""",
        signal.SIGBUS,
    ),
    "SIGILL": ("int main(void) { __builtin_trap(); }", signal.SIGILL),
    "SIGKILL_self": ("int main(void) { kill(getpid(), SIGKILL); pause(); }", signal.SIGKILL),
    "SIGTERM_self": ("int main(void) { raise(SIGTERM); return 0; }", signal.SIGTERM),
}


@pytest.mark.parametrize(("source", "sig"), list(CRASHES.values()), ids=list(CRASHES))
def test_a_crash_is_rte_with_its_signal(run, source: str, sig: signal.Signals) -> None:
    result = run.c(source)
    assert result.status == RunStatus.RTE
    assert result.signal == sig
    assert result.exit_code is None
    assert result.signal_name == sig.name
    assert sig.name in result.message
    assert result.syscall is None


def test_a_stack_overflow_ends_the_program(run) -> None:
    """Endless recursion: SIGSEGV at the stack limit or MLE at the memory limit, never OK or a hang."""
    result = run.c(
        r"""
        static int down(volatile char *prev) {
            volatile char frame[4096];
            frame[0] = prev[0];
            return down(frame) + 1;
        }
        int main(void) { char c = 0; return down(&c); }
    """,
        memory_bytes=64 * 1024 * 1024,
    )
    assert (result.status, result.signal) in {
        (RunStatus.RTE, signal.SIGSEGV),
        (RunStatus.MLE, signal.SIGKILL),
        (RunStatus.MLE, signal.SIGSEGV),
    }
    assert result.wall_time_ms < 2000


@pytest.mark.parametrize("code", [1, 2, 3, 42, 127, 255])
def test_a_non_zero_exit_is_rte_with_its_code(run, code: int) -> None:
    result = run.c("int main(int argc, char **argv) { return atoi(argv[1]); }", args=[str(code)])
    assert result.status == RunStatus.RTE
    assert result.exit_code == code
    assert result.signal is None
    assert str(code) in result.message


def test_exit_zero_is_ok(run) -> None:
    result = run.c('int main(void) { printf("fine\\n"); return 0; }')
    assert result.status == RunStatus.OK
    assert result.exit_code == 0
    assert result.signal is None
    assert result.message == ""
    assert result.stdout == b"fine\n"


def test_exit_from_a_thread_while_others_run_is_ok(run) -> None:
    result = run.c(r"""
        static void *spin(void *arg) { for (volatile unsigned long i = 0;; i++) ; return arg; }
        int main(void) {
            pthread_t t;
            pthread_create(&t, NULL, spin, NULL);
            usleep(20000);
            exit(0);
        }
    """)
    assert result.status == RunStatus.OK, result.message


def test_python_exceptions_and_sys_exit_are_exit_codes(run) -> None:
    crashed = run.py("raise SystemExit(5)")
    assert (crashed.status, crashed.exit_code) == (RunStatus.RTE, 5)
    raised = run.py("1 / 0")
    assert (raised.status, raised.exit_code) == (RunStatus.RTE, 1)
    assert b"ZeroDivisionError" in raised.stderr


def test_sigpipe_kills_a_writer_as_it_does_outside(run) -> None:
    """A program writing to a pipe nobody reads dies of SIGPIPE (the default disposition)."""
    result = run.c(r"""
        int main(void) {
            int p[2];
            pipe(p);
            close(p[0]);
            write(p[1], "x", 1);
            printf("survived errno=%d\n", errno);
            return 0;
        }
    """)
    assert result.status == RunStatus.RTE, result.stdout
    assert result.signal == signal.SIGPIPE


def test_a_missing_command_raises_exec_failed(sb) -> None:
    with pytest.raises(sandbox.ExecFailed, match="No such file"):
        sb.run(["/box/does-not-exist"])


def test_a_file_without_execute_permission_raises_exec_failed(sb, cc) -> None:
    with pytest.raises(sandbox.ExecFailed, match="Permission denied"):
        sb.run(["./prog"], files={"prog": (cc("int main(void) { return 0; }"), 0o644)})


def test_a_script_with_a_missing_interpreter_raises_exec_failed(sb) -> None:
    with pytest.raises(sandbox.ExecFailed):
        sb.run(["./s"], files={"s": (b"#!/no/such/interpreter\n", 0o755)})


def test_a_program_killed_from_another_thread_is_rte_with_sigkill_reported_by_init(sb) -> None:
    """Box.kill_program (what interactive problems use): every process of the box but init dies,
    init reports the program's SIGKILL, and nothing of the box is left when the run returns."""
    limits = sandbox.Limits(cpu_time_ms=20_000, wall_time_ms=60_000)
    results: list[sandbox.RunResult] = []
    with sb.box(limits=limits) as box:
        box.wait_ready()
        assert box.processes() == {box.init_pid}  # before GO: init alone
        thread = threading.Thread(
            target=lambda: results.append(box.run(["/bin/sh", "-c", "sleep 600 & sleep 600 & wait"], limits))
        )
        thread.start()
        wait_until(
            box.processes,
            until=lambda procs: len(procs) == 4,
            timeout_s=20,
            what="init, sh and two sleeps in the box",
        )
        box.kill_program()
        thread.join(30)
        assert not thread.is_alive()
        assert box.processes() == set()
    [result] = results
    assert result.status == RunStatus.RTE
    assert result.signal == signal.SIGKILL
    assert result.message == "killed by SIGKILL"  # no limit of ours: the caller's kill
