"""Statements and samples (judge/problems/statement.py): each format, the sanitiser, the corpus.

Packages are written into tmp_path, one small folder per case. The conformance corpus
(../shared/conformance beside the project) is read when it is there: every package's statement
must be found without an exception, and problemtools' packages all have one.
"""

from __future__ import annotations

import os
from html.parser import HTMLParser
from pathlib import Path

import pytest

from judge.problems import package
from judge.problems.statement import (
    ALLOWED_TAGS,
    SAMPLE_BYTES,
    Statement,
    find_statement,
    render_markdown,
    samples,
    sanitise_html,
)

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "conformance"
corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the conformance corpus is not at {CORPUS}")
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16  # enough of a PNG for a file that must exist


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    return root


def kattis(root: Path, files: dict[str, str | bytes], yaml: str = "name: Test\n") -> Path:
    """A loadable package: problem.yaml, one secret case, and `files`."""
    return write(root, {"problem.yaml": yaml, "data/secret/1.in": "1\n", "data/secret/1.ans": "1\n", **files})


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, attrs))


def assert_safe(html: str) -> None:
    """Only allow-listed tags; no handlers or styles; links http(s) or relative; images our own."""
    parser = Tags()
    parser.feed(html)
    for tag, attrs in parser.seen:
        assert tag in ALLOWED_TAGS, (tag, html)
        for name, value in attrs:
            assert not name.startswith("on") and name not in ("style", "id", "srcset"), (name, html)
            if name == "href":
                assert value and not value.lower().startswith(("javascript:", "data:")), html
            if name == "src":
                assert value and value.startswith("images/"), html


# --- each format ------------------------------------------------------------------------------------


def test_markdown_statement_with_math_table_and_an_image(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "statement/problem.en.md": "Read $a_1 * b_2 < c$ *now*.\n\n## Input\n\n| n | m |\n|---|---|\n"
            "| 1 | 2 |\n\n![a cave](cave.png)\n\n{{nextsample}}\n",
            "statement/cave.png": PNG,
        },
    )
    st = find_statement(root)
    assert (st.kind, st.language, st.source, st.pdf) == ("html", "en", "statement/problem.en.md", None)
    assert (
        '<math display="inline"><mrow><msub><mi>a</mi><mn>1</mn></msub><mo>*</mo><msub><mi>b</mi>'
        "<mn>2</mn></msub><mo>&lt;</mo><mi>c</mi></mrow></math>"
    ) in st.html
    assert "<em>now</em>" in st.html and "<h2>Input</h2>" in st.html and "<td>2</td>" in st.html
    assert '<img src="images/cave.png" alt="a cave">' in st.html
    assert st.images == {"cave.png": root / "statement" / "cave.png"}
    assert st.html.endswith('<div class="nextsample"></div>\n')  # where the page puts the next sample


def test_html_statement_loses_script_handlers_and_javascript_links(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "statement/problem.en.html": """<html><head><title>T</title><style>p{}</style>
            <script src="https://evil/x.js"></script></head><body>
            <h2 onclick="steal()">Input</h2><p>Two <strong>numbers</strong>.<script>alert(1)</script></p>
            <a href="javascript:alert(1)">click</a> <a href="https://example.com/">ok</a>
            <iframe src="https://evil/"></iframe><form action="/x"><input name="p"></form>
            <img src="fig.png" onerror="alert(2)"><img src="https://evil/track.png">
            <div class="btn math" style="color:red">$x$</div></body></html>""",
            "statement/fig.png": PNG,
        },
    )
    st = find_statement(root)
    assert st.kind == "html"
    assert_safe(st.html)
    assert "<h2>Input</h2>" in st.html and "<strong>numbers</strong>" in st.html
    assert '<a rel="noopener noreferrer">click</a>' in st.html
    assert '<a href="https://example.com/" rel="noopener noreferrer">ok</a>' in st.html
    assert '<img src="images/fig.png">' in st.html and st.html.count("<img") == 1
    assert '<div class="math">$x$</div>' in st.html
    assert st.images == {"fig.png": root / "statement" / "fig.png"}


def test_pdf_statement_is_served_as_is(tmp_path: Path) -> None:
    root = write(tmp_path, {"statement/problem.en.pdf": b"%PDF-1.4\n"})
    assert find_statement(root) == Statement(
        kind="pdf",
        html="",
        pdf=root / "statement/problem.en.pdf",
        language="en",
        source="statement/problem.en.pdf",
        images={},
        languages=("en",),
    )


