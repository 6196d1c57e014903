<?php
echo "missing semicolon"
echo "second";
