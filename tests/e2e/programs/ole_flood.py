import sys

line = "y" * 1023 + "\n"
while True:
    sys.stdout.write(line)
