"""A problem's statement and samples as contestants see them: safe HTML, a PDF, or nothing.

Reads only; never runs anything (no LaTeX, no pandoc). The web inserts `Statement.html` into
its pages and serves `Statement.images` and `Statement.pdf` itself. The package is the
organiser's, but its HTML is treated as untrusted: every format ends in one nh3 pass with a
tight allow-list (ALLOWED_TAGS): no script, no event handlers, no style, no iframes, objects or
forms, links only to http, https or relative addresses, and images only from files of the
package. The page's Content-Security-Policy is the second wall, not the first.

Where the statement is (find_statement), for each language in turn (the one asked for, then
"en", then files without a language, then every other language found, sorted):

  statement/problem.<lang>.{md,html,pdf,tex}          2023-07 and 2025-09 (pdf before tex: the
                                                      PDF is exact, our LaTeX reading is not)
  problem_statement/problem.<lang>.{tex,md,html,pdf}  legacy
  problem_statement/problem.tex                       legacy, no language: reported as ""
  problem.{md,html,pdf,txt} at the top                DOMjudge, no language: reported as ""

Images: a statement refers to images relative to its own folder. A reference is kept only if
it names a file inside that folder (no `..`, no absolute path, no scheme, no hidden names)
whose real path stays inside the package, with an image extension (IMAGE_SUFFIXES). Its `src`
becomes `images/<name>` and `Statement.images[name]` the file; any other `<img>` is removed.
SVG is allowed (2025-09 allows it in Markdown statements): an `<img>` never runs an SVG's
script, but a page that opens the file directly would, so the web must serve these files with
`Content-Security-Policy: sandbox` (or as attachments).

LaTeX is read, not typeset, by judge/problems/latex.py; its HTML goes through the same
sanitising as every other format. Math in LaTeX and Markdown (`$…$`, `$$…$$`, `\\(…\\)`,
`\\[…\\]`, equation environments) becomes MathML on the server (judge/problems/mathml.py), which
the sanitiser lets through element by element (MATHML_TAGS): the page needs no script for it.

Samples (samples): the sample group's cases in name order (judging order, for the usual flat
data/sample), shown as the 2025-09 spec says: `X.in.statement` over `X.in`; `X.ans.statement`,
then `X.out`, over `X.ans` (2023-07 and later only). A case with `X.interaction` is shown as
that interaction: the spec says two files do not "meaningfully capture" an interactive or
multi-pass exchange, and `X.in` there is the validator's input, not the program's. An
`.interaction` without `.in` (an illustration, not a judged case) is shown too, in name order.
"""

from __future__ import annotations

import html as htmllib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import nh3
import yaml
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from . import latex, mathml
from .archive import follow_text_link
from .files import IMAGE_SUFFIXES, files_under
from .model import ProblemPackage

SAMPLE_BYTES = 64 * 1024  # shown of each sample file; the rest is cut with a note

ALLOWED_TAGS = (
    frozenset(
        {
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "p",
            "br",
            "hr",
            "blockquote",
            "div",
            "span",
            "ul",
            "ol",
            "li",
            "dl",
            "dt",
            "dd",
            "table",
            "thead",
            "tbody",
            "tfoot",
            "tr",
            "th",
            "td",
            "caption",
            "code",
            "pre",
            "em",
            "strong",
            "sub",
            "sup",
            "a",
            "img",
            "figure",
            "figcaption",
        }
    )
    | mathml.MATHML_TAGS
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
} | mathml.MATHML_ATTRIBUTES
# Classes are how the page itself is styled, so a statement gets only the ones we give meaning
# to; any other could dress statement text as the site's own messages or buttons.
ALLOWED_CLASSES = frozenset({"math", "illustration", "caption", "nextsample", "remainingsamples"})
FIGURE_CLASSES = frozenset({"figure", "table", "illustration"})
# removed with everything inside them (nh3 keeps the text of other refused tags)
DROPPED_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "template",
        "noscript",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "svg",
        "title",
        "textarea",
        "select",
        "button",
    }
)


