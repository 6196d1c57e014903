"""PHP's command-line interpreter. `php -l` lints the source, so parse errors become CE.

Debian's CLI php.ini already sets what a judge wants: no memory_limit of PHP's own (the box's
limit is the one), no max_execution_time, and display_errors off, so warnings go to stderr
and never into the answer. Measured here, an empty script takes 15 ms of CPU and 5 MiB.
"""

from __future__ import annotations

from .recipe import Language, SelfTest

PHP = Language(
    id="php",
    name="PHP",
    extensions=(".php",),
    source_name="main.php",
    image="php",
    compile=("/usr/bin/php", "-l", "{source}"),
    run=("/usr/bin/php", "{source}"),
    version=("/usr/bin/php", "--version"),
    self_test=SelfTest(
        source="<?php\n[$a, $b] = array_map('intval', preg_split('/\\s+/', trim(fgets(STDIN))));\n"
        'echo $a + $b, "\\n";\n',
        stdin="2 3\n",
        expected="5\n",
    ),
)
