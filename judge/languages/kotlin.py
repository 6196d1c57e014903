"""Kotlin/JVM: kotlinc to a jar with the standard library inside, run on the image's JVM.

kotlinc writes `Main-Class` into the jar's manifest when the source has a top-level
`fun main` (the class is `MainKt` for main.kt, or the name `@file:JvmName` gives), so
`java -jar` finds it and nobody guesses class names. A `main` only inside an `object` or a
companion object is not detected: the run then ends RTE, "no main manifest attribute".
`-include-runtime` puts the standard library in the jar (3 MiB), so the run needs nothing
of kotlinc's and starts plain `java` with Java's flags, not the `kotlin` script (bash, then
a JVM whose runner class loads the program).

The compiler's JVM: `-XX:-UsePerfData` as for Java (file locks fail in the box),
`-XX:-PrintWarnings` because Debian's kotlinc script passes the deprecated `-noverify` and
the JVM would say so on stderr, into every compile output and ahead of the version, and C1 only
(`TieredStopAtLevel=1`), which cuts kotlinc's CPU time by a third to a half: 3.9-5.3 s
instead of 7.5 s for a 100-line program here (peak 280 MiB), 2.7 s for hello world (265 MiB).
The compile limits give that about four times over.

The run is Java's (java.py): the same flags and the same allowance. Measured here, an empty
`fun main` costs 76 ms of CPU and 17 MiB at its peak, as Java's does, plus the jar's 3 MiB
in the box's working directory.
"""

from __future__ import annotations

from sandbox import MiB

from .recipe import Language, SelfTest, compile_limits

COMPILER_JVM = (
    "-J-XX:-UsePerfData", "-J-XX:-PrintWarnings", "-J-XX:+UseSerialGC", "-J-XX:TieredStopAtLevel=1",
)

KOTLIN = Language(
    id="kotlin",
    name="Kotlin (JVM)",
    extensions=(".kt",),
    source_name="main.kt",
    image="kotlin",
    compile=(
        "/usr/bin/kotlinc", *COMPILER_JVM, "-J-Xmx512m", "-include-runtime", "-d", "main.jar", "{sources}",
    ),
    main_pattern=r"\bfun\s+main\s*\(",
    run=(
        "/usr/bin/java", "-XX:-UsePerfData", "-XX:+UseSerialGC", "-Xss64m", "-Xmx{memory_mib}m",
        "-jar", "main.jar",
    ),
    # Debian's kotlinc 1.3.31 calls itself "kotlinc-jvm 1.3-SNAPSHOT"; that is what it prints.
    version=("/usr/bin/kotlinc", *COMPILER_JVM, "-version"),
    artifacts=(("main.jar", 0o644),),
    compile_limits=compile_limits(cpu_time_ms=20_000, wall_time_ms=40_000, memory_bytes=1024 * MiB,
                                  processes=128),
    extra_time_ms=250,
    extra_memory_bytes=64 * MiB,
    self_test=SelfTest(
        source="fun main() {\n    val (a, b) = readLine()!!.trim().split(\" \").map { it.toLong() }\n"
        "    println(a + b)\n}\n",
        stdin="2 3\n",
        expected="5\n",
    ),
)
