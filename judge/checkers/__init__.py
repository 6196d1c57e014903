"""Checkers: whether a program's output is right (default.py: the format's default output
validator; validator.py: custom output validators in the Kattis and testlib protocols)."""
