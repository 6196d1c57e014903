"""C# with Mono: mcs to main.exe, run by `mono`.

System.Numerics is referenced (BigInteger is a contest staple and mcs leaves it out by
default). Measured here, an empty program takes 16 ms of CPU and 3 MiB under `mono`, so
there is no allowance; mcs takes 0.2 s and 27 MiB for hello world.
"""

from __future__ import annotations

from .recipe import Language, SelfTest

CSHARP = Language(
    id="csharp",
    name="C# (Mono)",
    extensions=(".cs", ".csharp"),  # .csharp: DOMjudge's default languages
    source_name="main.cs",
    image="mono",
    compile=("/usr/bin/mcs", "-optimize+", "-r:System.Numerics", "-out:main.exe", "{sources}"),
    main_pattern=r"\bstatic\b[^;{}()]*\bMain\s*\(",
    run=("/usr/bin/mono", "main.exe"),
    version=("/usr/bin/mcs", "--version"),
    artifacts=(("main.exe", 0o644),),
    self_test=SelfTest(
        source="using System;\n\nclass Program {\n    static void Main() {\n"
        "        var p = Console.ReadLine().Split();\n"
        "        Console.WriteLine(long.Parse(p[0]) + long.Parse(p[1]));\n    }\n}\n",
        stdin="2 3\n",
        expected="5\n",
    ),
)
