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

LaTeX is read, not typeset (_Latex): sections, lists, tables, emphasis, verbatim, images and
links become HTML, math stays as its source text in `<span class="math">` (as in Markdown), for
a client-side renderer or for reading as is. Comments are removed first, so jury notes in `%`
lines never reach the page. Unknown commands keep the text of their arguments.

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
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from .archive import follow_text_link
from .files import files_under
from .model import Problem

SAMPLE_BYTES = 64 * 1024  # shown of each sample file; the rest is cut with a note
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg"})

ALLOWED_TAGS = frozenset({
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote", "div", "span",
    "ul", "ol", "li", "dl", "dt", "dd",
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption",
    "code", "pre", "em", "strong", "sub", "sup", "a", "img",
})
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
# Classes are how the page itself is styled, so a statement gets only the ones we give meaning
# to; any other could dress statement text as the site's own messages or buttons.
ALLOWED_CLASSES = frozenset({"math", "illustration", "caption"})
# removed with everything inside them (nh3 keeps the text of other refused tags)
DROPPED_WITH_CONTENT = frozenset({
    "script", "style", "template", "noscript", "iframe", "frame", "frameset", "object", "embed",
    "applet", "svg", "math", "title", "textarea", "select", "button",
})


@dataclass(frozen=True, slots=True)
class Statement:
    kind: str  # "html" (we rendered or sanitised it), "pdf", or "none"
    html: str  # safe HTML to insert in the page ("" for pdf/none)
    pdf: Path | None  # the PDF file in the package, for kind == "pdf" (served separately)
    language: str  # "en", ... the statement's language code ("" when the file names none)
    source: str  # the file it came from, relative to the package root ("" for none)
    images: dict[str, Path]  # name as referenced in the html -> file in the package, only those used


@dataclass(frozen=True, slots=True)
class Sample:
    name: str  # the case's name within data/sample: "1", "group/2"
    input: str  # text, decoded UTF-8 with replacement; cut at SAMPLE_BYTES with a "…" note
    output: str


# --- where the statement is -----------------------------------------------------------------------

LANGUAGE = r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})?"  # ISO 639, optionally with a region (BCP 47)
LANG_FILE = re.compile(rf"problem\.({LANGUAGE})\.(md|html|pdf|tex)")
NO_LANGUAGE = ("problem_statement/problem.tex", "problem.md", "problem.html", "problem.pdf",
               "problem.txt")


def find_statement(root: Path, language: str = "en") -> Statement:
    """The statement of the package at `root` in `language`, else in the first language found.

    `language` may come from a request: one that is not a language code is not looked for.
    """
    root = Path(root)
    found = sorted({m.group(1) for folder in ("statement", "problem_statement")
                    if (root / folder).is_dir() for p in (root / folder).iterdir()
                    if (m := LANG_FILE.fullmatch(p.name))})
    asked = [language] if re.fullmatch(LANGUAGE, language) else []
    for lang in dict.fromkeys([*asked, "en", "", *found]):
        names = NO_LANGUAGE if lang == "" else (
            *(f"statement/problem.{lang}.{ext}" for ext in ("md", "html", "pdf", "tex")),
            *(f"problem_statement/problem.{lang}.{ext}" for ext in ("tex", "md", "html", "pdf")))
        for name in names:
            path = root / name
            if path.is_file() and _inside(root, path):
                return _read(root, path, lang)
    return Statement(kind="none", html="", pdf=None, language="", source="", images={})


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
            raw = _Latex(path.parent).convert(text)
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
    if ("\\" in src or parts.scheme or parts.netloc or not parts.path or parts.path.startswith("/")
            or ".." in unquote(parts.path).split("/")):
        return None
    return src.strip()


# nh3 writes attribute values quoted, with " < > escaped, so a tag ends at its first ">"
IMG_TAG = re.compile(r"<img\b[^>]*>")
EMPTY_CLASS = re.compile(r'(<(?:div|span)\b[^>]*?) class=""')  # left when no class was allowed


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
        allowed_classes={"div": ALLOWED_CLASSES, "span": ALLOWED_CLASSES},
        strip_comments=True,
    )
    cleaned = EMPTY_CLASS.sub(r"\1", cleaned)
    return IMG_TAG.sub(lambda m: m.group(0) if ' src="' in m.group(0) else "", cleaned)


# --- Markdown --------------------------------------------------------------------------------------

