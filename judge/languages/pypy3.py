"""PyPy 3 from the image: the same programs as CPython, JIT-compiled.

`.py` belongs to CPython (python3.py); a file picks PyPy with `--lang pypy3`, or with the
extension `.pypy`, which exists because every language needs one of its own (example files
and `judge run` tell languages apart by it). As for CPython, 'compiling' only byte-compiles,
so syntax errors become CE.

The 32 MiB allowance pays for PyPy itself. Measured here: an empty program peaks at 19 MiB
(CPython: 3 MiB), a JIT-compiled loop at 23 MiB, hello world that imports `platform` at
33 MiB (CPython: 4 MiB). Its start needs no time allowance (29-34 ms of CPU, CPython 12 ms);
past the start PyPy's data are smaller than CPython's (a list of a million ints: 29 MiB
against 41 MiB).
"""

from __future__ import annotations

from sandbox import MiB

from .recipe import Language, SelfTest

PYPY3 = Language(
    id="pypy3",
    name="PyPy 3",
    extensions=(".pypy",),
    source_name="main.py",
    image="pypy3",
    compile=("/usr/bin/pypy3", "-m", "py_compile", "{sources}"),
    main_pattern=r"__name__\s*==\s*['\"]__main__['\"]",
    run=("/usr/bin/pypy3", "{source}"),
    # `pypy3 --version` starts with the version of Python it implements; this names PyPy's own.
    version=("/usr/bin/pypy3", "-c", "import sys; print('PyPy %d.%d.%d (Python %d.%d.%d)' "
             "% (sys.pypy_version_info[:3] + sys.version_info[:3]))"),
    extra_memory_bytes=32 * MiB,
    self_test=SelfTest(
        source="a, b = map(int, input().split())\nprint(a + b)\n",
        stdin="2 3\n",
        expected="5\n",
    ),
)
