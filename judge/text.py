"""Text a contestant controls, made safe to print where an operator reads it.

`printable` shows control and invisible formatting characters as escapes (`\\x1b`, `\\u202e`),
so an escape sequence in a program's argv, output or file names cannot move an operator's
cursor, retitle the terminal, rewrite what was printed before or hide text (issue 17, finding
9). `PrintableFormatter` does the same to log lines (the web's, which `judge serve` prints on
the operator's terminal), keeping their newlines (tracebacks). Imports nothing but the standard
library, so web/ may use it.
"""

from __future__ import annotations

import logging


def printable(text: str, *, keep: str = "") -> str:
    """`text` with every control, format, surrogate, private-use or line/paragraph separator
    character written as a Python escape; the characters in `keep` (a newline, a tab) stay."""
    if text.isprintable() and not keep:
        return text  # the common case, done in C
    out = []
    for ch in text:
        if ch in keep or ch.isprintable():  # False for Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs but " "
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return "".join(out)


class PrintableFormatter(logging.Formatter):
    """A log formatter whose lines hold no control character but newlines and tabs."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record), keep="\n\t")