TEX = r"""\documentclass{problemset}
\begin{document}
\problemname{Sum \emph{It}}
% a jury note that must not be shown
Add \emph{two} numbers, \textbf{quickly}, with \texttt{long long}~types.\\
It costs 5\% or \$3 \& \_ \# on $a_1 < b$, then $$\sum_{i=1}^{n} x_i$$ and \(y\).
Written by \unknowncommand{Alice}.

\section*{Input}
\begin{itemize}
\item First, one $n$.
\item Then \begin{enumerate}\item inner one \item inner two\end{enumerate}
\end{itemize}

\subsection{Output}
\includegraphics[width=0.5\textwidth]{figure}
\includegraphics{../secret}
\begin{tabular}{|l|r|}
\hline
a & b \\ \hline
1 & 2 \\
\end{tabular}
\end{document}
"""


def test_latex_statement_becomes_simple_html(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {"problem_statement/problem.en.tex": TEX, "problem_statement/figure.png": PNG, "secret.png": PNG},
    )
    st = find_statement(root)
    assert (st.kind, st.source, st.language) == ("html", "problem_statement/problem.en.tex", "en")
    html = st.html
    assert_safe(html)
    assert "Sum" not in html and "jury note" not in html and "documentclass" not in html
    assert "<em>two</em>" in html and "<strong>quickly</strong>" in html
    assert "<code>long long</code> types.<br>" in html
    assert "5% or $3 &amp; _ #" in html
    assert (
        '<math display="inline"><mrow><msub><mi>a</mi><mn>1</mn></msub><mo>&lt;</mo><mi>b</mi></mrow></math>'
    ) in html
    assert '<math display="block"><mrow><munderover><mo>∑</mo>' in html  # $$...$$ displayed
    assert '<math display="inline"><mrow><mi>y</mi></mrow></math>' in html  # \(y\)
    assert "Written by Alice." in html
    assert "<h2>Input</h2>" in html and "<h3>Output</h3>" in html
    assert "<ul><li>First, one" in html
    assert "<ol><li>inner one</li><li>inner two</li></ol>" in html
    assert '<img src="images/figure.png" alt="">' in html
    assert html.count("<img") == 1
    assert st.images == {"figure.png": root / "problem_statement" / "figure.png"}
    assert "<tr><td>a</td><td>b</td></tr><tr><td>1</td><td>2</td></tr>" in html


def test_latex_cannot_smuggle_html_or_links(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "statement/problem.en.tex": "<script>alert(1)</script> \\href{javascript:alert(1)}{x} "
            "\\url{https://example.com/a} $<img src=x onerror=alert(1)>$ "
            "\\includegraphics{https://evil/x.png}"
        },
    )
    html = find_statement(root).html
    assert_safe(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "onerror" not in html  # math is MathML, its letters <mi> each
    assert '<a href="https://example.com/a" rel="noopener noreferrer">https://example.com/a</a>' in html
    assert "<img" not in html


def test_domjudge_statement_at_the_top_has_no_language(tmp_path: Path) -> None:
    root = write(tmp_path, {"problem.pdf": b"%PDF-1.4\n"})
    st = find_statement(root, "en")
    assert (st.kind, st.source, st.language, st.pdf) == ("pdf", "problem.pdf", "", root / "problem.pdf")


def test_no_statement(tmp_path: Path) -> None:
    assert find_statement(write(tmp_path, {"init.yml": "archive: x.zip\n"})) == Statement(
        kind="none", html="", pdf=None, language="", source="", images={}
    )


# --- which file ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "language", "source"),
    [
        (["statement/problem.en.tex", "statement/problem.sv.md"], "sv", "statement/problem.sv.md"),
        (["statement/problem.en.tex", "statement/problem.sv.md"], "de", "statement/problem.en.tex"),
        (["statement/problem.de.md", "statement/problem.fr.md"], "sv", "statement/problem.de.md"),
        (
            ["statement/problem.en.tex", "statement/problem.en.md", "statement/problem.en.pdf"],
            "en",
            "statement/problem.en.md",
        ),
        (
            ["statement/problem.en.tex", "statement/problem.en.pdf"],
            "en",
            "statement/problem.en.tex",
        ),  # + a link
        (["statement/problem.en.pdf", "statement/problem.sv.tex"], "en", "statement/problem.en.pdf"),
        (
            ["problem_statement/problem.tex", "problem_statement/problem.sv.tex"],
            "en",
            "problem_statement/problem.tex",
        ),
        (
            ["problem_statement/problem.tex", "problem_statement/problem.sv.tex"],
            "sv",
            "problem_statement/problem.sv.tex",
        ),
        (
            ["problem_statement/problem.en.md", "problem_statement/problem.en.tex"],
            "en",
            "problem_statement/problem.en.tex",
        ),
        (["statement/problem.pt-BR.md"], "en", "statement/problem.pt-BR.md"),
    ],
)
def test_language_and_format_preference(tmp_path: Path, files: list[str], language: str, source: str) -> None:
    write(tmp_path, {f: b"%PDF-1.4\n" if f.endswith(".pdf") else "text\n" for f in files})
    st = find_statement(tmp_path, language)
    assert st.source == source
    assert st.language == (source.split(".")[1] if source.count(".") == 2 else "")


