"""LaTeX statements read, not typeset: the subset of LaTeX problem statements use, as HTML.

`to_html(text, folder)` gives HTML for judge/problems/statement.py to sanitise: sections,
lists, tables, emphasis, verbatim, images and links become HTML; math becomes MathML
(judge/problems/mathml.py), or stays as its source in `<span class="math">` where it cannot be
converted. Comments are removed
first, so jury notes in `%` lines never reach the page. Unknown commands keep the text of their
arguments. Nothing is ever run (no TeX, no pandoc).
"""

from __future__ import annotations

import html as htmllib
import os
import re
import unicodedata
from pathlib import Path
from urllib.parse import quote

from . import mathml
from .files import IMAGE_SUFFIXES

HOLD = re.compile("\ue000(\\d+)\ue001")  # a piece of finished HTML kept aside while converting
VERBATIM = re.compile(
    r"\\begin\{(verbatim|lstlisting|Verbatim|minted)\}(?:\[[^\]\n]*\])?(?:\{[^}\n]*\})?"
    r"\n?(.*?)\\end\{\1\}",
    re.S,
)
VERB = re.compile(r"\\verb\*?([^A-Za-z\s*])(.*?)\1")
COMMENT = re.compile(r"(?<!\\)((?:\\\\)*)%[^\n]*(?:\n[ \t]*(?=\S))?")  # eats the newline as TeX does,
# but not a blank line after
MATH = re.compile(
    r"""
    (?P<esc>\\[\\$])                                   # \\ and \$ start no math
  | \$\$.+?\$\$ | \\\[.+?\\\] | \\\(.+?\\\)
  | \$(?:\\.|(?!\n[ \t]*\n)[^$\\])+?\$                 # inline $...$, not across a blank line
  | \\begin\{(?P<env>equation|align|alignat|eqnarray|gather|multline|displaymath|math)(?P<star>\*?)\}
      .*?\\end\{(?P=env)(?P=star)\}
""",
    re.S | re.X,
)
COMMAND = re.compile(r"\\([A-Za-z]+)\*?")
AFTER_WORD = re.compile(r"[ \t]*(?:\n(?![ \t]*\n)[ \t]*)?")  # TeX skips the spaces after \word
BEGIN_END = re.compile(r"\\(begin|end)\{([^}]*)\}")
ITEM = re.compile(r"\\item(?![A-Za-z])[ \t]*(?:\[([^\]]*)\])?")
ROW = re.compile(r"\\\\\*?(?:\[[^\]]*\])?|\\tabularnewline(?![A-Za-z])")
CELL = re.compile(r"&")
RULES = re.compile(
    r"\\(?:hline|toprule|midrule|bottomrule)(?![A-Za-z])|\\(?:cline|cmidrule|hhline)"
    r"(?:\([^)]*\))?\{[^}]*\}"
)

