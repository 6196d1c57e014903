# CPython refuses this when it compiles the file, though the file parses (ruff lints this
# folder, and a parse error cannot be excused with noqa): a SyntaxError, so CE, not RTE.
print("never run")
break  # noqa: F701
