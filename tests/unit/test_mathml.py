"""judge/problems/mathml.py: statement math as MathML, or as its source when it cannot be converted."""

from __future__ import annotations

import pytest

from judge.problems.mathml import render
from judge.problems.statement import sanitise_html


def test_inline_math_becomes_mathml_the_browser_lays_out() -> None:
    assert render(r"$1 \le n \le 10^{18}$") == (
        '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline"><mrow><mn>1</mn>'
        "<mo>&#x02264;</mo><mi>n</mi><mo>&#x02264;</mo><msup><mn>10</mn><mrow><mn>18</mn></mrow></msup>"
        "</mrow></math>"
    )


@pytest.mark.parametrize(
    "source",
    [
        r"$$\sum_i a_i$$",
        r"\[ M^N \]",
        r"\begin{equation} x = 1 \end{equation}",
        r"\begin{align*} a &= b \\ c &= d \end{align*}",
    ],
)
def test_displayed_math_is_a_block(source: str) -> None:
    assert 'display="block"' in render(source)


def test_numbered_environments_get_no_numbers_that_refer_to_nothing() -> None:
    html = render(r"\begin{align} a &= b \\ c &= d \end{align}")
    assert "<mtable" in html and "(1)" not in html
    html = render(r"\begin{alignat}{2} x &= y \end{alignat}")
    assert "<mtable" in html and "<mn>2</mn>" not in html and "&amp;" not in html


@pytest.mark.parametrize("source", ["$x^$", r"$\frobnicate{x}$", "$" + "x+" * 3000 + "$", "$ $"])
def test_what_cannot_be_converted_stays_readable_source(source: str) -> None:
    html = render(source)
    assert html.startswith('<span class="math">$') and "<math" not in html


def test_ensuremath_inside_math_is_just_math() -> None:
    assert render(r"$\ensuremath{\alpha} + 1$").startswith("<math")


def test_text_inside_math_is_escaped() -> None:
    html = render(r"$\text{a <b> & c}$")
    assert "<b>" not in html and "&lt;b&gt;" in html and "&amp;" in html


def test_the_sanitiser_keeps_mathml_but_no_links_colours_or_script() -> None:
    dirty = (
        render(r"$\href{javascript:alert(1)}{x} + \color{red} y$")
        + '<math><mi onclick="alert(1)">z</mi><mtext><script>alert(2)</script></mtext></math>'
    )
    clean = sanitise_html(dirty)
    assert "<math" in clean and "<mi>x</mi>" in clean and "<mi>z</mi>" in clean
    assert "javascript" not in clean and "href" not in clean and "mathcolor" not in clean
    assert "onclick" not in clean and "script" not in clean and "alert" not in clean
