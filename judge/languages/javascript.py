"""JavaScript on Node.js, CommonJS. `node --check` parses the source, so syntax errors become CE.

Node's own start costs 95-150 ms of CPU here before the program's first line (an empty file,
measured in boxes of the `node` image with `judge run --json`), about what Ruby's does: the
150 ms allowance pays for it, so a 1 s limit leaves the program its second.
"""

from __future__ import annotations

from .recipe import Language, SelfTest

JAVASCRIPT = Language(
    id="javascript",
    name="JavaScript (Node.js)",
    extensions=(".js", ".mjs"),
    source_name="main.js",
    image="node",
    extra_time_ms=150,
    # every file, not only the entry point: a syntax error in a module is CE too (DOMjudge does so)
    compile=("/bin/sh", "-c", 'for f; do /usr/bin/node --check "$f" || exit 1; done', "check", "{sources}"),
    run=("/usr/bin/node", "{source}"),
    version=("/usr/bin/node", "--version"),
    self_test=SelfTest(
        source="const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\n"
        "console.log(a + b);\n",
        stdin="2 3\n",
        expected="5\n",
    ),
)