def test_a_language_that_is_not_a_code_is_not_looked_for(tmp_path: Path) -> None:
    write(tmp_path, {"statement/problem.en.md": "en\n", "statement/x.md": "no\n", "data/x.md": "no\n"})
    for language in ("../data/x", "/x", "", "en/../../data/x"):
        assert find_statement(tmp_path, language).source == "statement/problem.en.md"


# --- images ---------------------------------------------------------------------------------------------


def test_images_outside_the_statement_folder_are_dropped(tmp_path: Path) -> None:
    outside = tmp_path / "outside.png"
    outside.write_bytes(PNG)
    root = write(
        tmp_path / "pkg",
        {
            "statement/problem.en.md": "![a](../data/secret/1.png) ![b](/etc/x.png) ![c](ok.png) "
            "![d](sub/../ok.png) ![e](link.png) ![f](notes.txt) ![g](missing.png) "
            "![h](%2e%2e/data/secret/1.png) ![i](sub/in.png)",
            "statement/ok.png": PNG,
            "statement/notes.txt": "x",
            "statement/sub/in.png": PNG,
            "data/secret/1.png": PNG,
        },
    )
    os.symlink(outside, root / "statement" / "link.png")
    st = find_statement(root)
    assert st.images == {"ok.png": root / "statement/ok.png", "sub/in.png": root / "statement/sub/in.png"}
    assert st.html.count("<img") == 2
    assert '<img src="images/ok.png" alt="c">' in st.html
    assert '<img src="images/sub/in.png" alt="i">' in st.html
    assert ".." not in st.html and "secret" not in st.html


def test_latex_image_gets_its_extension_and_a_pdf_figure_its_png(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "statement/problem.en.tex": "\\includegraphics{a} \\includegraphics{b.pdf} "
            "\\illustration{0.3}{c.jpg}{A \\emph{cave}}",
            "statement/a.jpg": PNG,
            "statement/b.png": PNG,
            "statement/b.pdf": b"%PDF",
            "statement/c.jpg": PNG,
        },
    )
    st = find_statement(root)
    assert set(st.images) == {"a.jpg", "b.png", "c.jpg"}
    assert "<figcaption>A <em>cave</em></figcaption></figure>" in st.html


# --- the sanitiser and Markdown on their own ------------------------------------------------------------


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ("<img src=x.png onerror=alert(1)>", '<img src="x.png">'),
        ('<a href="JaVaScRiPt:alert(1)">x</a>', '<a rel="noopener noreferrer">x</a>'),
        ('<a href="data:text/html,x">x</a>', '<a rel="noopener noreferrer">x</a>'),
        ("<svg onload=alert(1)><text>t</text></svg>ok", "ok"),
        ('<object data="x.swf">obj</object><embed src="y">ok', "ok"),
        ('<link rel=stylesheet href=https://evil/x.css><base href="https://evil/">ok', "ok"),
        ('<img src="https://evil/x.png"><img src="//evil/y.png"><img src="/api/z">', ""),
        ('<img src="data:image/png;base64,AAAA"><img src="../x.png">', ""),
        ('<p style="position:fixed" id="login">s</p>', "<p>s</p>"),
        (
            '<div class="alert math">d</div><span class="x">s</span>',
            '<div class="math">d</div><span>s</span>',
        ),
        (
            "<table><tr><td colspan=2 onmouseover=x>c</td></tr></table>",
            '<table><tbody><tr><td colspan="2">c</td></tr></tbody></table>',
        ),
        (
            "<h1>a</h1><ul><li><code>b</code></li></ul><pre>c</pre><sub>d</sub><sup>e</sup><hr><br>",
            "<h1>a</h1><ul><li><code>b</code></li></ul><pre>c</pre><sub>d</sub><sup>e</sup><hr><br>",
        ),
    ],
)
def test_sanitise_html(dirty: str, clean: str) -> None:
    assert sanitise_html(dirty) == clean


