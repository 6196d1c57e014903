"""Ruby (CRuby) from the image. `ruby -c` checks the syntax, so syntax errors become CE.

RubyGems stays on, though it is most of Ruby's start: without it the bundled gems contestants
`require` (prime, for one) cannot be found. Measured here, an empty program takes 74 ms of
CPU (3 ms with `--disable-gems`) and 9 MiB; the 100 ms allowance pays for that start.
"""

from __future__ import annotations

from .recipe import Language, SelfTest

RUBY = Language(
    id="ruby",
    name="Ruby",
    extensions=(".rb",),
    source_name="main.rb",
    image="ruby",
    compile=("/usr/bin/ruby", "-c", "{source}"),
    run=("/usr/bin/ruby", "{source}"),
    version=("/usr/bin/ruby", "--version"),
    extra_time_ms=100,
    self_test=SelfTest(
        source="a, b = gets.split.map(&:to_i)\nputs a + b\n",
        stdin="2 3\n",
        expected="5\n",
    ),
)
