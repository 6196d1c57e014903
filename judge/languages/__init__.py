"""The languages the judge knows: an explicit registry, in the order they are shown.

Three sources: the recipes written in Python beside this file (those that bring code, like
Java's public class, and C and C++, whose shared flags c.py holds), listed in CODED below; the
built-in recipes of `languages.toml` (loader.py says the form), every other language; and the
operator's files named by JUDGE_LANGUAGES (`:` between several), read the first time the
registry is used, not at import. They are shown in SHOWN_FIRST's order, then the files'
order. Nothing is discovered by scanning file names. Ids and
extensions must be unique across all three; `_index` checks that, so a clash (an operator's
recipe taking `.c`, say) fails at once, naming both.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path, PurePath

from ..errors import UnknownLanguage
from .c import C
from .cpp import CPP
from .go import GO
from .haskell import HASKELL
from .java import JAVA
from .kotlin import KOTLIN
from .loader import BUILTIN, LanguageFileError, load
from .recipe import Language, SelfTest

CODED: tuple[Language, ...] = (C, CPP, JAVA, KOTLIN, GO, HASKELL)
# The order languages are shown in: the compiled mainstream first, each beside its sibling (C++
# by C, PyPy by CPython, Kotlin by Java), then the rest of the compiled languages, then the
# scripting ones; languages.toml's and the operator's others after these, in their files' order.
SHOWN_FIRST = (
    "c",
    "cpp",
    "python3",
    "pypy3",
    "java",
    "kotlin",
    "javascript",
    "rust",
    "go",
    "csharp",
    "haskell",
    "pascal",
    "ruby",
    "php",
    "lua",
    "bash",
)


def _index(languages: tuple[Language, ...]) -> tuple[dict[str, Language], dict[str, Language]]:
    by_id: dict[str, Language] = {}
    by_ext: dict[str, Language] = {}
    for lang in languages:
        if lang.id in by_id:
            raise LanguageFileError(f"two languages have the id {lang.id!r}")
        by_id[lang.id] = lang
        for ext in lang.extensions:
            if ext in by_ext:
                raise LanguageFileError(f"{ext} is claimed by both {by_ext[ext].id} and {lang.id}")
            by_ext[ext] = lang
    return by_id, by_ext


def operator_files() -> list[Path]:
    """The operator's recipe files: JUDGE_LANGUAGES, `:` between several; none when unset."""
    from ..service.settings import Settings  # not at the top: the registry is below the service

    return Settings.from_env().language_files


@cache
def _registry() -> tuple[tuple[Language, ...], dict[str, Language], dict[str, Language]]:
    found = CODED + load(BUILTIN)
    for path in operator_files():
        found += load(path)
    first = {key: i for i, key in enumerate(SHOWN_FIRST)}
    found = tuple(sorted(found, key=lambda lang: first.get(lang.id, len(first))))  # stable: files' order
    return (found, *_index(found))


def reload() -> None:
    """Read the recipe files again at the next lookup (tests; a changed JUDGE_LANGUAGES)."""
    _registry.cache_clear()


def __getattr__(name: str) -> tuple[Language, ...]:
    if name == "LANGUAGES":  # every language, in order: computed on first use (PEP 562)
        return _registry()[0]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _by_id() -> dict[str, Language]:
    return _registry()[1]


def _by_extension() -> dict[str, Language]:
    return _registry()[2]


def ids() -> list[str]:
    return [lang.id for lang in _registry()[0]]


def by_id(key: str) -> Language:
    """The language with this id; raises UnknownLanguage listing the known ids."""
    try:
        return _by_id()[key]
    except KeyError:
        raise UnknownLanguage(f"no language has the id {key!r}; known: {', '.join(ids())}") from None


def by_extension(path: str | PurePath) -> Language:
    """The language of a file, from its extension (exact, case included: `.C` is not `.c`)."""
    suffix = PurePath(path).suffix
    try:
        return _by_extension()[suffix]
    except KeyError:
        known = ", ".join(sorted(_by_extension()))
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
        lang = _by_extension().get(PurePath(name).suffix)
        if lang is not None:
            counts[lang.id] = counts.get(lang.id, 0) + 1
    if not counts:
        raise UnknownLanguage(f"no file of a known language among {', '.join(names)}; name it with --lang")
    best = max(counts.values())
    top = [lang_id for lang_id, n in counts.items() if n == best]
    if len(top) > 1:
        raise UnknownLanguage(f"as many files of {' and '.join(top)}: name the language with --lang")
    return _by_id()[top[0]]


__all__ = [
    "CODED",
    "LANGUAGES",
    "Language",
    "LanguageFileError",
    "SelfTest",
    "by_extension",
    "by_id",
    "for_source",
    "for_submission",
    "ids",
    "reload",
]