SAMPLE_TAGS = re.compile(r"\{\{\s*(?:nextsample|remainingsamples)\s*\}\}")  # we show samples ourselves
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
    rendered: str = md.render(FOOTNOTE.sub("", SAMPLE_TAGS.sub("", text)), env)  # typed Any upstream
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
        inner = src[start + 1:end]
        if (not inner or inner[0].isspace() or inner[-1].isspace()
                or (end + 1 < len(src) and src[end + 1].isdigit())):
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
    return f'<span class="math">{htmllib.escape(tokens[idx].content)}</span>'


# --- LaTeX -----------------------------------------------------------------------------------------

HOLD = re.compile("\ue000(\\d+)\ue001")  # a piece of finished HTML kept aside while converting
VERBATIM = re.compile(r"\\begin\{(verbatim|lstlisting|Verbatim|minted)\}(?:\[[^\]\n]*\])?(?:\{[^}\n]*\})?"
                      r"\n?(.*?)\\end\{\1\}", re.S)
VERB = re.compile(r"\\verb\*?([^A-Za-z\s*])(.*?)\1")
COMMENT = re.compile(r"(?<!\\)((?:\\\\)*)%[^\n]*(?:\n[ \t]*(?=\S))?")  # eats the newline as TeX does,
                                                                       # but not a blank line after
MATH = re.compile(r"""
    (?P<esc>\\[\\$])                                   # \\ and \$ start no math
  | \$\$.+?\$\$ | \\\[.+?\\\] | \\\(.+?\\\)
  | \$(?:\\.|(?!\n[ \t]*\n)[^$\\])+?\$                 # inline $...$, not across a blank line
  | \\begin\{(?P<env>equation|align|alignat|eqnarray|gather|multline|displaymath|math)(?P<star>\*?)\}
      .*?\\end\{(?P=env)(?P=star)\}
""", re.S | re.X)
COMMAND = re.compile(r"\\([A-Za-z]+)\*?")
AFTER_WORD = re.compile(r"[ \t]*(?:\n(?![ \t]*\n)[ \t]*)?")  # TeX skips the spaces after \word
BEGIN_END = re.compile(r"\\(begin|end)\{([^}]*)\}")
ITEM = re.compile(r"\\item(?![A-Za-z])[ \t]*(?:\[([^\]]*)\])?")
ROW = re.compile(r"\\\\\*?(?:\[[^\]]*\])?|\\tabularnewline(?![A-Za-z])")
CELL = re.compile(r"&")
RULES = re.compile(r"\\(?:hline|toprule|midrule|bottomrule)(?![A-Za-z])|\\(?:cline|cmidrule|hhline)"
                   r"(?:\([^)]*\))?\{[^}]*\}")

SECTIONS = {"section": "h2", "subsection": "h3", "subsubsection": "h4", "paragraph": "h4"}
WRAPS = {"emph": "em", "textit": "em", "textsl": "em", "textbf": "strong", "texttt": "code",
         "textsubscript": "sub", "textsuperscript": "sup"}
PLAIN = {"textrm", "textsf", "textsc", "textup", "textnormal", "text", "mbox", "hbox", "underline",
         "uline", "sout", "textmd", "epigraph"}
WORDS = {"ldots": "…", "dots": "…", "textellipsis": "…", "LaTeX": "LaTeX", "TeX": "TeX",
         "textbackslash": "\\", "textasciitilde": "~", "textasciicircum": "^", "textbar": "|",
         "textless": "<", "textgreater": ">", "textendash": "–", "textemdash": "—",
         "textquotedbl": '"', "ss": "ß", "aa": "å", "AA": "Å", "o": "ø", "O": "Ø", "ae": "æ",
         "AE": "Æ", "oe": "œ", "OE": "Œ", "l": "ł", "L": "Ł", "S": "§", "P": "¶",
         "copyright": "©", "quad": " ", "qquad": " ", "enspace": " ", "thinspace": " "}
BREAKS = {"newline", "linebreak"}
# commands whose arguments are not text: dropped with them
DROPPED = {"label", "ref", "pageref", "eqref", "cite", "vspace", "hspace", "vskip", "hskip",
           "documentclass", "usepackage", "newcommand", "renewcommand", "providecommand",
           "setlength", "addtolength", "setcounter", "pagestyle", "thispagestyle", "input",
           "include", "problemname", "bibliography", "bibliographystyle", "color", "definecolor",
           "htmlPixelsInCm", "def", "sampletable", "sampletableinteractive"}
LAST_ONLY = {"multicolumn", "multirow", "textcolor", "colorbox", "resizebox", "scalebox", "raisebox"}
SYMBOLS = {"%": "%", "$": "$", "&": "&", "_": "_", "#": "#", "{": "{", "}": "}", " ": " ",
           ",": " ", ";": " ", ":": " ", "!": "", "-": "", "@": "", "/": "", "\n": " ", "\t": " "}
