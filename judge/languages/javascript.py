"""JavaScript on Node.js, CommonJS. `node --check` parses the source, so syntax errors become CE."""

from __future__ import annotations

from .recipe import Language, SelfTest

JAVASCRIPT = Language(
    id="javascript",
    name="JavaScript (Node.js)",
    extensions=(".js",),
    source_name="main.js",
    compile=("/usr/bin/node", "--check", "main.js"),
    run=("/usr/bin/node", "main.js"),
    version=("/usr/bin/node", "--version"),
    self_test=SelfTest(
        source="const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\n"
        "console.log(a + b);\n",
        stdin="2 3\n",
        expected="5\n",
    ),
)
