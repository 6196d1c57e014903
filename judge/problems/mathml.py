"""Statement math as MathML, made on the server: no script, no font files, nothing fetched.

`render(source)` takes one piece of math as the statement wrote it, delimiters and all
(`$…$`, `$$…$$`, `\\(…\\)`, `\\[…\\]`, `\\begin{align}…\\end{align}`), and gives HTML: a
`<math>` element (display="block" for displayed math) that Chromium (109 and later) and Firefox
lay out natively, or, when the piece cannot be converted, its source in `<span class="math">`,
readable as the jury typed it. Never half-converted markup: a piece is converted whole or not
at all.

Why MathML from PyPI's latex2mathml rather than npm's KaTeX served by the project: the pages'
Content-Security-Policy allows no inline script, statements are sanitised to no script at all,
and KaTeX needs its 266 KiB script plus 23 KiB of CSS and up to 254 KiB of fonts on every
statement page, then typesets in the browser after load. latex2mathml adds nothing to load: a
formula costs its markup (about 250 bytes for `$1 \\le n \\le 10^{18}$`) and a few hundredths
of a millisecond on the server, once per statement (statements are cached). README, "The
pages", has the measurement.

What is refused and shown as source instead: anything latex2mathml raises on (`x^` without its
exponent, an environment never closed), output in which a command came through unknown (it
would show as `\\foo` in italics, which reads worse than the source), and pieces longer than
MAX_SOURCE characters (a formula is not a page). latex2mathml copies `\\text{…}` verbatim into
`<mtext>`; the text between its tags is escaped here, and the caller's sanitiser (nh3, with
MATHML_TAGS and MATHML_ATTRIBUTES) removes anything else, as for every statement.
"""

from __future__ import annotations

import html as htmllib
import re

from latex2mathml.converter import convert

MAX_SOURCE = 4000  # characters of one piece of math; longer is shown as source

DELIMITERS = (("$$", "$$", True), ("\\[", "\\]", True), ("\\(", "\\)", False), ("$", "$", False))
DISPLAYED_ENVIRONMENT = re.compile(
    r"\\begin\{(equation|align|alignat|eqnarray|gather|multline|displaymath)"
    r"\*?\}"
)
INLINE_ENVIRONMENT = re.compile(r"\\begin\{math\}(.*)\\end\{math\}\Z", re.S)
STARRED = re.compile(r"\\(begin|end)\{(equation|align|alignat|eqnarray|gather|multline)\*?\}(?:\{\d+\})?")
TAG = re.compile(r"</?m[a-z]*(?:\s+[a-z]+=\"[^\"<>]*\")*\s*/?>|</?(?:semantics|annotation)[^<>]*>")
BARE_AMPERSAND = re.compile(r"&(?!#x?[0-9A-Fa-f]+;|[A-Za-z]+;)")
UNKNOWN_COMMAND = re.compile(r">\\[A-Za-z]")  # `<mi>\foo</mi>`: a command latex2mathml passed through

# Every element and attribute latex2mathml writes that only lays out math (no href, no colours:
# a statement's colours could imitate the site's own messages, as classes could).
MATHML_TAGS = frozenset(
    {
        "math",
        "mrow",
        "mi",
        "mo",
        "mn",
        "ms",
        "mtext",
        "mspace",
        "msub",
        "msup",
        "msubsup",
        "mfrac",
        "msqrt",
        "mroot",
        "mover",
        "munder",
        "munderover",
        "mtable",
        "mtr",
        "mtd",
        "mstyle",
        "mpadded",
        "mphantom",
        "menclose",
        "merror",
    }
)
MATHML_ATTRIBUTES = {
    "math": {"display"},
    "mo": {
        "stretchy",
        "fence",
        "form",
        "minsize",
        "maxsize",
        "movablelimits",
        "largeop",
        "separator",
        "lspace",
        "rspace",
        "accent",
        "symmetric",
    },
    "mi": {"mathvariant"},
    "mn": {"mathvariant"},
    "mtext": {"mathvariant"},
    "mstyle": {"displaystyle", "scriptlevel", "mathvariant", "mathsize"},
    "mfrac": {"linethickness"},
    "mover": {"accent"},
    "munder": {"accentunder"},
    "munderover": {"accent", "accentunder"},
    "mtable": {
        "displaystyle",
        "rowspacing",
        "columnspacing",
        "columnalign",
        "rowlines",
        "columnlines",
        "frame",
    },
    "mtd": {"columnalign", "columnspan", "rowspan"},
    "mspace": {"width", "height", "depth"},
    "mpadded": {"width", "height", "depth", "lspace", "voffset"},
    "menclose": {"notation"},
}


def render(source: str) -> str:
    """One piece of math, delimiters included, as MathML, else as its source (module docstring)."""
    parsed = _strip(source)
    if parsed is not None and len(source) <= MAX_SOURCE:
        body, display = parsed
        body = body.replace("\\ensuremath", "")  # already math here
        try:
            converted = convert(body, display="block" if display else "inline")
        except Exception:  # latex2mathml raises many kinds; any means "not convertible"
            converted = None
        if converted is not None and not UNKNOWN_COMMAND.search(converted):
            return _escape_text(converted)
    return f'<span class="math">{htmllib.escape(source)}</span>'


def _strip(source: str) -> tuple[str, bool] | None:
    """The math inside its delimiters, and whether it is displayed; None if it is not math."""
    text = source.strip()
    m = INLINE_ENVIRONMENT.match(text)
    if m:
        return m.group(1), False
    if DISPLAYED_ENVIRONMENT.match(text):
        # latex2mathml numbers align like LaTeX; the numbers would refer to nothing on the page,
        # so every environment is converted in its starred (unnumbered) form, alignat as align*
        return STARRED.sub(lambda e: f"\\{e.group(1)}{{{e.group(2).removesuffix('at')}*}}", text), True
    for start, end, display in DELIMITERS:
        if text.startswith(start) and text.endswith(end) and len(text) >= len(start) + len(end) + 1:
            body = text[len(start) : -len(end)]
            return (body, display) if body.strip() else None
    return None


def _escape_text(mathml: str) -> str:
    """`mathml` with the text between its tags escaped (latex2mathml leaves `\\text{a < b}` raw)."""
    out: list[str] = []
    last = 0
    for m in TAG.finditer(mathml):
        out.append(_escape(mathml[last : m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(_escape(mathml[last:]))
    return "".join(out)


def _escape(text: str) -> str:
    return BARE_AMPERSAND.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")