SECTIONS = {"section": "h2", "subsection": "h3", "subsubsection": "h4", "paragraph": "h4"}
WRAPS = {
    "emph": "em",
    "textit": "em",
    "textsl": "em",
    "textbf": "strong",
    "texttt": "code",
    "textsubscript": "sub",
    "textsuperscript": "sup",
}
PLAIN = {
    "textrm",
    "textsf",
    "textsc",
    "textup",
    "textnormal",
    "text",
    "mbox",
    "hbox",
    "underline",
    "uline",
    "sout",
    "textmd",
    "epigraph",
}
WORDS = {
    "ldots": "…",
    "dots": "…",
    "textellipsis": "…",
    "LaTeX": "LaTeX",
    "TeX": "TeX",
    "textbackslash": "\\",
    "textasciitilde": "~",
    "textasciicircum": "^",
    "textbar": "|",
    "textless": "<",
    "textgreater": ">",
    "textendash": "–",
    "textemdash": "—",
    "textquotedbl": '"',
    "ss": "ß",
    "aa": "å",
    "AA": "Å",
    "o": "ø",
    "O": "Ø",
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "l": "ł",
    "L": "Ł",
    "S": "§",
    "P": "¶",
    "copyright": "©",
    "quad": " ",
    "qquad": " ",
    "enspace": " ",
    "thinspace": " ",
    "textdegree": "°",
    "degree": "°",
    "euro": "€",
    "EUR": "€",
    "pounds": "£",
    "textsterling": "£",
    "textregistered": "®",
    "texttrademark": "™",
    "dag": "†",
    "ddag": "‡",
    "textbullet": "•",
    "textperiodcentered": "·",
    "textunderscore": "_",
    "slash": "/",
    "textquoteleft": "‘",
    "textquoteright": "’",
    "textquotedblleft": "“",
    "textquotedblright": "”",
    "checkmark": "✓",
    "textonehalf": "½",
    "textmu": "µ",
    "textcent": "¢",
    "textyen": "¥",
    "noindent": "",
    "centering": "",
    "smallskip": "",
    "medskip": "",
    "bigskip": "",
    "clearpage": "",
    "newpage": "",
    "raggedright": "",
    "raggedleft": "",
    "small": "",
    "footnotesize": "",
    "large": "",
    "Large": "",
    "normalsize": "",
    "tiny": "",
    "huge": "",
    "Huge": "",
    "hfill": " ",
    "hfil": " ",
    "vfill": "",
    "break": "",
    "allowbreak": "",
    "xspace": "",
}
BREAKS = {"newline", "linebreak"}
# commands whose arguments are not text: dropped with them
DROPPED = {
    "label",
    "ref",
    "pageref",
    "eqref",
    "cite",
    "vspace",
    "hspace",
    "vskip",
    "hskip",
    "documentclass",
    "usepackage",
    "newcommand",
    "renewcommand",
    "providecommand",
    "setlength",
    "addtolength",
    "setcounter",
    "pagestyle",
    "thispagestyle",
    "input",
    "include",
    "problemname",
    "bibliography",
    "bibliographystyle",
    "color",
    "definecolor",
    "htmlPixelsInCm",
    "def",
    "sampletable",
    "sampletableinteractive",
}
LAST_ONLY = {"multicolumn", "multirow", "textcolor", "colorbox", "resizebox", "scalebox", "raisebox"}
SYMBOLS = {
    "%": "%",
    "$": "$",
    "&": "&",
    "_": "_",
    "#": "#",
    "{": "{",
    "}": "}",
    " ": " ",
    ",": " ",
    ";": " ",
    ":": " ",
    "!": "",
    "-": "",
    "@": "",
    "/": "",
    "\n": " ",
    "\t": " ",
}
ACCENTS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "c": "\u0327",
    "v": "\u030c",
    "u": "\u0306",
    "H": "\u030b",
    "r": "\u030a",
}
TEXT_MARKS = (
    ("---", "—"),
    ("--", "–"),
    ("``", "“"),
    ("''", "”"),
    ("`", "‘"),
    ("'", "’"),
    ("<<", "«"),
    (">>", "»"),
    ("~", " "),
)
FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}(?:/[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}){0,8}")
HEADED = {"Input": "Input", "Output": "Output", "Interaction": "Interaction"}  # 2025-09 environments
QUOTES = {"quote", "quotation", "verse"}
TABLES = {"tabular": 1, "tabular*": 2, "tabularx": 2, "longtable": 1}  # brace arguments before the rows
ENV_ARGS = {"minipage": 1, "multicols": 1}
FLOATS = {"figure": 0, "figure*": 0, "table": 0, "table*": 0, "wrapfigure": 2, "wraptable": 2}  # brace args
CAPTION = re.compile(r"\\caption(?![A-Za-z])\*?")
UNITS_COMMANDS = {"SI": 2, "qty": 2, "si": 1, "unit": 1, "num": 1}  # siunitx, and how many arguments
UNIT_WORDS = {
    "metre": "m",
    "meter": "m",
    "second": "s",
    "gram": "g",
    "litre": "L",
    "liter": "L",
    "hour": "h",
    "minute": "min",
    "day": "d",
    "percent": "%",
    "degree": "°",
    "celsius": "°C",
    "hertz": "Hz",
    "byte": "B",
    "bit": "bit",
    "newton": "N",
    "joule": "J",
    "watt": "W",
    "volt": "V",
    "ampere": "A",
    "kelvin": "K",
    "mole": "mol",
    "radian": "rad",
    "kilogram": "kg",
    "kilometre": "km",
    "kilometer": "km",
    "centimetre": "cm",
    "millimetre": "mm",
    "millisecond": "ms",
    "microsecond": "µs",
    "nanosecond": "ns",
    "m": "m",
    "s": "s",
    "g": "g",
    "kg": "kg",
    "km": "km",
    "cm": "cm",
    "mm": "mm",
    "ms": "ms",
    "h": "h",
    "B": "B",
    "kilo": "k",
    "mega": "M",
    "giga": "G",
    "tera": "T",
    "centi": "c",
    "milli": "m",
    "micro": "µ",
    "nano": "n",
    "kibi": "Ki",
    "mebi": "Mi",
    "gibi": "Gi",
    "per": "/",
    "squared": "²",
    "cubed": "³",
    "square": "²",
    "cubic": "³",
}
SAMPLE_SLOTS = ("nextsample", "remainingsamples")  # problemtools: where the samples go, text after them
PROBLEM_NAME = re.compile(r"\\problemname(?![A-Za-z])\s*")


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
            text = text[begin + len("\\begin{document}") : end if end > begin else None]
        text = MATH.sub(
            lambda m: m.group(0) if m.group("esc") else self.hold(mathml.render(m.group(0))), text
        )
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
                buf.append(text[i : i + 2])
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
            elif name == "illustration" and len(_arguments(text, m.end(), 3)[0]) == 3:
                args, i = _arguments(text, m.end(), 3)
                flush()
                out.append(self.illustration(args[1], args[2]))
            elif name in SAMPLE_SLOTS:
                flush()
                out.append(f'<div class="{name}"></div>')
                i = _after_word(text, m.end())
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
        if env in FLOATS:
            return self.figure(env, body)
        if env in TABLES:
            i = _optional_end(body, 0)
            for _ in range(TABLES[env]):
                _, i = _argument(body, i, spaces=True)
            return self.table(body[i:])
        i = _optional_end(body, 0)
        for _ in range(ENV_ARGS.get(env, 0)):
            _, i = _argument(body, _optional_end(body, i))
        inner = self.blocks(body[_optional_end(body, i) :])
        if env in HEADED:
            return f"<h2>{HEADED[env]}</h2>{inner}"
        if env in QUOTES:
            return f"<blockquote>{inner}</blockquote>"
        return f"<div>{inner}</div>"

    def figure(self, env: str, body: str) -> str:
        """A float (figure, table, wrapfigure) as `<figure>`, its `\\caption` as `<figcaption>`."""
        i = _optional_end(body, 0)
        for _ in range(FLOATS[env]):
            _, i = _argument(body, _optional_end(body, i))
        body = body[_optional_end(body, i) :]
        captions: list[str] = []
        rest: list[str] = []
        last = 0
        for m in CAPTION.finditer(body):
            if m.start() < last:
                continue
            rest.append(body[last : m.start()])
            arg, last = _argument(body, _optional_end(body, m.end()), spaces=True)
            if arg is not None:
                captions.append(self.inline(arg).strip())
            else:
                last = m.end()
        rest.append(body[last:])
        inner = _unwrap(self.blocks("".join(rest)))
        shown = "".join(f"<figcaption>{c}</figcaption>" for c in captions if c)
        kind = "table" if env.startswith("table") else "figure"
        return f'<figure class="{kind}">{inner}{shown}</figure>'

    def illustration(self, file: str, description: str) -> str:
        """problemtools' `\\illustration{width}{file}{description}`: a picture beside the text."""
        return (
            f'<figure class="illustration">{self.image(file)}'
            f"<figcaption>{self.inline(description).strip()}</figcaption></figure>"
        )

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
                i = _optional_end(text, i + 2 + (text[i + 2 : i + 3] == "*"))
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
        ch = text[i : i + 1]
        if ch in ACCENTS:
            arg, j = _argument(text, i + 1, spaces=ch.isalpha())
            if arg is None:  # \'e, or \c c
                j = i + 1 + (len(text[i + 1 :]) - len(text[i + 1 :].lstrip(" \t")) if ch.isalpha() else 0)
                arg, j = text[j : j + 1], j + 1
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
        if name == "ensuremath":  # math wherever it stands
            arg, j = _argument(text, i, spaces=True)
            out.append(mathml.render(f"${arg}$") if arg and arg.strip() else "")
            return j
        if name == "enquote":  # csquotes
            arg, j = _argument(text, i, spaces=True)
            out.append(f"“{self.inline(arg or '')}”")
            return j
        if name in UNITS_COMMANDS:  # siunitx: \SI{3}{\metre}, \qty{3}{\m}, \si{\kilo\gram}, \num{1e6}
            args, j = _arguments(text, _optional_end(text, i), UNITS_COMMANDS[name])
            if len(args) == UNITS_COMMANDS[name]:
                number = self.inline(args[0]).strip() if name in ("SI", "qty", "num") else ""
                unit = htmllib.escape(_unit(args[-1])) if name != "num" else ""
                out.append(" ".join(x for x in (number, unit) if x))
            return j
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
        if name == "illustration":  # (inside a list or a table cell; between paragraphs, blocks() has it)
            args, j = _arguments(text, i, 3)
            if len(args) == 3:
                out.append(
                    f'<span class="illustration">{self.image(args[1])}'
                    f'<span class="caption">{self.inline(args[2])}</span></span>'
                )
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