ACCENTS = {"'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
           ".": "\u0307", "c": "\u0327", "v": "\u030c", "u": "\u0306", "H": "\u030b", "r": "\u030a"}
TEXT_MARKS = (("---", "—"), ("--", "–"), ("``", "“"), ("''", "”"), ("`", "‘"), ("'", "’"),
              ("<<", "«"), (">>", "»"), ("~", " "))
FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}(?:/[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}){0,8}")
HEADED = {"Input": "Input", "Output": "Output", "Interaction": "Interaction"}  # 2025-09 environments
QUOTES = {"quote", "quotation", "verse"}
TABLES = {"tabular": 1, "tabular*": 2, "tabularx": 2, "longtable": 1}  # brace arguments before the rows
ENV_ARGS = {"wrapfigure": 2, "minipage": 1, "multicols": 1}


class _Latex:
    """A small, safe reading of a LaTeX statement body as HTML (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.held: list[tuple[str, bool]] = []  # (html, is a block)

    def convert(self, source: str) -> str:
        text = source.replace("\r\n", "\n").replace("\ue000", "").replace("\ue001", "")
        text = VERBATIM.sub(lambda m: self.hold(f"<pre>{htmllib.escape(m.group(2))}</pre>", True), text)
        text = VERB.sub(lambda m: self.hold(f"<code>{htmllib.escape(m.group(2))}</code>"), text)
        text = COMMENT.sub(r"\1", text)
        begin, end = text.find("\\begin{document}"), text.find("\\end{document}")
        if begin >= 0:
            text = text[begin + len("\\begin{document}"):end if end > begin else None]
        text = MATH.sub(lambda m: m.group(0) if m.group("esc") else self.hold(
            f'<span class="math">{htmllib.escape(m.group(0))}</span>'), text)
        return self.blocks(text)

    def hold(self, html: str, block: bool = False) -> str:
        self.held.append((html, block))
        return f"\ue000{len(self.held) - 1}\ue001"

    # -- blocks: paragraphs, sections, environments --------------------------------------------

    def blocks(self, text: str) -> str:
        out: list[str] = []
        buf: list[str] = []

        def flush() -> None:
            for para in re.split(r"\n[ \t]*\n\s*", "".join(buf)):
                inner = self.inline(para).strip()
                if inner:
                    out.append(f"<p>{inner}</p>")
            buf.clear()

        i, n = 0, len(text)
        while i < n:
            c = text[i]
            held = HOLD.match(text, i)
            if held and self.held[int(held.group(1))][1]:
                flush()
                out.append(self.held[int(held.group(1))][0])
                i = held.end()
                continue
            if c == "{":
                _, j = _group(text, i)
                buf.append(text[i:j])
                i = j
                continue
            if c != "\\":
                buf.append(c)
                i += 1
                continue
            m = COMMAND.match(text, i)
            if m is None:
                buf.append(text[i:i + 2])
                i += 2
                continue
            name = m.group(1)
            if name in SECTIONS:
                arg, j = _argument(text, _optional_end(text, m.end()))
                flush()
                tag = SECTIONS[name]
                out.append(f"<{tag}>{self.inline(arg or '')}</{tag}>")
                i = j
            elif name == "begin":
                env, j = _argument(text, m.end())
                body, j = _environment_body(text, j, env or "")
                flush()
                out.append(self.environment(env or "", body))
                i = j
            elif name == "par":
                flush()
                i = m.end()
            else:
                buf.append(m.group(0))
                i = m.end()
        flush()
        return "".join(out)

    def environment(self, env: str, body: str) -> str:
        if env in ("itemize", "enumerate", "description"):
            tag = "ol" if env == "enumerate" else "ul"
            items = []
            for sep, part in _split_top(body, ITEM)[1:]:
                label = ITEM.match(sep)
                head = f"<strong>{self.inline(label.group(1))}</strong> " if label and label.group(1) else ""
                items.append(f"<li>{head}{_unwrap(self.blocks(part))}</li>")
            return f"<{tag}>{''.join(items)}</{tag}>"
        if env in TABLES:
            i = _optional_end(body, 0)
            for _ in range(TABLES[env]):
                _, i = _argument(body, i, spaces=True)
            return self.table(body[i:])
        i = _optional_end(body, 0)
        for _ in range(ENV_ARGS.get(env, 0)):
            _, i = _argument(body, _optional_end(body, i))
        inner = self.blocks(body[_optional_end(body, i):])
        if env in HEADED:
            return f"<h2>{HEADED[env]}</h2>{inner}"
        if env in QUOTES:
            return f"<blockquote>{inner}</blockquote>"
        return f"<div>{inner}</div>"

    def table(self, body: str) -> str:
        rows = []
        for _, row in _split_top(body, ROW):
            row = RULES.sub("", row)
            if not row.strip():
                continue
            cells = []
            for _, cell in _split_top(row, CELL):
                span = re.match(r"\s*\\multicolumn\{(\d+)\}", cell)
                attr = f' colspan="{int(span.group(1))}"' if span and int(span.group(1)) > 1 else ""
                cells.append(f"<td{attr}>{self.inline(cell).strip()}</td>")
            rows.append(f"<tr>{''.join(cells)}</tr>")
        return f"<table><tbody>{''.join(rows)}</tbody></table>"

    # -- inline text ---------------------------------------------------------------------------

    def inline(self, text: str, code: bool = False) -> str:
        out: list[str] = []
        i, n = 0, len(text)
        while i < n:
            c = text[i]
            held = HOLD.match(text, i)
            if held:
                out.append(self.held[int(held.group(1))][0])
                i = held.end()
            elif text.startswith("\\\\", i):
                out.append("<br>")
                i = _optional_end(text, i + 2 + (text[i + 2:i + 3] == "*"))
            elif c == "\\":
                m = COMMAND.match(text, i)
                if m is None:
                    i = self.symbol(text, i + 1, out)
                else:
                    i = self.command(m.group(1), text, m.end(), out)
            elif c == "{":
                inner, i = _group(text, i)
                out.append(self.inline(inner, code))
            elif c == "}":
                i += 1
            else:
                mark = None if code else next((m for m in TEXT_MARKS if text.startswith(m[0], i)), None)
                if mark:
                    out.append(mark[1])
                    i += len(mark[0])
                else:
                    out.append(htmllib.escape(c))
                    i += 1
        return "".join(out)

    def symbol(self, text: str, i: int, out: list[str]) -> int:
        """A control symbol (`\\%`, `\\'e`) at text[i-1:]; returns where the text goes on."""
        ch = text[i:i + 1]
        if ch in ACCENTS:
            arg, j = _argument(text, i + 1, spaces=ch.isalpha())
            if arg is None:  # \'e, or \c c
                j = i + 1 + (len(text[i + 1:]) - len(text[i + 1:].lstrip(" \t")) if ch.isalpha() else 0)
                arg, j = text[j:j + 1], j + 1
            base = self.plain(arg)
            out.append(htmllib.escape(unicodedata.normalize("NFC", base + ACCENTS[ch]) if base else ch))
            return j
        out.append(htmllib.escape(SYMBOLS.get(ch, ch)))
        return i + 1

    def plain(self, text: str) -> str:
        return htmllib.unescape(re.sub(r"<[^>]*>", "", self.inline(text)))

    def command(self, name: str, text: str, i: int, out: list[str]) -> int:
        """`\\name` whose arguments start at text[i]; appends its HTML, returns where text goes on."""
        if name in WRAPS or name in PLAIN or name == "footnote":
            arg, j = _argument(text, _optional_end(text, i), spaces=True)
            if arg is None:
                return _after_word(text, i)
            inner = self.inline(arg, code=name == "texttt")
            if name == "footnote":
                out.append(f" ({inner})")
            else:
                out.append(f"<{WRAPS[name]}>{inner}</{WRAPS[name]}>" if name in WRAPS else inner)
            return j
        if len(name) == 1 and name in ACCENTS:
            return self.symbol(text, i - 1, out)
        if name in ("url", "href"):
            target, j = _argument(text, i, spaces=True)
            label, k = _argument(text, j, spaces=True) if name == "href" else (None, j)
            shown = self.inline(label) if label is not None else htmllib.escape(target or "")
            out.append(f'<a href="{htmllib.escape((target or "").strip())}">{shown}</a>')
            return k
        if name == "includegraphics":
            file, j = _argument(text, _optional_end(text, i), spaces=True)
            out.append(self.image(file or ""))
            return j
        if name == "illustration":
            args, j = _arguments(text, i, 3)
            if len(args) == 3:
                out.append(f'<span class="illustration">{self.image(args[1])}'
                           f'<span class="caption">{self.inline(args[2])}</span></span>')
            return j
        if name in ("begin", "end"):
            _, j = _argument(text, i)
            return j
        if name in WORDS or name in BREAKS:
            out.append("<br>" if name in BREAKS else htmllib.escape(WORDS[name]))
            return _after_word(text, i)
        args, j = _arguments(text, _optional_end(text, i))
        if not args:
            return _after_word(text, i)
        if name in DROPPED:
            return j
        kept = args[-1:] if name in LAST_ONLY else args
        out.extend(self.inline(a) for a in kept)
        return j

    def image(self, name: str) -> str:
        """An `<img>` of `name` in the statement folder: `.png`/`.jpg` added if it has no suffix
        and such a file exists, and a PDF or EPS figure swapped for a PNG or JPEG beside it."""
        name = name.strip()
        stem, suffix = os.path.splitext(name)
        if suffix.lower() not in IMAGE_SUFFIXES and FILE_NAME.fullmatch(name):
            base = name if not suffix or suffix.lower() not in (".pdf", ".eps", ".ps") else stem
            for ext in (".png", ".jpg", ".jpeg"):
                if (self.folder / (base + ext)).is_file():
                    name = base + ext
                    break
        return f'<img src="{htmllib.escape(quote(name))}" alt="">'


def _after_word(text: str, i: int) -> int:
    """Past the spaces after a control word, which TeX skips (but not a blank line)."""
    m = AFTER_WORD.match(text, i)
    return m.end() if m else i


def _group(text: str, i: int) -> tuple[str, int]:
    """The `{...}` group at text[i] without its braces, and the index past it.

    A group never closed runs to the end of the text.
    """
    depth, j = 0, i
    while j < len(text):
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1:j], j + 1
        j += 1
    return text[i + 1:], len(text)


def _argument(text: str, i: int, spaces: bool = False) -> tuple[str | None, int]:
    """The `{...}` group at text[i] (after spaces, if allowed) without its braces, and where it ends."""
    j = i
    if spaces:
        while j < len(text) and text[j] in " \t":
            j += 1
    if j >= len(text) or text[j] != "{":
        return None, i
    return _group(text, j)


def _arguments(text: str, i: int, most: int = 9) -> tuple[list[str], int]:
    """Consecutive `{...}` groups at text[i] (optional `[...]` between them skipped)."""
    args: list[str] = []
    while len(args) < most:
        arg, j = _argument(text, _optional_end(text, i))
        if arg is None:
            break
        args.append(arg)
        i = j
    return args, i


def _optional_end(text: str, i: int) -> int:
    """Past an optional `[...]` argument at text[i], if there is one."""
    if i >= len(text) or text[i] != "[":
        return i
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
        elif text[j] == "]" and depth <= 0:
            return j + 1
        elif text[j] == "\n" and text[j + 1:j + 2] == "\n":
            break  # not an optional argument after all
    return i


def _environment_body(text: str, i: int, env: str) -> tuple[str, int]:
    """The body of `\\begin{env}` that ends at text[i], and where its `\\end{env}` ends."""
    depth = 1
    for m in BEGIN_END.finditer(text, i):
        if m.group(2) != env:
            continue
        depth += 1 if m.group(1) == "begin" else -1
        if depth == 0:
            return text[i:m.start()], m.end()
    return text[i:], len(text)


def _split_top(text: str, sep: re.Pattern[str]) -> list[tuple[str, str]]:
    """`text` split at `sep` outside braces and nested environments: (separator before, part)."""
    parts: list[tuple[str, str]] = []
    depth, start, i, before = 0, 0, 0, ""
    while i < len(text):
        if depth == 0 and (m := sep.match(text, i)):
            parts.append((before, text[start:i]))
            before, start, i = m.group(0), m.end(), m.end()
            continue
        c = text[i]
        if c == "\\":
            env = BEGIN_END.match(text, i)
            if env:
                depth = depth + 1 if env.group(1) == "begin" else max(0, depth - 1)
                i = env.end()
            else:
                i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth = max(0, depth - 1)
        i += 1
    parts.append((before, text[start:]))
    return parts


def _unwrap(html: str) -> str:
    """A list item's HTML without its paragraph when it is a single paragraph."""
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        return html[3:-4]
    return html


# --- samples ---------------------------------------------------------------------------------------

def samples(problem: Problem) -> list[Sample]:
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
            answer = (_variant(problem.root, base, ".ans.statement") or _variant(problem.root, base, ".out")
                      or answer)
        shown[name] = Sample(name=name, input=_text(given) if given else "",
                             output=_text(answer) if answer else "")
    sample_dir = data / "sample"
    for p in files_under(sample_dir) if sample_dir.is_dir() else []:
        if p.suffix == ".interaction" and not p.with_suffix(".in").exists():
            name = p.relative_to(sample_dir).with_suffix("").as_posix()
            shown.setdefault(name, Sample(name=name, input=_text(
                follow_text_link(problem.root, p, [])), output=""))
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
