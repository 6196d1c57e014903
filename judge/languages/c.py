"""C with GCC: GNU C17 at -O2, linked with libm, as most contest judges set it up."""

from __future__ import annotations

from .recipe import Language, SelfTest

C = Language(
    id="c",
    name="C (GCC)",
    extensions=(".c",),
    source_name="main.c",
    image="gcc",
    compile=("/usr/bin/gcc", "-std=gnu17", "-O2", "-pipe", "-o", "main", "{sources}", "-lm"),
    main_pattern=r"\bmain\s*\(",
    run=("./main",),
    version=("/usr/bin/gcc", "--version"),
    artifacts=(("main", 0o755),),
    self_test=SelfTest(
        source='#include <stdio.h>\nint main(void) { int a, b; scanf("%d %d", &a, &b); '
        'printf("%d\\n", a + b); return 0; }\n',
        stdin="2 3\n",
        expected="5\n",
    ),
)