def test_render_markdown_has_no_raw_html_and_keeps_math() -> None:
    html = render_markdown(
        "<script>alert(1)</script>\n\n[x](javascript:alert(1)) costs $5 and $10, "
        "$x_1 * y_2$ and *em*[^1]\n\n[^1]: a note\n"
    )
    assert "&lt;script&gt;" in html and "<script" not in html and 'href="javascript' not in html
    assert "costs $5 and $10" in html
    assert "<msub><mi>y</mi><mn>2</mn></msub></mrow></math> and <em>em</em><sup>[1]</sup>" in html
    assert html.endswith("<hr><ol><li>a note</li></ol>")


# --- samples -------------------------------------------------------------------------------------------


def test_samples_in_order_with_interactions(tmp_path: Path) -> None:
    root = kattis(
        tmp_path / "p",
        {
            "data/sample/2.in": "2\n",
            "data/sample/2.ans": "4\n",
            "data/sample/1.in": "1\n",
            "data/sample/1.ans": "\xff\n".encode("latin-1"),
            "data/sample/3.interaction": ">guess 5\n<correct\n",
        },
    )
    got = samples(package.load(root))
    assert [(s.name, s.input, s.output) for s in got] == [
        ("1", "1\n", "\ufffd\n"),
        ("2", "2\n", "4\n"),
        ("3", ">guess 5\n<correct\n", ""),
    ]


def test_an_interactive_sample_is_shown_as_its_interaction(tmp_path: Path) -> None:
    root = kattis(
        tmp_path / "p",
        {
            "output_validators/v/validate.py": "print()\n",
            "data/sample/1.in": "secret 7\n",
            "data/sample/1.ans": "7\n",
            "data/sample/1.interaction": ">5\n<higher\n",
        },
        yaml="name: T\nvalidation: custom interactive\n",
    )
    assert [(s.name, s.input, s.output) for s in samples(package.load(root))] == [("1", ">5\n<higher\n", "")]


def test_samples_show_statement_variants_in_2025_09(tmp_path: Path) -> None:
    yaml = "problem_format_version: 2025-09\nname: T\nuuid: 8ee7605a-9a9b-8e2c-25d4-8862de6832a9\n"
    root = kattis(
        tmp_path / "p",
        {
            "data/sample/1.in": "judged\n",
            "data/sample/1.ans": "judged\n",
            "data/sample/1.in.statement": "shown in\n",
            "data/sample/1.ans.statement": "shown ans\n",
            "data/sample/2.in": "2\n",
            "data/sample/2.ans": "ans\n",
            "data/sample/2.out": "out\n",
        },
        yaml=yaml,
    )
    got = samples(package.load(root))
    assert [(s.name, s.input, s.output) for s in got] == [
        ("1", "shown in\n", "shown ans\n"),
        ("2", "2\n", "out\n"),
    ]


def test_sample_is_cut_at_64_kib(tmp_path: Path) -> None:
    big = "é" * SAMPLE_BYTES  # two bytes each, so the limit falls inside a character
    root = kattis(tmp_path / "p", {"data/sample/1.in": big, "data/sample/1.ans": "ok\n"})
    (sample,) = samples(package.load(root))
    head, note = sample.input.rsplit("\n", 2)[0], sample.input.rsplit("\n", 2)[1]
    assert head == "é" * (SAMPLE_BYTES // 2)
    assert note == f"… (cut: the first {SAMPLE_BYTES} of {2 * SAMPLE_BYTES} bytes)"
    assert sample.output == "ok\n"


# --- the conformance corpus ----------------------------------------------------------------------------


def corpus_packages() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return sorted(
        f"{s.name}/{p.name}" for s in CORPUS.iterdir() if s.is_dir() for p in s.iterdir() if p.is_dir()
    )


@corpus
@pytest.mark.parametrize("name", corpus_packages())
def test_every_corpus_package_has_its_statement_found(name: str) -> None:
    st = find_statement(CORPUS / name)
    if name.startswith("problemtools/"):
        assert st.kind != "none" and st.html
    assert_safe(st.html)
    for image in st.images.values():
        assert image.is_file()


@corpus
def test_corpus_samples_and_a_swedish_statement() -> None:
    got = samples(package.load(CORPUS / "problemtools/different"))
    assert [s.name for s in got] == ["1"] and got[0].input.startswith("10 12\n")
    guess = samples(package.load(CORPUS / "problemtools/guess"))
    assert [s.name for s in guess] == ["1", "2"] and guess[1].input == ">42\n<correct\n"
    sv = find_statement(CORPUS / "problemtools/oddecho", "sv")
    assert (sv.source, sv.language) == ("statement/problem.sv.md", "sv")
    assert set(sv.images) == {"cave.jpg"}
