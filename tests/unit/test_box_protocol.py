"""Messages between the keeper and boxinit (sandbox/protocol.py): NUL-separated tokens, checked."""

from __future__ import annotations

import pytest

from sandbox import protocol


def test_tokens_are_joined_by_nul_and_terminated() -> None:
    assert protocol.encode(["go", "arg", "./prog", ""]) == b"go\0arg\0./prog\0\0"
    assert protocol.encode([]) == b"\0"


def test_bytes_that_are_not_utf8_go_through_as_they_were() -> None:
    """A file name of the host in undecodable bytes reaches boxinit as those bytes (surrogateescape)."""
    name = b"caf\xe9".decode("utf-8", "surrogateescape")
    assert protocol.encode(["arg", name]) == b"arg\0caf\xe9\0"


def test_a_nul_inside_a_token_is_refused_naming_the_token() -> None:
    """It would split the token in two on boxinit's side: an argument would become two."""
    with pytest.raises(ValueError, match=r"NUL byte: 'x\\x00y'"):
        protocol.encode(["go", "arg", "x\0y", "arg", "z"])


def test_a_message_over_the_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="over"):
        protocol.encode(["arg", "a" * protocol.MAX_MESSAGE])
