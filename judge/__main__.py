"""`python -m judge`: the `judge` command, for when the console script is not on PATH."""

from judge.cli import main

main()