@dataclass(frozen=True, slots=True)
class Statement:
    kind: str  # "html" (we rendered or sanitised it), "pdf", or "none"
    html: str  # safe HTML to insert in the page ("" for pdf/none)
    pdf: Path | None  # the package's PDF of this statement (kind "pdf", or beside the html), served apart
    language: str  # "en", ... the statement's language code ("" when the file names none)
    source: str  # the file it came from, relative to the package root ("" for none)
    images: dict[str, Path]  # name as referenced in the html -> file in the package, only those used
    name: str = ""  # the problem's name in this language (problem_name), "" when the package gives none
    languages: tuple[str, ...] = ()  # every language the package has a statement in (languages())


@dataclass(frozen=True, slots=True)
class Sample:
    name: str  # the case's name within data/sample: "1", "group/2"
    input: str  # text, decoded UTF-8 with replacement; cut at SAMPLE_BYTES with a "…" note
    output: str


# --- where the statement is -----------------------------------------------------------------------

LANGUAGE = r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})?"  # ISO 639, optionally with a region (BCP 47)
LANG_FILE = re.compile(rf"problem\.({LANGUAGE})\.(md|html|pdf|tex)")
NO_LANGUAGE = ("problem_statement/problem.tex", "problem.md", "problem.html", "problem.pdf", "problem.txt")


def languages(root: Path) -> tuple[str, ...]:
    """The languages the package at `root` has a statement in, sorted; "" stands for a statement
    whose file names no language (`problem_statement/problem.tex`, DOMjudge's `problem.pdf`)."""
    root = Path(root)
    found = {
        m.group(1)
        for folder in ("statement", "problem_statement")
        if (root / folder).is_dir()
        for p in (root / folder).iterdir()
        if (m := LANG_FILE.fullmatch(p.name)) and p.is_file() and _inside(root, p)
    }
    if any((root / name).is_file() for name in NO_LANGUAGE):
        found.add("")
    return tuple(sorted(found))


def _files(lang: str) -> tuple[str, ...]:
    if lang == "":
        return NO_LANGUAGE
    return (
        *(f"statement/problem.{lang}.{ext}" for ext in ("md", "html", "tex", "pdf")),
        *(f"problem_statement/problem.{lang}.{ext}" for ext in ("tex", "md", "html", "pdf")),
    )


def find_statement(root: Path, language: str = "en") -> Statement:
    """The statement of the package at `root` in `language`, else in the first language found.

    `language` may come from a request: one that is not a language code is not looked for.
    """
    root = Path(root)
    found = languages(root)
    chosen = _choose(root, language, found)
    if chosen is None:
        asked = language if re.fullmatch(LANGUAGE, language) else "en"
        return Statement(
            kind="none",
            html="",
            pdf=None,
            language="",
            source="",
            images={},
            name=problem_name(root, asked, None),
            languages=found,
        )
    path, lang = chosen
    st = _read(root, path, lang)
    return replace(
        st, pdf=st.pdf or _pdf(root, lang), name=problem_name(root, lang, st.source), languages=found
    )


def statement_name(root: Path, language: str = "en") -> str:
    """The problem's name as find_statement(root, language) gives it, without reading the statement
    through (lists of problems need only the names)."""
    root = Path(root)
    chosen = _choose(root, language, languages(root))
    if chosen is None:
        return problem_name(root, language if re.fullmatch(LANGUAGE, language) else "en", None)
    path, lang = chosen
    return problem_name(root, lang, path.relative_to(root).as_posix())


@dataclass(frozen=True, slots=True)
class Offered:
    """One language a package has a statement in, as lists need it (nothing converted)."""

    language: str
    name: str  # the problem's name in it, as find_statement gives it
    pdf: Path | None  # the package's PDF of it, if any


def offered(root: Path) -> list[Offered]:
    """Each language the package at `root` has a statement in, with the name and PDF that
    find_statement(root, language) would give, without reading any statement through."""
    root = Path(root)
    found = languages(root)
    shown: list[Offered] = []
    for language in found:
        chosen = _choose(root, language, found)
        if chosen is not None and chosen[1] == language:
            path, _ = chosen
            source = path.relative_to(root).as_posix()
            pdf = path if path.suffix.lower() == ".pdf" else _pdf(root, language)
            shown.append(Offered(language=language, name=problem_name(root, language, source), pdf=pdf))
    return shown


