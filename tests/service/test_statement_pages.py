"""Statements as the jury wrote them, in a real browser (Debian's chromium through Playwright).

One package with a LaTeX statement in English (problemtools' dialect: \\problemname, an
\\illustration, a figure with its caption, a table, inline and displayed math, \\nextsample
with an explanation after it) and a Markdown one in Swedish, a statement PDF and a name per
language in problem.yaml. The browser asks for Swedish first (Accept-Language), switches to
English, and the choice follows it to the problem list. Math must be laid out as MathML by the
browser itself, and the page must load no script and nothing from another host. The API serves
the same statements. The screenshot is the README's (JUDGE_SCREENSHOT_DIR).
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from service_kit import SUM_PY, Service
from test_pages import LIVE_TIMEOUT_MS

pytestmark = pytest.mark.sandbox

LOCK_TEX = r"""\problemname{Combination Lock}
% jury: the statement below is the one of the contest
\illustration{0.35}{lock}{A combination lock. Picture: the jury.}
A lock has $n$ wheels, each with the digits $0$ to $9$; with $1 \le n \le 10^{18}$ there are
$10^n$ combinations, and the one that opens it is the sum
\[ s = \sum_{i=1}^{n} \frac{a_i}{2^i} \]
rounded down. You are given two numbers: add them.

\begin{figure}[ht]
  \centering
  \includegraphics[width=0.4\textwidth]{wheel.png}
  \caption{One wheel of the lock, seen from the side.}
\end{figure}

\begin{Input}
One line with two integers $a$ and $b$ ($|a|, |b| \le 10^9$).
\end{Input}

\begin{Output}
One line with $a + b$.
\end{Output}

\section*{Scoring}
\begin{tabular}{|l|l|}
  \hline
  Group & Constraints \\ \hline
  $1$ & $a, b \ge 0$ \\ \hline
  $2$ & no further constraints \\ \hline
\end{tabular}

\nextsample
In the first sample, $1 + 2 = 3$: the lock opens.
"""

LOCK_SV_MD = r"""Ett lås har $n$ hjul med siffrorna $0$ till $9$; med $1 \le n \le 10^{18}$ finns det $10^n$
kombinationer. Du får två tal: addera dem.

$$\sum_{i=1}^{n} a_i$$

## Indata

En rad med två heltal $a$ och $b$.

## Utdata

