"""Bash scripts on the base image. `bash -n` parses without running, so syntax errors become CE.

The base image is Debian's minbase: coreutils, grep, sed and the like are there, awk is mawk,
bc is not (bash's own `$(( ))` does integers). An empty script takes 2 ms.
"""

from __future__ import annotations

from .recipe import Language, SelfTest

BASH = Language(
    id="bash",
    name="Bash",
    extensions=(".sh", ".bash"),
    source_name="main.sh",
    image="base",
    compile=("/bin/bash", "-n", "{source}"),
    run=("/bin/bash", "{source}"),
    version=("/bin/bash", "--version"),
    self_test=SelfTest(
        source="read -r a b\necho $((a + b))\n",
        stdin="2 3\n",
        expected="5\n",
    ),
)
