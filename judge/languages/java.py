"""Java on the image's JDK. The public class's name decides the file name, as javac insists.

`public_class` finds the top-level `public class X` (or interface, enum, record) in the
source, ignoring comments, string and character literals, text blocks and anything nested
in braces (a `public class Node` inside `class Main` is not the file's class). Without one
the file is `Main.java` and `java Main` runs it. Package declarations are not followed: a
contest program lives in the default package.

Every JVM gets `-XX:-UsePerfData`: the seccomp policy makes file locks fail, and the JVM's
perf-data file would otherwise make it print a warning on stdout. The heap is capped at the
user's memory limit (`-Xmx`), so that the garbage collector works within it instead of
sizing itself from the host's RAM; the 64 MiB allowance pays for what the JVM keeps outside
the heap (code, metaspace, thread stacks). The serial collector keeps the thread count and
the CPU time billed for collection low, and a 64 MiB thread stack (`-Xss`, which also sizes
the thread that runs `main`) makes deep recursion behave as in C++. The 250 ms allowance
pays for the JVM's start (about 50 ms of CPU here) and its JIT threads.
"""

from __future__ import annotations

import re

from sandbox import MiB

from .recipe import Language, SelfTest, compile_limits

_MODIFIERS = r"(?:(?:abstract|final|strictfp|sealed|non-sealed)\s+)*"
_PUBLIC_TYPE = re.compile(
    r"(?<![\w$])public\s+" + _MODIFIERS + r"(?:class|interface|enum|record)\s+((?:[^\W\d]|\$)[\w$]*)"
)


def _code_only(source: str, *, blank_nested: bool = True) -> str:
    """The source with comments and literals blanked, and brace contents too unless told not to."""
    out: list[str] = []
    i, n, depth = 0, len(source), 0
    while i < n:
        c = source[i]
        if source.startswith("//", i):
            end = source.find("\n", i)
            i = n if end < 0 else end
            continue
        if source.startswith("/*", i):
            end = source.find("*/", i + 2)
            i = n if end < 0 else end + 2
            out.append(" ")
            continue
        if source.startswith('"""', i):
            end = source.find('"""', i + 3)
            while end > 0 and _escaped(source, end):
                end = source.find('"""', end + 1)
            i = n if end < 0 else end + 3
            out.append(" ")
            continue
        if c in "\"'":
            j = i + 1
            while j < n and source[j] != c and source[j] != "\n":
                j += 2 if source[j] == "\\" else 1
            i = j + 1
            out.append(" ")
            continue
        if c == "{":
            depth += 1
            out.append(c)
        elif c == "}":
            depth = max(0, depth - 1)
            out.append(c)
        else:
            out.append(c if depth == 0 or not blank_nested else " ")
        i += 1
    return "".join(out)


def _escaped(text: str, at: int) -> bool:
    """Whether the character at `at` follows an odd number of backslashes."""
    k = at
    while k > 0 and text[k - 1] == "\\":
        k -= 1
    return (at - k) % 2 == 1


def public_class(source: str) -> str | None:
    """The name of the source's top-level public class, or None if it has none."""
    match = _PUBLIC_TYPE.search(_code_only(source))
    return match.group(1) if match else None


_TYPE = re.compile(r"(?<![\w$])(?:class|interface|enum|record)\s+((?:[^\W\d]|\$)[\w$]*)")
MAIN = r"\bstatic\b[^;{}()]*\bvoid\s+main\s*\("


def main_class(source: str) -> str | None:
    """The class that declares `static void main(`, as `java` names it (`Outer$Inner` if nested)."""
    code = _code_only(source, blank_nested=False)
    found = re.search(MAIN, code)
    if found is None:
        return None
    types = {m.start(): m.group(1) for m in _TYPE.finditer(code)}
    stack: list[str | None] = []
    pending: str | None = None
    for i, c in enumerate(code[: found.start()]):
        if i in types:
            pending = types[i]
        elif c == "{":
            stack.append(pending)
            pending = None
        elif c == "}":
            if stack:
                stack.pop()
        elif c == ";":
            pending = None
    names = [n for n in stack if n]
    return "$".join(names) or None


_PACKAGE = re.compile(r"^\s*package\s+([\w$]+(?:\s*\.\s*[\w$]+)*)\s*;", re.MULTILINE)


def run_class(name: str, source: str) -> str | None:
    """What `java` starts: the class with main, qualified by the file's package; None if none has main."""
    cls = main_class(source)
    if cls is None:
        return None
    package = _PACKAGE.search(_code_only(source, blank_nested=False))
    if package is None:
        return cls
    return "".join(package.group(1).split()) + "." + cls


def source_name(source: str) -> str:
    """`X.java` for a `public class X`, else `Main.java`."""
    return f"{public_class(source) or 'Main'}.java"


JAVA = Language(
    id="java",
    name="Java",
    extensions=(".java",),
    source_name="Main.java",
    image="java",
    name_source=source_name,
    compile=(
        "/usr/bin/javac",
        "-J-XX:-UsePerfData",
        "-J-XX:+UseSerialGC",
        "-J-XX:TieredStopAtLevel=1",
        "-J-Xmx384m",
        "-encoding",
        "UTF-8",
        "-d",
        ".",
        "{sources}",
    ),
    run=(
        "/usr/bin/java",
        "-XX:-UsePerfData",
        "-XX:+UseSerialGC",
        "-Xss64m",
        "-Xmx{memory_mib}m",
        "{main}",
    ),
    main_pattern=MAIN,
    main_name=run_class,
    main_required=True,
    version=("/usr/bin/java", "-XX:-UsePerfData", "-version"),
    artifacts=(("*.class", 0o644),),
    compile_limits=compile_limits(processes=128),
    extra_time_ms=250,
    extra_memory_bytes=64 * MiB,
    self_test=SelfTest(
        source="import java.util.Scanner;\n\npublic class SelfTest {\n"
        "    public static void main(String[] args) {\n"
        "        Scanner in = new Scanner(System.in);\n"
        "        System.out.println(in.nextLong() + in.nextLong());\n    }\n}\n",
        stdin="2 3\n",
        expected="5\n",
    ),
)
