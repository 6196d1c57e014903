"""The languages the judge knows: an explicit registry, in the order they are shown.

Adding a language is writing one small recipe file beside this one (see recipe.py) and
adding it to LANGUAGES below; nothing is discovered by scanning file names. Ids and
extensions must be unique; `_index` checks that at import, so a clash fails at once.
"""

from __future__ import annotations

from pathlib import PurePath

from ..errors import UnknownLanguage
from .bash import BASH
from .c import C
from .cpp import CPP
from .csharp import CSHARP
from .go import GO
from .haskell import HASKELL
from .java import JAVA
from .javascript import JAVASCRIPT
from .kotlin import KOTLIN
from .lua import LUA
from .pascal import PASCAL
from .php import PHP
from .pypy3 import PYPY3
from .python3 import PYTHON3
from .recipe import Language, SelfTest
from .ruby import RUBY
from .rust import RUST

# The compiled mainstream first, each beside its sibling (C++ by C, PyPy by CPython, Kotlin by
# Java); then the rest of the compiled languages, then the scripting ones.
LANGUAGES: tuple[Language, ...] = (
    C, CPP, PYTHON3, PYPY3, JAVA, KOTLIN, JAVASCRIPT, RUST, GO, CSHARP, HASKELL, PASCAL,
    RUBY, PHP, LUA, BASH,
)


def _index(languages: tuple[Language, ...]) -> tuple[dict[str, Language], dict[str, Language]]:
    by_id: dict[str, Language] = {}
    by_ext: dict[str, Language] = {}
    for lang in languages:
        if lang.id in by_id:
            raise ValueError(f"two languages have the id {lang.id!r}")
        by_id[lang.id] = lang
        for ext in lang.extensions:
            if ext in by_ext:
                raise ValueError(f"{ext} is claimed by both {by_ext[ext].id} and {lang.id}")
            by_ext[ext] = lang
    return by_id, by_ext


_BY_ID, _BY_EXTENSION = _index(LANGUAGES)


def ids() -> list[str]:
    return [lang.id for lang in LANGUAGES]


def by_id(key: str) -> Language:
    """The language with this id; raises UnknownLanguage listing the known ids."""
    try:
        return _BY_ID[key]
    except KeyError:
        raise UnknownLanguage(f"no language has the id {key!r}; known: {', '.join(ids())}") from None


def by_extension(path: str | PurePath) -> Language:
    """The language of a file, from its extension (exact, case included: `.C` is not `.c`)."""
    suffix = PurePath(path).suffix
    try:
        return _BY_EXTENSION[suffix]
    except KeyError:
        known = ", ".join(sorted(_BY_EXTENSION))
        what = f"extension {suffix!r}" if suffix else "no extension"
        raise UnknownLanguage(
            f"cannot tell the language of {PurePath(path).name} ({what}); known extensions: {known}. "
            "Name the language with --lang."
        ) from None


def for_source(path: str | PurePath, key: str | None = None) -> Language:
    """The language named by `key` if given, else the one the file's extension says."""
    return by_id(key) if key is not None else by_extension(path)


def for_submission(names: list[str], key: str | None = None, main: str | None = None) -> Language:
    """The language of a submission: `key` if given, else the entry point's extension (`main`,
    or the only file), else the one language most of the files are written in."""
    if key is not None:
        return by_id(key)
    if main is not None or len(names) == 1:
        return by_extension(main or names[0])
    counts: dict[str, int] = {}
    for name in names:
        lang = _BY_EXTENSION.get(PurePath(name).suffix)
        if lang is not None:
            counts[lang.id] = counts.get(lang.id, 0) + 1
    if not counts:
        raise UnknownLanguage(f"no file of a known language among {', '.join(names)}; name it with --lang")
    best = max(counts.values())
    top = [lang_id for lang_id, n in counts.items() if n == best]
    if len(top) > 1:
        raise UnknownLanguage(f"as many files of {' and '.join(top)}: name the language with --lang")
    return _BY_ID[top[0]]


__all__ = ["LANGUAGES", "Language", "SelfTest", "by_extension", "by_id", "for_source", "for_submission",
           "ids"]
