"""C++ with G++: GNU C++23 at -O2, linked statically, hardened as Ubuntu's GCC is by default.

The ICPC reference systems' commands:

- problemtools (Kattis), problemtools/config/languages.yaml: `g++ -g -O2 -std=gnu++23 -static
  -o {binary} {files} -lrt -Wl,--whole-archive -lpthread -Wl,--no-whole-archive`
- DOMjudge, sql/files/defaultdata/cpp/run: `g++ -x c++ -Wall -O2 -static -pipe -o DEST "$@"`
  (the compiler's default standard: gnu++17).

The standard is problemtools' (C++23; GCC 12 knows most of it), a superset of what DOMjudge's
default accepts. The `-lpthread` whole-archive dance is for static threads on glibc before
2.34; glibc 2.36 has threads in libc itself, so it is left out, as `-g` and `-Wall` are. The
hardening flags are Ubuntu's defaults, as for C (c.py says why and where they come from).
"""

from __future__ import annotations

from .c import UBUNTU_DEFAULTS
from .recipe import Language, SelfTest

CPP = Language(
    id="cpp",
    name="C++ (G++)",
    extensions=(".cpp", ".cc", ".cxx", ".c++", ".C"),  # .C: problemtools
    source_name="main.cpp",
    image="gcc",
    compile=(
        "/usr/bin/g++",
        "-std=gnu++23",
        "-O2",
        "-static",
        "-pipe",
        *UBUNTU_DEFAULTS,
        "-o",
        "main",
        "{sources}",
    ),
    compile_source="problemtools languages.yaml (-O2 -static, gnu++23) and DOMjudge defaultdata/cpp/run "
    "(-O2 -static); Ubuntu 24.04 GCC's defaults, as for C",
    main_pattern=r"\bmain\s*\(",
    run=("./main",),
    version=("/usr/bin/g++", "--version"),
    artifacts=(("main", 0o755),),
    self_test=SelfTest(
        source="#include <iostream>\nint main() { long long a, b; std::cin >> a >> b; "
        'std::cout << a + b << "\\n"; }\n',
        stdin="2 3\n",
        expected="5\n",
    ),
)
