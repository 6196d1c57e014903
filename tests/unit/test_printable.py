"""`judge.cli.display.printable`: what a contestant controls reaches an operator's terminal as text."""

from __future__ import annotations

import pytest

from judge.cli.display import printable


@pytest.mark.parametrize(
    ("raw", "keep", "shown"),
    [
        ("plain text, é and 漢字", "", "plain text, é and 漢字"),
        ("\x1b[2J\x1b]0;title\x07", "", "\\x1b[2J\\x1b]0;title\\x07"),
        ("a\nb\tc\r", "\n\t", "a\nb\tc\\x0d"),
        ("a\nb", "", "a\\x0ab"),
        ("\x9b31m", "", "\\x9b31m"),  # the C1 form of CSI
        ("abc\u202edef\u200b", "", "abc\\u202edef\\u200b"),  # right-to-left override, zero width space
        ("\u2028\udc80", "", "\\u2028\\udc80"),  # a line separator; a byte kept by surrogateescape
        ("\U000f0000", "", "\\U000f0000"),  # private use
    ],
)
def test_printable_escapes_what_a_terminal_would_act_on(raw: str, keep: str, shown: str) -> None:
    assert printable(raw, keep=keep) == shown


def test_log_lines_keep_their_newlines_and_lose_their_escape_sequences() -> None:
    import logging

    from judge.text import PrintableFormatter

    record = logging.LogRecord(
        "web", logging.WARNING, __file__, 1, "refused %s\nnext line\tend", ("\x1b]0;owned\x07",), None
    )
    assert PrintableFormatter("%(message)s").format(record) == "refused \\x1b]0;owned\\x07\nnext line\tend"
