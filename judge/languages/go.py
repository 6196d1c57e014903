"""Go with the image's toolchain: `go build` of one file, standard library only.

Without a go.mod, `go build main.go` builds the file as its own package; an import from
outside the standard library fails to compile (no network, no module cache). The build cache
goes to $HOME/.cache in the compile box's /box and is thrown away with it.

GOMAXPROCS=1, for the build and the program, so that a program's CPU time does not depend on
the host's cores: Go sizes its scheduler and its garbage collector's workers by the CPUs it
sees, and CPU time is billed over every thread. Measured here (2 CPUs) on a GC-heavy program:
4 threads and 256-290 ms with GOMAXPROCS=1, 9-10 threads and 320-380 ms with 64 or 128. On
a many-core host the thread count would also press on the box's limit on processes.

cgo stays at its default: the image has no C compiler, so `import "C"` fails to compile, and
the standard library's precompiled cgo packages link as they are (CGO_ENABLED=0 would
rebuild `net` and friends on every compile, 2 s here). Measured: hello world builds in
0.2-0.3 s of CPU and 30-37 MiB, a 100-line program in 0.4 s; the program starts in 2 ms.
"""

from __future__ import annotations

import re

from .recipe import Language, SelfTest

COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)
PACKAGE_MAIN = re.compile(r"^\s*package\s+main\b", re.MULTILINE)  # else go build makes no program: CE

GO = Language(
    id="go",
    name="Go",
    extensions=(".go",),
    source_name="main.go",
    image="go",
    compile=("/usr/bin/go", "build", "-o", "main", "{sources}"),
    main_pattern=r"\bfunc\s+main\s*\(",
    run=("./main",),
    version=("/usr/bin/go", "version"),
    artifacts=(("main", 0o755),),
    env=(("GOMAXPROCS", "1"),),
    main_name=lambda name, text: "main" if PACKAGE_MAIN.search(COMMENT.sub(" ", text)) else None,
    main_required=True,
    self_test=SelfTest(
        source='package main\n\nimport "fmt"\n\nfunc main() {\n\tvar a, b int64\n'
        "\tfmt.Scan(&a, &b)\n\tfmt.Println(a + b)\n}\n",
        stdin="2 3\n",
        expected="5\n",
    ),
)
