"""CPython 3 from the image. 'Compiling' only byte-compiles, so syntax errors become CE, not RTE.

Not `-S` (no site module), which would start a few milliseconds sooner: without `site` the
`exit()` and `quit()` builtins are missing, and contestants call them.
"""

from __future__ import annotations

from .recipe import Language, SelfTest

PYTHON3 = Language(
    id="python3",
    name="Python 3",
    extensions=(".py", ".py3"),  # .py3: problemtools' languages.yaml
    source_name="main.py",
    image="python3",
    compile=("/usr/bin/python3", "-m", "py_compile", "{sources}"),
    main_pattern=r"__name__\s*==\s*['\"]__main__['\"]",
    run=("/usr/bin/python3", "{source}"),
    version=("/usr/bin/python3", "--version"),
    self_test=SelfTest(
        source="a, b = map(int, input().split())\nprint(a + b)\n",
        stdin="2 3\n",
        expected="5\n",
    ),
)
