"""C with GCC: GNU C17 at -O2, linked statically with libm, hardened as Ubuntu's GCC is by default.

The command is the ICPC reference systems' (their sources, for `judge languages` and the
README's table):

- problemtools (Kattis), problemtools/config/languages.yaml:
  `gcc -g -O2 -std=gnu17 -static -o {binary} {files} -lm`
- DOMjudge, sql/files/defaultdata/c/run: `gcc -x c -Wall -O2 -static -pipe -o DEST "$@" -lm`
  (its C standard is the compiler's default, gnu17 for GCC 12 and 13).

Both run on Ubuntu: problemtools' images are `FROM ubuntu:24.04` (admin/docker), and
DOMjudge's judgehost chroot is Ubuntu noble by default on Ubuntu (misc-tools/dj_make_chroot).
Ubuntu's GCC turns on hardening that Debian's (this image's) leaves off, listed on
https://wiki.ubuntu.com/ToolChain/CompilerFlags: `-fstack-protector-strong` (since 14.10),
`-D_FORTIFY_SOURCE=3` at -O1 and above (2 since 8.10, 3 since 24.04), `-fstack-clash-protection`
and `-fcf-protection` (since 19.10), `-Wformat -Wformat-security`, and PIE (which `-static`
turns off there too). UBUNTU_DEFAULTS writes them out, so that a program behaves here as it
does there: a stack buffer overflow that writes past a local array is "*** stack smashing
detected ***" (SIGABRT, RTE) when the function returns, as on Kattis and DOMjudge, where
Debian's default GCC would let the program print its answer. `-g` (problemtools) and `-Wall`
(DOMjudge) are left out: debugging information and warnings change no verdict.
"""

from __future__ import annotations

from .recipe import Language, SelfTest

# Ubuntu 24.04's GCC defaults (wiki.ubuntu.com/ToolChain/CompilerFlags), for C and C++ alike
UBUNTU_DEFAULTS = (
    "-fstack-protector-strong",
    "-D_FORTIFY_SOURCE=3",
    "-fstack-clash-protection",
    "-fcf-protection",
    "-Wformat",
    "-Wformat-security",
)

C = Language(
    id="c",
    name="C (GCC)",
    extensions=(".c",),
    source_name="main.c",
    image="gcc",
    compile=(
        "/usr/bin/gcc",
        "-std=gnu17",
        "-O2",
        "-static",
        "-pipe",
        *UBUNTU_DEFAULTS,
        "-o",
        "main",
        "{sources}",
        "-lm",
    ),
    compile_source="problemtools languages.yaml and DOMjudge defaultdata/c/run (-O2 -static -lm, gnu17); "
    "Ubuntu 24.04 GCC's defaults (wiki.ubuntu.com/ToolChain/CompilerFlags): stack protector, "
    "_FORTIFY_SOURCE=3, stack clash and CET protection, -Wformat-security",
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
