"""Statements as juries write them: problemtools' LaTeX dialect, the problem's name, its languages
and its PDF (judge/problems/statement.py, latex.py). The conformance corpus is read when it is there."""

from __future__ import annotations

from pathlib import Path

import pytest

from judge.problems.statement import find_statement, languages, offered, statement_name

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "conformance"
corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the conformance corpus is not at {CORPUS}")
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16

LOCK = r"""\problemname{Combination Lock}
% the jury's note: never shown
\illustration{0.3}{lock.png}{A lock, by \emph{someone}}
You have $n$ wheels ($1 \le n \le 10^{18}$), so there are
\[ \sum_{i=1}^{n} d_i \]
combinations, at 20\textdegree{} and 5\euro{} each; see \url{https://example.com/lock} or
\href{https://example.com/}{the maker}.

\begin{figure}[ht]
  \centering
  \includegraphics[width=0.5\textwidth]{wheel}
  \caption{A wheel, \emph{turned}.}
  \label{fig:wheel}
\end{figure}

\begin{Input}
The first line has $n$.
\begin{itemize}
  \item \texttt{open} if \textbf{all} match;
  \item \texttt{closed} otherwise.
\end{itemize}
\end{Input}

\begin{Output}
\begin{tabular}{|l|r|}
  \hline
  Group & Points \\ \hline
  $1$ & $30$ \\ \hline
\end{tabular}
\begin{verbatim}
a < b && c
\end{verbatim}
\end{Output}

\nextsample
In the first sample, the wheels turn $M^N$ times.

\remainingsamples
"""


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


def test_the_problemtools_dialect_reads_as_the_jury_wrote_it(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "problem_statement/problem.en.tex": LOCK,
            "problem_statement/lock.png": PNG,
            "problem_statement/wheel.png": PNG,
        },
    )
    st = find_statement(root, "en")
    html = st.html
    assert st.name == "Combination Lock" and "problemname" not in html and "jury" not in html
    assert html.startswith(
        '<figure class="illustration"><img src="images/lock.png" alt="">'
        "<figcaption>A lock, by <em>someone</em></figcaption></figure>"
    )
    assert '<math display="inline"><mrow><mn>1</mn><mo>≤</mo><mi>n</mi>' in html
    assert '<math display="block"><mrow><munderover><mo>∑</mo>' in html
    assert "20° and 5€ each" in html
    assert '<a href="https://example.com/lock" rel="noopener noreferrer">https://example.com/lock</a>' in html
    assert '<a href="https://example.com/" rel="noopener noreferrer">the maker</a>' in html
    assert (
        '<figure class="figure"><img src="images/wheel.png" alt="">'
        "<figcaption>A wheel, <em>turned</em>.</figcaption></figure>"
    ) in html
    assert "<h2>Input</h2>" in html and "<h2>Output</h2>" in html
    assert "<li><code>open</code> if <strong>all</strong> match;</li>" in html
    assert "<tr><td>Group</td><td>Points</td></tr><tr><td><math" in html
    assert "<pre>a &lt; b &amp;&amp; c\n</pre>" in html
    # the samples go where the jury put them, with the explanation after the first
    first, rest = html.split('<div class="nextsample"></div>')
    assert "the wheels turn" in rest and rest.endswith('<div class="remainingsamples"></div>')


def test_text_commands_juries_use(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "statement/problem.en.tex": (
                "A \\enquote{game} on \\ensuremath{\\alpha} wheels of \\SI{3}{\\centi\\metre}, "
                "\\SI{2}{\\kilo\\metre\\per\\second} at most, \\qty[mode=text]{5}{\\percent} off, "
                "\\num{1000000} turns.\\hfill Done.\n"
            )
        },
    )
    assert find_statement(root).html == (
        '<p>A “game” on <math display="inline"><mrow><mi>α</mi></mrow></math> wheels of 3 cm, '
        "2 km/s at most, 5 % off, 1000000 turns. Done.</p>"
    )


