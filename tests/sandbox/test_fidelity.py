"""The figures a run reports are right and steady (sandbox/README.md's attack list, items 3 and 14;
the sandbox survey's section 6, docs/references.md).

CPU time is the cgroup's, summed over threads; memory is the cgroup's peak. The bounds here
are loose enough not to flake on a shared CI machine: the benchmark (goal: CV about 1.5%) is
the place for tight numbers, a test only catches a figure that is wrong.
"""

from __future__ import annotations

import os
import statistics
import subprocess
from pathlib import Path

import allowance
import pytest

from sandbox import MiB, RunStatus

pytestmark = pytest.mark.sandbox

WORK = r"""
int main(int argc, char **argv) {
    unsigned long n = strtoul(argv[1], NULL, 10);
    volatile unsigned long x = 0;
    for (unsigned long i = 0; i < n; i++) x += i;
    return 0;
}
"""

TOUCH = r"""
int main(int argc, char **argv) {
    size_t bytes = strtoull(argv[1], NULL, 10) << 20;
    char *p = malloc(bytes);
    for (size_t i = 0; i < bytes; i += 4096) p[i] = 1;
    printf("%d\n", p[bytes / 2]);
    return 0;
}
"""


@pytest.fixture(scope="module")
def half_second(run) -> str:
    """Iterations of WORK that take about 0.5 s of CPU on this machine (the fastest of 3 trials)."""
    trial = 50_000_000
    fastest = min(
        run.c(WORK, args=[str(trial)], cpu_time_ms=5000, wall_time_ms=15000).cpu_time_ms for _ in range(3)
    )
    return str(int(trial * 500 / max(fastest, 1)))


def host_cpu_ms(binary: Path, arg: str) -> float:
    """CPU time of one run on the host, from wait4 of that child alone.

    Not RUSAGE_CHILDREN: the pool's janitor reaps box helpers in this process at any moment,
    and their programs' CPU time would land in the difference.
    """
    proc = subprocess.Popen([str(binary), arg])
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0
    return 1000 * (usage.ru_utime + usage.ru_stime)


def spread(times: list[float]) -> float:
    """Coefficient of variation."""
    return statistics.stdev(times) / statistics.mean(times)


@pytest.fixture(scope="module")
def paired(
    run, cc, half_second: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[list[float], list[float]]:
    """The same 0.5 s loop 15 times in boxes and 15 times on the host, interleaved, so that
    noise from the machine (a busy neighbour, frequency changes) hits both alike."""
    binary = tmp_path_factory.mktemp("fidelity") / "work"
    binary.write_bytes(cc(WORK))
    binary.chmod(0o755)
    boxed, host = [], []
    for _ in range(15):
        result = run.c(WORK, args=[half_second], cpu_time_ms=5000, wall_time_ms=15000)
        assert result.status == RunStatus.OK
        boxed.append(result.cpu_time_ms)
        host.append(host_cpu_ms(binary, half_second))
    return boxed, host


@pytest.mark.slow
def test_cpu_time_of_a_fixed_loop_is_steady(paired: tuple[list[float], list[float]]) -> None:
    """Under 5% spread, or no worse than twice the host's own when the machine is noisier."""
    boxed, host = paired
    assert spread(boxed) < max(0.05, 2 * spread(host)), (
        f"CPU time varies by {spread(boxed):.1%} in the box and {spread(host):.1%} on the host: "
        f"box {boxed}, host {host}"
    )


@pytest.mark.slow
def test_cpu_time_agrees_with_the_same_loop_outside_the_box(paired: tuple[list[float], list[float]]) -> None:
    """The fastest of 15 in the box against the fastest of 15 on the host (noise only adds time).

    The bound catches a wrong figure (threads or the keeper counted twice, setup billed, wall
    time reported as CPU time), not a few percent: a noisy CI machine moves the minimum too.
    """
    boxed, host = paired
    assert 0.75 <= min(boxed) / min(host) <= 1.33, f"box {boxed} ms against host {host} ms"


def test_cpu_time_is_not_more_than_wall_time_for_one_thread(run, half_second: str) -> None:
    result = run.c(WORK, args=[str(int(half_second) // 5)], cpu_time_ms=5000)
    assert result.status == RunStatus.OK
    assert 0 < result.cpu_time_ms <= result.wall_time_ms + 2


def test_an_idle_program_is_billed_almost_nothing(run) -> None:
    result = run.c("int main(void) { usleep(200000); return 0; }")
    assert result.status == RunStatus.OK
    assert result.cpu_time_ms < allowance.ms(20)  # the box's own start and end
    assert result.wall_time_ms >= 200


@pytest.mark.slow
def test_cpu_time_of_four_spinning_threads_is_summed(run) -> None:
    """Threads are billed, not forbidden: four threads of 0.3 s each cost 1.2 s, whatever the wall."""
    result = run.c(
        r"""
        static void *spin(void *arg) {
            while (cpu_seconds(CLOCK_THREAD_CPUTIME_ID) < 0.3) ;
            return arg;
        }
        int main(void) {
            pthread_t t[4];
            for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, spin, NULL);
            for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
            printf("process=%.0f\n", cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) * 1000);
            return 0;
        }
    """,
        cpu_time_ms=5000,
        wall_time_ms=10000,
        processes=8,
    )
    assert result.status == RunStatus.OK, result.message
    assert 1150 <= result.cpu_time_ms <= 1200 + allowance.ms(200)  # 200 ms of overhead: a start, 4 threads
    assert abs(result.cpu_time_ms - float(run.fields(result.stdout)["process"])) < allowance.ms(60)
    # (whether the threads ran side by side depends on the machine's load: not asserted here)


@pytest.mark.parametrize("mib", [16, 64])
def test_peak_memory_is_what_the_program_touched(run, mib: int) -> None:
    result = run.c(TOUCH, args=[str(mib)], memory_bytes=256 * MiB)
    assert result.status == RunStatus.OK, result.message
    assert mib * MiB * 0.95 <= result.memory_bytes <= mib * MiB * 1.05 + 1 * MiB, result.memory_bytes / MiB


def test_memory_reserved_but_not_touched_is_not_billed(run) -> None:
    """A JVM or Go runtime reserves far more address space than it uses: only touched pages count."""
    result = run.c(
        r"""
        int main(void) {
            char *p = mmap(NULL, 1L << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            p[0] = 1;
            printf("%d\n", p[0]);
            return 0;
        }
    """,
        memory_bytes=64 * MiB,
    )
    assert result.status == RunStatus.OK, result.message
    assert result.memory_bytes < 8 * MiB


def test_the_peak_is_reset_for_each_run(run) -> None:
    big = run.c(TOUCH, args=["48"], memory_bytes=128 * MiB)
    small = run.c(TOUCH, args=["1"], memory_bytes=128 * MiB)
    assert big.memory_bytes > 40 * MiB
    assert small.memory_bytes < 8 * MiB


def test_memory_just_under_the_limit_is_ok(run) -> None:
    result = run.c(TOUCH, args=["48"], memory_bytes=64 * MiB)
    assert result.status == RunStatus.OK, result.message


def test_memory_over_the_limit_is_mle_with_the_peak_at_the_limit(run) -> None:
    result = run.c(TOUCH, args=["80"], memory_bytes=64 * MiB)
    assert result.status == RunStatus.MLE
    assert 60 * MiB <= result.memory_bytes <= 64 * MiB + 64 * 1024
