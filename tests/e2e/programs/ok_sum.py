import sys

a, b = map(int, sys.stdin.read().split())
print(a + b)
exit(0)  # needs the site module: python3 is not run with -S