def _choose(root: Path, language: str, found: tuple[str, ...]) -> tuple[Path, str] | None:
    """The statement file find_statement reads for `language`, and its language."""
    asked = [language] if re.fullmatch(LANGUAGE, language) else []
    for lang in dict.fromkeys([*asked, "en", "", *found]):
        for name in _files(lang):
            path = root / name
            if path.is_file() and _inside(root, path):
                return path, lang
    return None


def _pdf(root: Path, lang: str) -> Path | None:
    """The package's PDF of the statement in `lang`, else its one PDF without a language."""
    for name in (
        *(f"{d}/problem.{lang}.pdf" for d in ("statement", "problem_statement") if lang),
        "problem_statement/problem.pdf",
        "problem.pdf",
    ):
        if (root / name).is_file() and _inside(root, root / name):
            return root / name
    return None


def problem_name(root: Path, lang: str, source: str | None) -> str:
    """The problem's name in `lang`: problem.yaml's `name` for that language (a map of languages to
    names, 2023-07 and later; a plain string is the English name), else the statement's
    `\\problemname{}` (LaTeX), else problem.yaml's name in any language, else DOMjudge's
    `domjudge-problem.ini` name; "" if none of them."""
    meta: Any = {}
    try:
        meta = yaml.safe_load((root / "problem.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        pass
    named = meta.get("name") if isinstance(meta, dict) else None
    if isinstance(named, dict) and isinstance(named.get(lang), str) and named[lang].strip():
        return " ".join(str(named[lang]).split())
    plain = isinstance(named, str | int | float) and not isinstance(named, bool) and str(named).strip()
    if plain and lang in ("en", ""):
        return " ".join(str(named).split())
    if source is not None and source.endswith(".tex"):
        try:
            text = (root / source).read_bytes().decode("utf-8", errors="replace")
            if found := latex.problem_name(text):
                return found
        except (OSError, RecursionError):
            pass
    if plain:
        return " ".join(str(named).split())
    if isinstance(named, dict):  # a map without this language: English, else its first
        first = named.get("en", next(iter(named.values()), ""))
        if isinstance(first, str) and first.strip():
            return " ".join(first.split())
    ini = root / "domjudge-problem.ini"
    if ini.is_file():
        m = re.search(r"^\s*name\s*=\s*['\"]?(.*?)['\"]?\s*$", ini.read_text("utf-8", errors="replace"), re.M)
        if m and m.group(1).strip():
            return m.group(1).strip()
    return ""


def _read(root: Path, path: Path, language: str) -> Statement:
    source = path.relative_to(root).as_posix()
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return Statement(kind="pdf", html="", pdf=path, language=language, source=source, images={})
    text = path.read_bytes().decode("utf-8", errors="replace").removeprefix("\ufeff")
    if suffix == ".md":
        raw = _markdown(text)
    elif suffix == ".tex":
        try:
            raw = latex.to_html(text, path.parent)
        except RecursionError:  # braces or environments nested thousands deep: show the source
            raw = f"<pre>{htmllib.escape(text)}</pre>"
    elif suffix == ".txt":
        raw = f"<pre>{htmllib.escape(text)}</pre>"
    else:
        raw = text
    images: dict[str, Path] = {}

    def image(src: str) -> str | None:
        name = _image_name(src, path.parent, root)
        if name is None:
            return None
        images[name] = path.parent / name
        return "images/" + quote(name)

    safe = _clean(raw, image)
    return Statement(kind="html", html=safe, pdf=None, language=language, source=source, images=images)


def _inside(root: Path, p: Path) -> bool:
    """Whether `p`'s real path (links followed) is inside the package."""
    return Path(os.path.realpath(p)).is_relative_to(os.path.realpath(root))


def _image_name(src: str, folder: Path, root: Path) -> str | None:
    """The file `src` names inside `folder`, as a relative name, or None if it may not be shown."""
    if "\\" in src or any(ord(c) < 32 for c in src):
        return None
    parts = urlsplit(src.strip())
    path = unquote(parts.path)
    if parts.scheme or parts.netloc or not path or path.startswith("/"):
        return None
    segments = [s for s in path.split("/") if s not in ("", ".")]
    if not segments or any(s == ".." or s.startswith(".") for s in segments):
        return None
    name = "/".join(segments)
    p = folder / name
    try:
        if p.suffix.lower() not in IMAGE_SUFFIXES or not p.is_file() or not _inside(root, p):
            return None
    except OSError:  # a name too long for the file system, say
        return None
    return name


# --- sanitising ------------------------------------------------------------------------------------


def sanitise_html(html: str) -> str:
    """`html` with only the allow-listed tags and attributes; images only from relative paths.

    For a statement, find_statement goes further: images must also be files of the package,
    and their paths are rewritten to `images/<name>`.
    """
    return _clean(html, _relative_image)


def _relative_image(src: str) -> str | None:
    parts = urlsplit(src.strip())
    if (
        "\\" in src
        or parts.scheme
        or parts.netloc
        or not parts.path
        or parts.path.startswith("/")
        or ".." in unquote(parts.path).split("/")
    ):
        return None
    return src.strip()


# nh3 writes attribute values quoted, with " < > escaped, so a tag ends at its first ">"
IMG_TAG = re.compile(r"<img\b[^>]*>")
EMPTY_CLASS = re.compile(r'(<(?:div|span|figure)\b[^>]*?) class=""')  # left when no class was allowed


def _clean(html: str, image: Callable[[str], str | None]) -> str:
    """One nh3 pass; `image` maps an img's src to the src to keep, or None to drop the image."""

    def attribute(tag: str, name: str, value: str) -> str | None:
        # an exception here would go to sys.unraisablehook, not to our caller: drop the image
        try:
            return image(value) if (tag, name) == ("img", "src") else value
        except (OSError, ValueError):
            return None

    cleaned = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=attribute,
        url_schemes={"http", "https"},
        allowed_classes={"div": ALLOWED_CLASSES, "span": ALLOWED_CLASSES, "figure": FIGURE_CLASSES},
        strip_comments=True,
    )
    cleaned = EMPTY_CLASS.sub(r"\1", cleaned)
    return IMG_TAG.sub(lambda m: m.group(0) if ' src="' in m.group(0) else "", cleaned)


# --- Markdown --------------------------------------------------------------------------------------

SAMPLE_TAGS = re.compile(r"\{\{\s*(nextsample|remainingsamples)\s*\}\}")  # where the samples go
SLOT = re.compile("(?:<p>)?\ue002(nextsample|remainingsamples)\ue003(?:</p>)?")
FOOTNOTE = re.compile(r"^\[\^([^\]\s]+)\]:[ \t]*(.*(?:\n(?:[ \t]{2,}|\t)\S.*)*)\n?", re.M)
FOOTNOTE_REF = re.compile(r"\[\^([^\]\s]+)\]")


def render_markdown(text: str) -> str:
    """CommonMark with tables and footnotes, raw HTML off, `$…$` and `$$…$$` kept as text; sanitised."""
    return sanitise_html(_markdown(text))


def _markdown(text: str) -> str:
    """Markdown as HTML, not yet sanitised.

    Footnotes (which 2025-09 asks for, from Markdown Guide's extended syntax) are done here
    rather than by a plugin: definitions are taken out, each `[^label]` becomes a number, and
    the notes follow the text in a numbered list. No ids or back links: ids are not allowed.
    """
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table")
    md.inline.ruler.before("escape", "math", _math_rule)
    md.inline.ruler.before("link", "footnote", _footnote_rule)
    md.add_render_rule("math", _render_math)
    md.add_render_rule("footnote", _render_footnote)
    notes = {m.group(1): m.group(2).strip() for m in FOOTNOTE.finditer(text)}
    env: dict[str, Any] = {"footnotes": notes, "footnote_order": []}
    text = SAMPLE_TAGS.sub("\ue002\\1\ue003", text.replace("\ue002", "").replace("\ue003", ""))
    rendered: str = md.render(FOOTNOTE.sub("", text), env)  # typed Any upstream
    rendered = SLOT.sub(r'<div class="\1"></div>', rendered)
    order: list[str] = env["footnote_order"]
    if order:
        items = "".join(f"<li>{md.renderInline(notes[label], env)}</li>" for label in order)
        rendered += f"<hr><ol>{items}</ol>"
    return rendered


def _footnote_rule(state: StateInline, silent: bool) -> bool:
    m = FOOTNOTE_REF.match(state.src, state.pos, state.posMax)
    if m is None or m.group(1) not in state.env.get("footnotes", {}):
        return False
    if not silent:
        order: list[str] = state.env["footnote_order"]
        if m.group(1) not in order:
            order.append(m.group(1))
        token = state.push("footnote", "", 0)
        token.content = str(order.index(m.group(1)) + 1)
    state.pos = m.end()
    return True


def _render_footnote(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    return f"<sup>[{tokens[idx].content}]</sup>"


def _math_rule(state: StateInline, silent: bool) -> bool:
    """`$…$` or `$$…$$` as one token, so Markdown does not read `_` or `*` inside math.

    As pandoc: an inline `$` must not be followed by a space, and its closing `$` not preceded
    by one nor followed by a digit, so "costs $5 and $10" stays prose.
    """
    src, start = state.src, state.pos
    if src[start] != "$":
        return False
    if src.startswith("$$", start):
        end = src.find("$$", start + 2)
        if end < 0 or end == start + 2:
            return False
        stop = end + 2
    else:
        end = start + 1
        while True:
            end = src.find("$", end)
            if end < 0:
                return False
            if src[end - 1] != "\\":
                break
            end += 1
        inner = src[start + 1 : end]
        if (
            not inner
            or inner[0].isspace()
            or inner[-1].isspace()
            or (end + 1 < len(src) and src[end + 1].isdigit())
        ):
            return False
        stop = end + 1
    if stop > state.posMax:
        return False
    if not silent:
        token = state.push("math", "", 0)
        token.content = src[start:stop]
    state.pos = stop
    return True


def _render_math(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    return mathml.render(tokens[idx].content)


# --- LaTeX -----------------------------------------------------------------------------------------


def samples(problem: ProblemPackage) -> list[Sample]:
    """The sample cases as shown in the statement, in name order (see the module docstring)."""
    data = problem.root / "data"
    shown: dict[str, Sample] = {}
    newer = problem.format in ("2023-07", "2025-09")
    for case in problem.cases():
        if not case.is_sample:
            continue
        name = case.name.removeprefix("sample/")
        if case.interaction is not None:
            shown[name] = Sample(name=name, input=_text(case.interaction), output="")
            continue
        given: Path | None = case.input
        answer: Path | None = case.answer
        if newer:  # 2023-07 and later: what the statement shows may differ from what is judged
            base = data / case.name
            given = _variant(problem.root, base, ".in.statement") or given
            answer = (
                _variant(problem.root, base, ".ans.statement")
                or _variant(problem.root, base, ".out")
                or answer
            )
        shown[name] = Sample(
            name=name, input=_text(given) if given else "", output=_text(answer) if answer else ""
        )
    sample_dir = data / "sample"
    for p in files_under(sample_dir) if sample_dir.is_dir() else []:
        if p.suffix == ".interaction" and not p.with_suffix(".in").exists():
            name = p.relative_to(sample_dir).with_suffix("").as_posix()
            shown.setdefault(
                name, Sample(name=name, input=_text(follow_text_link(problem.root, p, [])), output="")
            )
    return [shown[k] for k in sorted(shown)]


def _variant(root: Path, base: Path, suffix: str) -> Path | None:
    p = base.parent / (base.name + suffix)
    return follow_text_link(root, p, []) if p.is_file() else None


def _text(path: Path) -> str:
    """A sample file as text: UTF-8 with replacement, the first SAMPLE_BYTES and a note if longer."""
    with open(path, "rb") as f:
        data = f.read(SAMPLE_BYTES + 1)
    if len(data) <= SAMPLE_BYTES:
        return data.decode("utf-8", errors="replace")
    size = os.path.getsize(path)
    cut = SAMPLE_BYTES
    while cut > SAMPLE_BYTES - 3 and (data[cut] & 0xC0) == 0x80:
        cut -= 1  # back to the start of the character the limit splits
    text = data[:cut].decode("utf-8", errors="replace")
    return f"{text}{'' if text.endswith(chr(10)) else chr(10)}… (cut: the first {cut} of {size} bytes)\n"