def test_the_name_comes_from_problem_yaml_in_the_language_else_from_the_statement(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "problem.yaml": "problem_format_version: 2023-07-draft\nname:\n  en: Odd Echo\n  sv: Udda eko\n",
            "statement/problem.en.tex": "\\problemname{Echo in English}\nText.\n",
            "statement/problem.sv.md": "Text.\n",
            "statement/problem.de.md": "Text.\n",
        },
    )
    assert find_statement(root, "sv").name == "Udda eko"
    assert find_statement(root, "en").name == "Odd Echo"  # problem.yaml's map comes first
    assert find_statement(root, "de").name == "Odd Echo"  # no German name: the English one
    legacy = write(
        tmp_path / "legacy",
        {
            "problem.yaml": "name: Hello World!\n",
            "problem_statement/problem.en.tex": "\\problemname{Hello World!}\n",
            "problem_statement/problem.sv.tex": "\\problemname{Hej Världen!}\n",
        },
    )
    assert find_statement(legacy, "sv").name == "Hej Världen!"
    plain = write(
        tmp_path / "plain",
        {
            "problem.yaml": "name: Sum of two\n",
            "problem_statement/problem.en.tex": "\\problemname{Sum}\n",
            "problem_statement/problem.sv.tex": "\\problemname{Summa}\n",
        },
    )
    assert find_statement(plain, "en").name == "Sum of two"  # a plain name is the English one
    assert find_statement(plain, "sv").name == "Summa"
    bare = write(tmp_path / "bare", {"problem_statement/problem.tex": "\\problemname{Combination Lock}\n"})
    assert find_statement(bare, "en").name == "Combination Lock"  # not the directory's name


def test_languages_and_a_pdf_beside_the_html(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "statement/problem.en.tex": "Hi.\n",
            "statement/problem.en.pdf": b"%PDF-1.4\n",
            "statement/problem.sv.md": "Hej.\n",
            "statement/problem.xx-evil.md/x": "no\n",
        },
    )
    assert languages(root) == ("en", "sv")
    en, sv = find_statement(root, "en"), find_statement(root, "sv")
    assert (en.kind, en.pdf, en.languages) == ("html", root / "statement/problem.en.pdf", ("en", "sv"))
    assert (sv.kind, sv.pdf, sv.html) == ("html", None, "<p>Hej.</p>\n")
    top = write(tmp_path / "dj", {"problem.pdf": b"%PDF-1.4\n", "problem.md": "Hello.\n"})
    st = find_statement(top, "en")
    assert (st.kind, st.pdf, st.languages) == ("html", top / "problem.pdf", ("",))


@corpus
def test_the_problemtools_examples_have_their_names_languages_and_math() -> None:
    hello = find_statement(CORPUS / "problemtools" / "hello", "sv")
    assert (hello.name, hello.languages, hello.source) == (
        "Hej Världen!",
        ("en", "sv"),
        "problem_statement/problem.sv.tex",
    )
    echo = find_statement(CORPUS / "problemtools" / "oddecho", "en")
    assert echo.name == "Odd Echo" and "<table>" in echo.html and "\\le" not in echo.html
    assert "<mo>≤</mo>" in echo.html
    gissa = find_statement(CORPUS / "problemtools" / "guess", "sv")
    assert gissa.name == "Gissa talet" and "<math" in gissa.html and "$" not in gissa.html
    different = find_statement(CORPUS / "problemtools" / "different", "en")
    assert "<msup><mn>10</mn><mrow><mn>15</mn></mrow></msup>" in different.html


@corpus
@pytest.mark.parametrize("language", ["en", "sv", "de", "../x"])
def test_a_name_alone_is_the_one_the_statement_gives(language: str) -> None:
    for root in sorted(p.parent for p in CORPUS.glob("*/*/problem.yaml")):
        assert statement_name(root, language) == find_statement(root, language).name, root


@corpus
def test_what_a_list_offers_is_what_each_statement_gives() -> None:
    for root in sorted(p.parent for p in CORPUS.glob("*/*/problem.yaml")):
        for shown in offered(root):
            st = find_statement(root, shown.language)
            assert (st.language, st.name, st.pdf) == (shown.language, shown.name, shown.pdf), root
    assert [o.language for o in offered(CORPUS / "problemtools" / "hello")] == ["en", "sv"]
