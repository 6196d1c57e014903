<?php
// PHP warns about the undefined variable; display_errors is off in the CLI's php.ini, so the
// warning goes to stderr and the answer on stdout stays clean.
echo "Hello, " . $undefined . "world!\n";
