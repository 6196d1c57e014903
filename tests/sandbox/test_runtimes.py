"""Real language runtimes inside the box: the JVM under a contest memory limit, Python.

These are what contestants actually run. The JVM is the hard case: it reserves far more
address space than it touches and starts many threads, so a box that bills virtual memory or
counts threads too strictly fails here first.
"""

from __future__ import annotations

import hashlib
import shutil

import pytest

import sandbox
from sandbox import Limits, MiB, RunStatus

pytestmark = pytest.mark.sandbox

JAVA, JAVAC = "/usr/bin/java", "/usr/bin/javac"
MAIN_JAVA = b"""
import java.util.*;
public class Main {
    public static void main(String[] args) {
        Scanner in = new Scanner(System.in);
        long a = in.nextLong(), b = in.nextLong();
        int[] big = new int[20 * 1024 * 1024];  // 80 MiB on the heap, touched
        Arrays.fill(big, 1);
        System.out.println(a + b + big[big.length - 1] - 1);
    }
}
"""
COMPILE = Limits(cpu_time_ms=20000, wall_time_ms=60000, memory_bytes=1024 * MiB, processes=128)
RUN = Limits(cpu_time_ms=5000, wall_time_ms=20000, memory_bytes=256 * MiB, processes=64)

needs_java = pytest.mark.skipif(
    not (shutil.which(JAVA) and shutil.which(JAVAC)),
    reason="no JDK on this host (apt-get install default-jdk-headless)",
)


@pytest.fixture(scope="module")
def main_class(sb: sandbox.Sandbox) -> bytes:
    with sb.box(limits=COMPILE) as box:
        box.put("Main.java", MAIN_JAVA)
        result = box.run([JAVAC, "-J-XX:-UsePerfData", "Main.java"], COMPILE)
        assert result.status == RunStatus.OK, (result.message, result.stderr.decode())
        return box.get("Main.class")


@needs_java
@pytest.mark.slow
def test_the_jvm_runs_under_256_mib(sb: sandbox.Sandbox, main_class: bytes) -> None:
    result = sb.run(
        [JAVA, "-XX:-UsePerfData", "-Xmx200m", "Main"], RUN, files={"Main.class": main_class}, stdin=b"2 3\n"
    )
    assert result.status == RunStatus.OK, (result.message, result.stderr.decode())
    assert result.stdout == b"5\n"
    assert 80 * MiB <= result.memory_bytes <= 256 * MiB


@needs_java
@pytest.mark.slow
def test_the_jvm_over_its_heap_is_an_error_not_a_sandbox_failure(
    sb: sandbox.Sandbox, main_class: bytes
) -> None:
    """-Xmx64m cannot hold the 80 MiB array: OutOfMemoryError, a runtime error of the program."""
    result = sb.run(
        [JAVA, "-XX:-UsePerfData", "-Xmx64m", "Main"], RUN, files={"Main.class": main_class}, stdin=b"2 3\n"
    )
    assert result.status == RunStatus.RTE, result.message
    assert b"OutOfMemoryError" in result.stderr


@needs_java
@pytest.mark.slow
def test_the_jvm_over_the_box_memory_is_mle(sb: sandbox.Sandbox, main_class: bytes) -> None:
    """A heap allowed more than the box has: the box's limit, not the JVM's, decides."""
    tight = Limits(cpu_time_ms=5000, wall_time_ms=20000, memory_bytes=96 * MiB, processes=64)
    result = sb.run(
        [JAVA, "-XX:-UsePerfData", "-Xmx200m", "Main"],
        tight,
        files={"Main.class": main_class},
        stdin=b"2 3\n",
    )
    assert result.status == RunStatus.MLE, (result.status, result.message, result.stderr[-500:])


def test_python_reads_stdin_and_writes_stdout(run) -> None:
    result = run.py("import sys; print(sum(map(int, sys.stdin.read().split())))", stdin=b"1 2 3\n")
    assert result.status == RunStatus.OK, result.stderr.decode()
    assert result.stdout == b"6\n"


def test_large_stdin_arrives_whole(run) -> None:
    data = b"".join(b"%d\n" % i for i in range(200_000))
    result = run.py(
        "import sys, hashlib; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())", stdin=data
    )
    assert result.stdout.decode().strip() == hashlib.sha256(data).hexdigest()