En rad med $a + b$.
"""


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real PNG of one colour (the browser must decode it: an image that fails shows nothing)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def lock_package(path: Path, name: str = "lock") -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            f"{name}/problem.yaml",
            "problem_format_version: 2023-07-draft\n"
            "uuid: 3b0f4c0e-6a63-4a43-9a55-0b5e6c1e1f20\nlicense: cc0\nsource: tests\n"
            "name:\n  en: Combination Lock\n  sv: Kombinationslås\n",
        )
        zf.writestr(f"{name}/statement/problem.en.tex", LOCK_TEX)
        zf.writestr(f"{name}/statement/problem.sv.md", LOCK_SV_MD)
        zf.writestr(f"{name}/statement/problem.en.pdf", b"%PDF-1.4\n% a statement PDF\n%%EOF\n")
        zf.writestr(f"{name}/statement/lock.png", _png(120, 90, (200, 60, 40)))
        zf.writestr(f"{name}/statement/wheel.png", _png(160, 40, (40, 90, 200)))
        for case, (given, answer) in {"sample/1": ("1 2\n", "3\n"), "secret/1": ("10 20\n", "30\n")}.items():
            zf.writestr(f"{name}/data/{case}.in", given)
            zf.writestr(f"{name}/data/{case}.ans", answer)
        zf.writestr(f"{name}/submissions/accepted/sum.py", SUM_PY)
    return path


@pytest.fixture(scope="session")
def lock_problem(service: Service, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    archive = lock_package(tmp_path_factory.mktemp("lock") / "lock.zip")
    with open(archive, "rb") as f:
        r = service.call("POST", "/problems", as_="organiser", files={"package": ("lock.zip", f)})
    assert r.status_code in (201, 202), r.text
    yield str(r.json()["id"])


def _log_in(
    chromium: object, service: Service, *, locale: str, width: int = 1100
) -> tuple[object, list[str]]:
    """A page logged in as alice, whose browser asks for `locale`; and the list of every URL it requests."""
    context = chromium.new_context(  # type: ignore[attr-defined]
        viewport={"width": width, "height": 900},
        base_url=service.base,
        locale=locale,
        extra_http_headers={"Accept-Language": f"{locale},en;q=0.5"},
    )
    page = context.new_page()
    page.set_default_timeout(LIVE_TIMEOUT_MS)
    requested: list[str] = []
    page.on("request", lambda r: requested.append(f"{r.resource_type} {r.url}"))
    page.goto("/login")
    page.fill("#name", "alice")
    page.fill("#password", "alice-password")
    page.click("button[type=submit]")
    page.wait_for_url("**/problems")
    return page, requested


def test_a_statement_reads_as_the_jury_wrote_it_in_both_languages(
    browser: object, service: Service, lock_problem: str, shots: Path
) -> None:
    page, requested = _log_in(browser, service, locale="sv-SE")
    # the Swedish reader gets the Swedish name in the list, and the Swedish statement
    assert page.inner_text(f"a[href='/problems/{lock_problem}']") == "Kombinationslås"
    page.click(f"a[href='/problems/{lock_problem}']")
    assert page.inner_text("h1") == "Kombinationslås"
    assert page.get_attribute("section.statement", "lang") == "sv"
    assert page.inner_text("section.statement h2") == "Indata"
    assert page.locator("section.statement math").count() >= 6
    assert "$" not in page.inner_text("section.statement") and "\\le" not in page.content()
    assert page.inner_text("nav.languages [aria-current=page]") == "Svenska"

    # switch to English: the LaTeX statement, with everything the jury put in it
    page.click("nav.languages a[hreflang=en]")
    page.wait_for_url("**?lang=en")
    assert page.inner_text("h1") == "Combination Lock"
    statement = page.locator("section.statement")
    assert statement.get_attribute("lang") == "en"
    assert "jury:" not in page.content() and "problemname" not in page.content()
    inline = statement.locator("math[display=inline]")
    displayed = statement.locator("math[display=block]")
    assert inline.count() >= 8 and displayed.count() == 1
    # laid out by the browser's own MathML: a displayed formula is a block of math, a fraction
    # puts its numerator above its denominator, and 10^18 raises its exponent
    assert displayed.first.evaluate("m => getComputedStyle(m).display") == "block math"
    num, den = (statement.locator("mfrac").first.locator(":scope > *").nth(i).bounding_box() for i in (0, 1))
    assert num is not None and den is not None and num["y"] + num["height"] <= den["y"] + 1
    base, exponent = (
        statement.locator("msup").first.locator(":scope > *").nth(i).bounding_box() for i in (0, 1)
    )
    assert base is not None and exponent is not None and exponent["y"] < base["y"]
    # the illustration and the figure, drawn, with their captions
    for figure, caption in (
        ("figure.illustration", "A combination lock. Picture: the jury."),
        ("figure.figure", "One wheel of the lock, seen from the side."),
    ):
        assert statement.locator(f"{figure} figcaption").inner_text() == caption
        assert statement.locator(f"{figure} img").evaluate("i => i.complete && i.naturalWidth") > 0
    # the table, its cells with math
    cells = statement.locator("table td").all_inner_texts()
    assert cells[:2] == ["Group", "Constraints"] and "no further constraints" in cells
    assert statement.locator("table td math").count() == 3
    # the sample sits where \nextsample put it, before the jury's explanation of it
    assert statement.locator(".sample pre").first.inner_text().strip() == "1 2"
    order = page.inner_text("section.statement")
    assert order.index("Sample input 1") < order.index("In the first sample")
    # the package's PDF, linked
    pdf = page.request.get(page.get_attribute("#statement-pdf", "href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    page.screenshot(path=str(shots / "statement.png"), full_page=True)

    # the choice follows the reader to the list
    page.goto("/problems")
    assert page.inner_text(f"a[href='/problems/{lock_problem}']") == "Combination Lock"

    # no script ran and nothing came from elsewhere
    origin = urlsplit(service.base).netloc
    assert not [r for r in requested if r.startswith("script ")], requested
    assert not [r for r in requested if urlsplit(r.split(" ", 1)[1]).netloc != origin], requested
    page.goto(f"/problems/{lock_problem}")
    assert page.locator("script").count() == 0
    page.context.close()


def test_the_statement_fits_a_phone(browser: object, service: Service, lock_problem: str) -> None:
    page, _ = _log_in(browser, service, locale="en", width=360)
    page.goto(f"/problems/{lock_problem}?lang=en")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    page.context.close()


def test_the_api_lists_the_languages_and_serves_each(service: Service, lock_problem: str) -> None:
    doc = service.call("GET", f"/problems/{lock_problem}").json()
    assert doc["name"] == "Combination Lock"
    shown = {s["language"]: s for s in doc["statements"]}
    assert sorted(shown) == ["en", "sv"]
    assert shown["sv"]["name"] == "Kombinationslås" and shown["sv"]["pdf"] is None
    assert shown["en"]["pdf"].endswith(f"/problems/{lock_problem}/statement.pdf?language=en")
    sv = service.call("GET", f"/problems/{lock_problem}/statement", params={"language": "sv"}).json()
    assert (sv["language"], sv["languages"], sv["name"]) == ("sv", ["en", "sv"], "Kombinationslås")
    assert sv["kind"] == "html"
    assert "<h2>Indata</h2>" in sv["html"] and "<math" in sv["html"] and "$" not in sv["html"]
    en = service.call("GET", f"/problems/{lock_problem}/statement").json()
    assert en["language"] == "en" and '<math display="block">' in en["html"]
    image = en["html"].split('<img src="', 1)[1].split('"', 1)[0]
    assert image.startswith(f"/api/v1/problems/{lock_problem}/images/")
    got = service.call("GET", image.removeprefix("/api/v1"))
    assert got.status_code == 200 and got.content.startswith(b"\x89PNG")
    assert "sandbox" in got.headers["Content-Security-Policy"]
    pdf = service.call("GET", f"/problems/{lock_problem}/statement.pdf", params={"language": "en"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert (
        service.call("GET", f"/problems/{lock_problem}/statement.pdf", params={"language": "sv"}).json()[
            "error"
        ]["code"]
        == "no_pdf"
    )
    missing = service.call("GET", f"/problems/{lock_problem}/statement", params={"language": "de"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown_language"