def _unit(text: str) -> str:
    """A siunitx unit (`\\kilo\\metre\\per\\second`, or plain `km/s`) as plain text: km/s."""
    out = []
    for m in re.finditer(r"\\([A-Za-z]+)|([^\\\s{}]+)", text):
        if m.group(1):
            out.append(UNIT_WORDS.get(m.group(1), m.group(1)))
        else:
            out.append(m.group(2))
    return "".join(out)


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
                return text[i + 1 : j], j + 1
        j += 1
    return text[i + 1 :], len(text)


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
        elif text[j] == "\n" and text[j + 1 : j + 2] == "\n":
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
            return text[i : m.start()], m.end()
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


def to_html(text: str, folder: Path) -> str:
    """The LaTeX statement `text`, whose images are relative to `folder`, as unsanitised HTML."""
    return _Latex(folder).convert(text)


def problem_name(text: str) -> str:
    """The argument of the statement's `\\problemname{...}` as plain text, or "" if it has none."""
    text = COMMENT.sub(r"\1", text.replace("\r\n", "\n"))
    m = PROBLEM_NAME.search(text)
    if m is None:
        return ""
    arg, _ = _argument(text, m.end())
    if arg is None:
        return ""
    return " ".join(_Latex(Path(".")).plain(arg).split())
