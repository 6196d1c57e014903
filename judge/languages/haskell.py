"""Haskell with GHC at -O2; the program is the module Main (the default without a header).

GHC leaves main.hi and main.o beside the program; only `main` goes to the run. It links
through gcc, which the ghc package depends on. Measured here: hello world compiles in 0.5-0.6 s
of CPU and peaks at 113 MiB; a 100-line program with containers, arrays and ST takes 1.7 s
and 183 MiB, so the compile memory is raised to 768 MiB, the time left at the default 10 s.
The compiled program starts in 2 ms: no allowance.
"""

from __future__ import annotations

from sandbox import MiB

from .recipe import Language, SelfTest, compile_limits

HASKELL = Language(
    id="haskell",
    name="Haskell (GHC)",
    extensions=(".hs",),
    source_name="main.hs",
    image="ghc",
    compile=("/usr/bin/ghc", "-O2", "-o", "main", "{source}"),
    main_pattern=r"^main\s*(::|=)",
    run=("./main",),
    version=("/usr/bin/ghc", "--version"),
    artifacts=(("main", 0o755),),
    compile_limits=compile_limits(memory_bytes=768 * MiB),
    self_test=SelfTest(
        source="main :: IO ()\nmain = do\n  [a, b] <- map read . words <$> getLine :: IO [Integer]\n"
        "  print (a + b)\n",
        stdin="2 3\n",
        expected="5\n",
    ),
)
