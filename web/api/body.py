"""Request input: JSON bodies parsed without surprises, and only strings that can be stored.

Shared by the JSON API and the Judge0 API (web/judge0.py), which each answer a fault in their
own shape. Two things a JSON body can carry that used to end in a 500:

* nesting deeper than Python's parser goes (`[[[[...]]]]`): json.loads raises RecursionError,
  which Flask's `get_json(silent=True)` lets through; read_json gives None, as for any
  body that is not JSON;
* a string that is not storable text: a lone UTF-16 surrogate (`"\\ud800"` is a valid JSON
  escape with no UTF-8 form, so encoding it raised UnicodeEncodeError), or NUL, which a
  PostgreSQL text column refuses. Program text (`source`, `stdin`, `expected_output`, and
  Judge0's names for them) is stored as bytes, so NUL is fine there and only there.

A URL can carry NUL too (`%00` in a path or a query parameter, which go into queries as ids
and filters): url_fault refuses it before any view runs. Werkzeug decodes a URL's bytes that
are not UTF-8 to U+FFFD, so no surrogate comes that way.
"""

from __future__ import annotations

import re
from typing import Any

from flask import request

BYTES_FIELDS = frozenset({"source", "stdin", "expected_output", "source_code"})
SURROGATE = re.compile("[\ud800-\udfff]")


def read_json() -> Any:
    """The body parsed as JSON; None when it is not JSON or nests too deeply to parse."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


def text_fault(value: str, *, nul_ok: bool = False) -> str | None:
    """Why a string cannot be stored as text, or None when it can."""
    found = SURROGATE.search(value)
    if found is not None:
        return (f"holds a lone UTF-16 surrogate ({found.group().encode('unicode_escape').decode()}), "
                "which is not text; send UTF-8 text")
    if not nul_ok and "\0" in value:
        return "holds a NUL character, which only program text (source, stdin, expected_output) may hold"
    return None


def unstorable(doc: Any) -> str | None:
    """`'path' <why>` for the first string in a parsed JSON document that cannot be stored, or None.

    Walks with a stack of its own, not recursion: the document may be nested nearly as deeply as
    the parser allows. A string's key decides whether it may hold NUL (BYTES_FIELDS); keys are
    not looked at, as no key is stored.
    """
    stack: list[tuple[str, str, Any]] = [("", "", doc)]
    while stack:
        path, key, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((f"{path}.{k}" if path else str(k), str(k), v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", key, v) for i, v in reversed(list(enumerate(value))))
        elif isinstance(value, str):
            fault = text_fault(value, nul_ok=key in BYTES_FIELDS)
            if fault is not None:
                return f"{path!r} {fault}" if path else f"the body {fault}"
    return None


def url_fault() -> str | None:
    """Why this request's URL cannot be looked up, or None: NUL in its path or query."""
    if "\0" in request.path or any("\0" in k or "\0" in v for k, v in request.args.items(multi=True)):
        return "the URL holds a NUL character (%00), which no id or parameter may hold"
    return None
