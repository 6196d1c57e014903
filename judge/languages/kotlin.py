"""Kotlin/JVM 2.x: kotlinc to a jar with the standard library inside, run on the image's JVM.

The compiler is JetBrains' own distribution, from the npm registry's `kotlin-compiler`
package, unpacked into /opt/kotlinc over the Java image (judge/images.toml). Debian 12's
kotlinc is 1.3.31, and contest solutions use what Kotlin gained since (`readln()` 1.6,
`countOneBits()` 1.5, `maxOf(a, b, c)`); Kattis, DOMjudge and Codeforces judge a current one.
Judge0's language 78 is this recipe too (judge/service/judge0.py).

The class to run is the one Kotlin puts a top-level `fun main` in: the file's facade class,
`MainKt` for main.kt (its name capitalised, characters Java does not allow as `_`, then `Kt`),
or the name `@file:JvmName("...")` gives it, inside the file's `package` (`main_class`). The
jar's manifest is not asked: Kotlin 2.4 writes `Main-Class: MainKt` even when `@file:JvmName`
renamed that class (so `java -jar` fails), and names an `object` whose `@JvmStatic main` it
finds, which problemtools' `{Mainclass}Kt` does not run. A `main` only inside an object is
RTE here, as on Kattis ("Could not find or load main class").
`-include-runtime` puts the standard library in the jar (5.5 MiB with Kotlin 2.4), so the run
needs nothing of kotlinc's and starts plain `java` with Java's flags, not the `kotlin` script
(bash, then a JVM whose runner class loads the program).

The compiler's JVM: `-XX:-UsePerfData` as for Java (file locks fail in the box),
`-XX:-PrintWarnings` so that no JVM deprecation notice lands in every compile output and
ahead of the version, and C1 only (`TieredStopAtLevel=1`), which cut the old kotlinc's CPU
time by a third to a half. Kotlin 2.4 with these flags: 4.4 s of CPU for a ten-line program
on a loaded machine here; the compile limits give that about four times over.

The run is Java's (java.py): the same flags and the same allowance. Measured here, an empty
`fun main` costs 76 ms of CPU and 17 MiB at its peak, as Java's does, plus the jar's 5.5 MiB
in the box's working directory.
"""

from __future__ import annotations

import re

from sandbox import MiB

from .recipe import Language, SelfTest, compile_limits

COMPILER_JVM = (
    "-J-XX:-UsePerfData",
    "-J-XX:-PrintWarnings",
    "-J-XX:+UseSerialGC",
    "-J-XX:TieredStopAtLevel=1",
)

_TOP_LEVEL_MAIN = re.compile(r"^(?:(?:public|internal|suspend)\s+)*fun\s+main\s*\(", re.MULTILINE)
_JVM_NAME = re.compile(r"^\s*@file\s*:\s*JvmName\s*\(\s*\"([A-Za-z_$][\w$]*)\"\s*\)", re.MULTILINE)
_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*)", re.MULTILINE)


def main_class(file_name: str, text: str) -> str | None:
    """The class holding the file's top-level `fun main`, with its package; None if it has none."""
    if not _TOP_LEVEL_MAIN.search(text):
        return None
    named = _JVM_NAME.search(text)
    if named:
        cls = named.group(1)
    else:
        stem = file_name.rsplit("/", 1)[-1].removesuffix(".kt")
        cls = re.sub(r"[^\w$]", "_", stem[:1].upper() + stem[1:]) + "Kt"
    package = _PACKAGE.search(text)
    return f"{package.group(1)}.{cls}" if package else cls


KOTLIN = Language(
    id="kotlin",
    name="Kotlin (JVM)",
    extensions=(".kt",),
    source_name="main.kt",
    image="kotlin",
    compile=(
        "/opt/kotlinc/bin/kotlinc",
        *COMPILER_JVM,
        "-J-Xmx512m",
        "-include-runtime",
        "-d",
        "main.jar",
        "{sources}",
    ),
    compile_source="JetBrains' kotlinc 2.4.20 (npm kotlin-compiler), plain `kotlinc` as in DOMjudge's "
    "defaultdata/kt and problemtools; ours: a jar with its runtime (run by plain java), JVM flags for speed",
    main_pattern=r"\bfun\s+main\s*\(",
    main_name=main_class,
    run=(
        "/usr/bin/java",
        "-XX:-UsePerfData",
        "-XX:+UseSerialGC",
        "-Xss64m",
        "-Xmx{memory_mib}m",
        "-cp",
        "main.jar",
        "{main}",
    ),
    # The distribution's build.txt says "2.4.20". `kotlinc -version` says as much but starts the
    # compiler's JVM for it: 2.3 s of CPU and 320 MiB, over the version probe's limits on a busy machine.
    version=("/bin/sh", "-c", 'printf "kotlinc-jvm %s\\n" "$(cat /opt/kotlinc/build.txt)"'),
    artifacts=(("main.jar", 0o644),),
    compile_limits=compile_limits(
        cpu_time_ms=20_000, wall_time_ms=40_000, memory_bytes=1024 * MiB, processes=128
    ),
    extra_time_ms=250,
    extra_memory_bytes=64 * MiB,
    self_test=SelfTest(
        # readln() is Kotlin 1.6: the self-test fails on the old Debian kotlinc
        source='fun main() {\n    val (a, b) = readln().trim().split(" ").map { it.toLong() }\n'
        "    println(a + b)\n}\n",
        stdin="2 3\n",
        expected="5\n",
    ),
)
