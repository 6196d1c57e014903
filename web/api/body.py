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

What a body may cost is bounded before it is parsed (issue 17, finding 4). Each route reads at
most its own number of bytes (web/app.py, BODY_LIMITS: 1 MiB by default, 40 MiB for the routes
that take a submission with its stdin and expected output, 256 MiB for package and batch
uploads, which Werkzeug spools to disk and the views read from there). Parsed JSON costs far
more than its bytes in containers and values: 24 MiB of `[],` made 8 million lists, 685 MB.
So json_fault counts the containers and values outside strings first, refusing more than
MAX_CONTAINERS and MAX_VALUES, with C-speed byte counts (removing escaped quotes and splitting
on the rest leaves what lies outside strings); a body whose raw counts are below the bounds
skips even that.

A URL can carry NUL too (`%00` in a path or a query parameter, which go into queries as ids
and filters): url_fault refuses it before any view runs. Werkzeug decodes a URL's bytes that
are not UTF-8 to U+FFFD, so no surrogate comes that way.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import g, request

BYTES_FIELDS = frozenset({"source", "stdin", "expected_output", "source_code"})
SURROGATE = re.compile("[\ud800-\udfff]")
MAX_CONTAINERS = 10_000  # objects and arrays in one body; a batch of 100 submissions has about 200
MAX_VALUES = 200_000  # commas outside strings: items of arrays and members of objects
_UNREAD = object()


def read_json() -> Any:
    """The body parsed as JSON, once per request; None when it is not JSON, costs more to parse
    than json_fault allows, or nests too deeply to parse (json_fault() then says why)."""
    doc = g.get("judge_json", _UNREAD)
    if doc is not _UNREAD:
        return doc
    doc, g.judge_json_fault = None, None
    if request.is_json:
        data = request.get_data(cache=True)  # at most the route's bytes, else 413
        fault = g.judge_json_fault = cost_fault(data)
        if fault is None:
            try:
                doc = json.loads(data)
            except RecursionError:
                g.judge_json_fault = "the body nests too deeply"
            except ValueError:
                pass
    g.judge_json = doc
    return doc


def json_fault() -> str | None:
    """Why read_json() gave None for a JSON body that was too costly, or None."""
    fault: str | None = g.get("judge_json_fault")
    return fault


def cost_fault(data: bytes) -> str | None:
    """Why parsing `data` as JSON would cost too much (MAX_CONTAINERS, MAX_VALUES), or None."""
    containers, values = data.count(b"[") + data.count(b"{"), data.count(b",")
    if containers <= MAX_CONTAINERS and values <= MAX_VALUES:
        return None  # even if every one of them lies outside a string
    # Outside strings: drop escaped backslashes, then escaped quotes; the quotes left delimit
    # strings, so every other piece between them is outside. (No copy when there is nothing
    # to drop or split: bytes.replace, split and join give the same object back.)
    outside = b"".join(data.replace(b"\\\\", b"").replace(b'\\"', b"").split(b'"')[0::2])
    containers, values = outside.count(b"[") + outside.count(b"{"), outside.count(b",")
    if containers > MAX_CONTAINERS:
        return f"the body holds {containers} arrays and objects; at most {MAX_CONTAINERS} are taken"
    if values > MAX_VALUES:
        return f"the body holds {values} values; at most {MAX_VALUES} are taken"
    return None


def text_fault(value: str, *, nul_ok: bool = False) -> str | None:
    """Why a string cannot be stored as text, or None when it can."""
    found = SURROGATE.search(value)
    if found is not None:
        return (
            f"holds a lone UTF-16 surrogate ({found.group().encode('unicode_escape').decode()}), "
            "which is not text; send UTF-8 text"
        )
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
