"""Which statement a reader gets, and the problem's name in that language on every page.

The language: `?lang=xx` on a problem's page when the package has it (remembered in the session,
so the lists and the next problem follow the reader's choice), else the session's earlier choice,
else the best match for the browser's Accept-Language (`sv-SE` takes `sv`), else English, else
the first the package has (judge/problems/statement.py find_statement). Statements are read
from the package once per (package version, language) and kept (STATEMENT_CACHE of them): an
imported package's folder never changes, a new version is a new folder.

The name: what the statement in that language gives (problem.yaml's name for the language, the
LaTeX `\\problemname`), else the name stored at import. Pages that know only problem ids (the
submissions, scoreboards) call the template global `problem_name(id)` (web/pages/contestant.py
registers it), which reads every problem's row once per request. The API's problem documents
and `/problems/{id}/statement` read the same cache (web/api/catalogue.py); `problem_json`, a
problem's document with its statements, is here so that the API and the organisers' pages share it.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from flask import g, request, session, url_for

from judge.problems.statement import Offered, Statement, find_statement, languages, offered, statement_name
from judge.storage import repo
from judge.storage.models import Problem
from web.context import context

STATEMENT_CACHE = 64
SESSION_KEY = "statement_language"

# Shown in the language switcher: each language's name in itself. Others show their code.
AUTONYMS = {
    "en": "English",
    "sv": "Svenska",
    "nb": "Norsk bokmål",
    "no": "Norsk",
    "nn": "Nynorsk",
    "da": "Dansk",
    "fi": "Suomi",
    "is": "Íslenska",
    "de": "Deutsch",
    "nl": "Nederlands",
    "fr": "Français",
    "es": "Español",
    "pt": "Português",
    "pt-BR": "Português (Brasil)",
    "it": "Italiano",
    "pl": "Polski",
    "cs": "Čeština",
    "sk": "Slovenčina",
    "hu": "Magyar",
    "ro": "Română",
    "et": "Eesti",
    "lv": "Latviešu",
    "lt": "Lietuvių",
    "ru": "Русский",
    "uk": "Українська",
    "el": "Ελληνικά",
    "tr": "Türkçe",
    "he": "עברית",
    "ar": "العربية",
    "fa": "فارسی",
    "hi": "हिन्दी",
    "zh": "中文",
    "ja": "日本語",
    "ko": "한국어",
    "vi": "Tiếng Việt",
    "id": "Bahasa Indonesia",
    "th": "ไทย",
    "": "(no language)",
}


def language_name(code: str) -> str:
    return AUTONYMS.get(code, code)


@functools.lru_cache(maxsize=STATEMENT_CACHE)
def _languages(path: str) -> tuple[str, ...]:
    return languages(context().settings.data_dir / path)


@functools.lru_cache(maxsize=STATEMENT_CACHE)
def _statement(path: str, language: str) -> Statement:
    return find_statement(context().settings.data_dir / path, language)


@functools.lru_cache(maxsize=STATEMENT_CACHE * 8)
def offered_in(path: str) -> list[Offered]:
    """The languages of the package at `path` with the name and PDF in each (the API's lists)."""
    return offered(context().settings.data_dir / path)


@functools.lru_cache(maxsize=STATEMENT_CACHE * 8)
def _name(path: str, language: str) -> str:
    return statement_name(context().settings.data_dir / path, language)


def languages_of(path: str) -> tuple[str, ...]:
    """The languages the package at `path` has a statement in ("" for one that names none)."""
    return _languages(path)


def chosen_language(path: str) -> str:
    """The language to show the package at `path` in, for this request (module docstring)."""
    available = _languages(path)
    asked = request.args.get("lang")
    if asked is not None and asked in available:
        session[SESSION_KEY] = asked
        return asked
    kept = session.get(SESSION_KEY)
    if isinstance(kept, str) and kept in available:
        return kept
    best = request.accept_languages.best_match([lang for lang in available if lang])
    return best or "en"


def statement(path: str, language: str | None = None) -> Statement:
    """The statement of the package at `path` in `language` (default: the chosen one)."""
    return _statement(path, chosen_language(path) if language is None else language)


def all_statements(path: str) -> list[Statement]:
    """The package's statement in each of its languages (for its images and PDFs)."""
    return [_statement(path, lang) for lang in _languages(path) or ("en",)]


def shown_name(problem: Problem) -> str:
    """The problem's name in the chosen language, else as stored."""
    try:
        return _name(problem.path, chosen_language(problem.path)) or problem.name
    except OSError:  # the package's folder is gone: the stored name still says what it was
        return problem.name


def problem_name(problem_id: str | None) -> str:
    """The name of the problem with this id in the chosen language; the id if there is none."""
    if not problem_id:
        return ""
    names: dict[str, str] | None = g.get("problem_names")
    if names is None:
        with context().sessions() as db:
            names = {p.id: shown_name(p) for p in repo.list_problems(db)}
        g.problem_names = names
    return names.get(problem_id, problem_id)


def problem_json(p: Problem, *, with_report: bool = False) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": p.id,
        "name": p.name,
        "statements": _statements_of(p),
        "time_limit": p.time_limit_s if p.time_limit_s > 0 else None,
        "memory_limit": p.memory_mib,
        "verification": {"state": "done" if p.verified_at is not None else "pending", "ok": p.verify_ok},
        "created_at": p.created_at.isoformat().replace("+00:00", "Z"),
    }
    if with_report:
        doc["verification"]["report"] = json.loads(p.verify_report) if p.verify_report else None
    return doc


def _statements_of(p: Problem) -> list[dict[str, Any]]:
    """Each language the problem's statement is in: its name there and where to read it."""
    try:
        shown = offered_in(p.path)  # names and PDFs only: no statement converted for a list
    except OSError:  # the package's folder is gone (a worker-only data directory): none to serve
        return []
    return [
        {
            "language": st.language,
            "name": st.name or p.name,
            "url": url_for("api.get_statement", problem_id=p.id, language=st.language or None),
            "pdf": url_for("api.get_statement_pdf", problem_id=p.id, language=st.language or None)
            if st.pdf
            else None,
        }
        for st in shown
    ]
