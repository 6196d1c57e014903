"""Haskell with GHC at -O2; the program is the module Main (the default without a header).

GHC leaves main.hi and main.o beside the program; only `main` goes to the run. It links
through gcc, which the ghc package depends on. Measured here: hello world compiles in 0.5-0.6 s
of CPU and peaks at 113 MiB; a 100-line program with containers, arrays and ST takes 1.7 s
and 183 MiB, so the compile memory is raised to 768 MiB, the time left at the default 10 s.
The compiled program starts in 2 ms: no allowance.

Literate Haskell (`.lhs`, in DOMjudge's default languages) needs its extension for GHC to
read it as literate, so a single file with `\begin{code}` blocks, or whose code is in `> `
lines with no plain `main`, `module` or `import` line, is named main.lhs in the box.
"""

from __future__ import annotations

import re

from sandbox import MiB

from .recipe import Language, SelfTest, compile_limits

_BIRD = re.compile(r"^> ", re.MULTILINE)
_LATEX = re.compile(r"^\\begin\{code\}", re.MULTILINE)
_PLAIN = re.compile(r"^(main|module|import)\b", re.MULTILINE)


def _source_name(text: str) -> str:
    literate = _LATEX.search(text) or (_BIRD.search(text) and not _PLAIN.search(text))
    return "main.lhs" if literate else "main.hs"


HASKELL = Language(
    id="haskell",
    name="Haskell (GHC)",
    extensions=(".hs", ".lhs"),
    source_name="main.hs",
    name_source=_source_name,
    image="ghc",
    compile=("/usr/bin/ghc", "-O2", "-o", "main", "{source}"),
    main_pattern=r"^(> )?main\s*(::|=)",
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
