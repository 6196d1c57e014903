import sys

print(sys.argv)
return 1  # noqa: F706 - CPython refuses this at compile time: CE, not RTE
