"""C++ with G++: GNU C++17 at -O2, the usual contest setting."""

from __future__ import annotations

from .recipe import Language, SelfTest

CPP = Language(
    id="cpp",
    name="C++17 (G++)",
    extensions=(".cpp", ".cc", ".cxx", ".c++"),
    source_name="main.cpp",
    image="gcc",
    compile=("/usr/bin/g++", "-std=gnu++17", "-O2", "-pipe", "-o", "main", "{sources}"),
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
