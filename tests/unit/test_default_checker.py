"""The default output validator (judge/checkers/default.py), flag by flag, corner by corner.

Expectations follow problemtools' default_validator.cc and the 2025-09 spec; where the two
references differ the module docstring says which side we take, and the test names it.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from judge.checkers import CheckResult
from judge.checkers.default import check, parse_flags, parse_float

TOL = ("float_tolerance", "1e-6")
ABS = ("float_absolute_tolerance", "1e-3")
REL = ("float_relative_tolerance", "1e-3")
SPACE = ("space_change_sensitive",)
CASE = ("case_sensitive",)


def ok(answer: bytes, output: bytes, *args: str) -> bool:
    return check(answer, output, args).accepted


@pytest.mark.parametrize(
    ("answer", "output", "args", "accepted"),
    [
        # whitespace: any run is as good as any other, leading and trailing ones do not matter
        (b"3\n", b"3\n", (), True),
        (b"3\n", b"3", (), True),
        (b"1 2\n", b"1\t\t2\r\n\n", (), True),
        (b"1 2\n", b"  \n1\v2\f", (), True),
        (b"1 2\n", b"12\n", (), False),
        (b"a b\nc\n", b"a\nb c\n", (), True),
        # case: ASCII letters only, insensitive unless case_sensitive
        (b"Yes\n", b"YES\n", (), True),
        (b"Yes\n", b"yes\n", CASE, False),
        (b"Yes\n", b"Yes\n", CASE, True),
        ("Ärger\n".encode(), "äRGER\n".encode(), (), False),  # Ä is not ASCII: bytes differ
        ("Ärger\n".encode(), "ÄRGER\n".encode(), (), True),
        # empty
        (b"", b"", (), True),
        (b"", b"\n\n  ", (), True),
        (b"\n", b"", (), True),
        (b"", b"x", (), False),
        (b"x\n", b"", (), False),
        # counts
        (b"1 2 3\n", b"1 2\n", (), False),
        (b"1 2\n", b"1 2 3\n", (), False),
        # numbers without a tolerance are strings
        (b"2\n", b"2.0\n", (), False),
        (b"0.5\n", b".5\n", (), False),
        (b"1E5\n", b"1e5\n", (), True),  # only through case-insensitivity
        (b"1E5\n", b"1e5\n", CASE, False),
        # invalid UTF-8 compares byte for byte
        (b"\xff\xfe x\n", b"\xff\xfe X\n", (), True),
        (b"\xff\xfe\n", b"\xff\xfd\n", (), False),
        (b"\x00\n", b"\x00", (), True),
    ],
)
def test_tokens(answer: bytes, output: bytes, args: tuple[str, ...], accepted: bool) -> None:
    assert ok(answer, output, *args) is accepted


@pytest.mark.parametrize(
    ("answer", "output", "args", "accepted"),
    [
        (b"1.0\n", b"1.0000009\n", TOL, True),
        (b"1.0\n", b"1.0000011\n", TOL, False),
        (b"1000000\n", b"1000000.9\n", TOL, True),  # relative: 1e-6 * 1e6 = 1
        (b"1000000\n", b"1000001.1\n", TOL, False),
        # absolute only
        (b"100\n", b"100.0009\n", ABS, True),
        (b"100\n", b"100.01\n", ABS, False),
        (b"0\n", b"0.0009\n", ABS, True),
        # relative only: relative to the answer's value, so zero must be met exactly
        (b"100\n", b"100.09\n", REL, True),
        (b"100\n", b"100.2\n", REL, False),
        (b"0\n", b"0.0000001\n", REL, False),
        (b"0\n", b"-0.0\n", REL, True),
        (b"-100\n", b"-100.09\n", REL, True),
        # either tolerance suffices when both are given
        (b"0\n", b"0.0009\n", (*ABS, *REL), True),
        (b"1000\n", b"1000.9\n", (*ABS, *REL), True),
        (b"1000\n", b"1001.1\n", (*ABS, *REL), False),
        # any decimal formatting of the number is fine
        (b"0.0314\n", b"3.14e-2\n", TOL, True),
        (b"0.0314\n", b"3.14E-02\n", TOL, True),
        (b"0.0314\n", b"+.0314\n", TOL, True),
        (b"200\n", b"2.0e2\n", TOL, True),  # integers are floats once a tolerance is set
        (b"200\n", b"200.\n", TOL, True),
        (b"5\n", b"5.0000001\n", TOL, True),
        (b"5\n", b"6\n", TOL, False),
        # not numbers: the output's token must be one where the answer's is
        (b"1.5\n", b"abc\n", TOL, False),
        (b"1.5\n", b"1.5x\n", TOL, False),
        (b"1.5\n", b"1,5\n", TOL, False),
        (b"1.5\n", b"0x1.8p0\n", TOL, False),  # hex floats are outside the spec's grammar
        (b"1.5\n", b"1_5\n", TOL, False),  # Python's float() would take digit separators; we do not
        (b"1e5\n", b"100000\n", TOL, True),
        (b"1e999\n", b"1e999\n", TOL, True),  # overflow: not a number, so compared as a string
        (b"1e999\n", b"1E999\n", TOL, True),
        (b"1e300\n", b"1e999\n", TOL, False),
        # inf and nan are not numbers (the spec's grammar): strings, case-insensitive by default
        (b"inf\n", b"INF\n", TOL, True),
        (b"inf\n", b"infinity\n", TOL, False),
        (b"nan\n", b"NaN\n", TOL, True),
        (b"nan\n", b"NaN\n", (*TOL, *CASE), False),
        # a word in the answer is still a word
        (b"Impossible\n", b"impossible\n", TOL, True),
        (b"x 1.0\n", b"x 1.0000001\n", TOL, True),
    ],
)
def test_floats(answer: bytes, output: bytes, args: tuple[str, ...], accepted: bool) -> None:
    assert ok(answer, output, *args) is accepted


@pytest.mark.parametrize(
    ("answer", "output", "accepted"),
    [
        (b"1 2\n", b"1 2\n", True),
        (b"1 2\n", b"1  2\n", False),  # an extra space
        (b"1 2\n", b"1\t2\n", False),  # another kind of whitespace
        (b"1 2\n", b"1\n2\n", False),
        (b"3\n", b"3", False),  # the answer's final newline is missing: problemtools rejects it too
        (b"3\n", b"3\n\n", False),  # a blank line more
        (b"3\n", b"3 \n", False),  # trailing space
        (b"3", b"3\n", False),
        (b"3", b"3", True),
        (b" 3\n", b"3\n", False),  # leading whitespace counts as well
        (b"3\n", b" 3\n", False),
        (b"", b"", True),
        (b"", b"\n", False),
        (b"\n", b"", False),
        (b"Yes No\n", b"yes NO\n", True),  # tokens still compare as usual
        (b"a\r\nb\r\n", b"a\r\nb\r\n", True),
        (b"a\r\nb\r\n", b"a\nb\n", False),
    ],
)
def test_space_change_sensitive(answer: bytes, output: bytes, accepted: bool) -> None:
    assert ok(answer, output, *SPACE) is accepted


def test_space_change_sensitive_with_floats() -> None:
    assert ok(b"1.0 2.0\n", b"1.0000001 2.0\n", *SPACE, *TOL)
    assert not ok(b"1.0 2.0\n", b"1.0000001  2.0\n", *SPACE, *TOL)
    assert not ok(b"1.0\n", b"1.5\n", *SPACE, *TOL)


# -- flags -------------------------------------------------------------------------------------


def test_flags_parse() -> None:
    f = parse_flags(["case_sensitive", "float_absolute_tolerance", "1e-4", "space_change_sensitive"])
    assert (f.case_sensitive, f.space_change_sensitive) == (True, True)
    assert (f.absolute_tolerance, f.relative_tolerance) == (1e-4, None)
    both = parse_flags(["float_tolerance", "0.5"])
    assert (both.absolute_tolerance, both.relative_tolerance) == (0.5, 0.5)
    assert not parse_flags([]).floats


def test_a_later_tolerance_wins_as_in_problemtools() -> None:
    f = parse_flags(["float_tolerance", "1e-6", "float_absolute_tolerance", "1e-2"])
    assert (f.absolute_tolerance, f.relative_tolerance) == (1e-2, 1e-6)


def test_a_zero_tolerance_still_compares_as_numbers() -> None:
    assert ok(b"0.5\n", b"5e-1\n", "float_absolute_tolerance", "0")
    assert not ok(b"0.5\n", b"0.5000001\n", "float_absolute_tolerance", "0")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["case_insensitive"], "unknown flag 'case_insensitive'"),
        (["float_tolerance"], "float_tolerance needs a value"),
        (["float_tolerance", "abc"], "takes a number >= 0, not 'abc'"),
        (["float_relative_tolerance", "-1"], "takes a number >= 0"),
        (["float_absolute_tolerance", "nan"], "takes a number >= 0"),
        (["Case_Sensitive"], "unknown flag"),
    ],
)
def test_bad_flags_are_value_errors(args: list[str], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        check(b"1\n", b"1\n", args)


def test_flags_are_checked_even_when_the_output_is_identical() -> None:
    with pytest.raises(ValueError):
        check(b"1\n", b"1\n", ["bogus"])


@pytest.mark.parametrize(
    ("token", "value"),
    [
        (b"1", 1.0),
        (b"-1", -1.0),
        (b"+1.5", 1.5),
        (b".5", 0.5),
        (b"5.", 5.0),
        (b"1e3", 1000.0),
        (b"1E+3", 1000.0),
        (b"2.5e-1", 0.25),
        (b"0" * 40 + b"1." + b"0" * 40, 1.0),
        (b"inf", None),
        (b"nan", None),
        (b"0x10", None),
        (b"1e", None),
        (b"e5", None),
        (b".", None),
        (b"1.2.3", None),
        (b"--1", None),
        (b"1e999", None),
        (b"", None),
        (b"\xff", None),
    ],
)
def test_float_grammar(token: bytes, value: float | None) -> None:
    assert parse_float(token) == value


# -- messages ----------------------------------------------------------------------------------


def test_a_mismatch_names_lines_and_both_tokens() -> None:
    r = check(b"a\nb\nc\n", b"a\nb\n\nC d\n", CASE)
    assert r == CheckResult(accepted=False, message=r.message)
    assert r.message.startswith("Wrong answer on line 4 of the output (line 3 of the answer), token 3")
    assert 'expected "c", found "C"' in r.message
    assert r.team_message == "" and r.judge_error is None and r.score is None


def test_the_message_quotes_the_original_case() -> None:
    r = check(b"Alpha Beta\n", b"alpha GAMMA\n", ())
    assert 'expected "Beta", found "GAMMA"' in r.message


def test_a_float_mismatch_gives_the_difference_and_tolerance() -> None:
    r = check(b"x\n1.5\n", b"x\n1.6\n", TOL)
    assert "line 2 of the output (line 2 of the answer)" in r.message
    assert 'expected "1.5", found "1.6": they differ by 0.1' in r.message
    assert "absolute 1e-06, relative 1e-06" in r.message


def test_a_word_where_a_number_is_due() -> None:
    r = check(b"2.5\n", b"two\n", ABS)
    assert 'expected a number ("2.5"), found "two"' in r.message


def test_trailing_output() -> None:
    r = check(b"1\n", b"1\n\n2 3\n", ())
    assert not r.accepted
    assert r.message == (
        'Wrong answer: trailing output on line 3 of the output: "2" is token 2, and the answer has 1 token'
    )


@pytest.mark.parametrize(
    ("output", "says"),
    [
        (b"", "the output is empty"),
        (b" \n\n", "the output has only whitespace"),
        (b"1\n", "the output ended after 1 token;"),
    ],
)
def test_missing_output(output: bytes, says: str) -> None:
    r = check(b"1\n2\n", output, ())
    assert not r.accepted
    assert r.message.startswith("Wrong answer: EOF in the output while the answer has more")
    assert says in r.message
    if output.strip():
        assert 'expected "2" next (token 2, line 2 of the answer)' in r.message


@pytest.mark.parametrize(
    ("answer", "output", "says"),
    [
        (b"3\n", b"3", 'lacks the answer\'s final whitespace "\\n"'),
        (b"3\n", b"3\n\n", 'whitespace differs (space_change_sensitive): expected "\\n", found "\\n\\n"'),
        (b"1 2\n", b"1\t2\n", 'expected " ", found "\\t"'),
        (b"1\n", b"1\n2\n", 'trailing output on line 2 of the output: "2"'),
        (b"1\n", b"1\n \n", 'whitespace differs (space_change_sensitive): expected "\\n", found "\\n \\n"'),
        (b"1", b"1\n", 'trailing whitespace on line 1 of the output: "\\n"'),
        (b"1", b"1\n\n2", 'trailing output on line 3 of the output: "2"'),
        (
            b"1\n2\n",
            b"1\n",
            'EOF in the output on line 2 while the answer has more: expected "2" next (line 2',
        ),
        (
            b"1\n\n2\n",
            b"1",
            'EOF in the output on line 1 while the answer has more: expected "2" next (line 3',
        ),
        (b" 3\n", b"3\n", 'expected whitespace " ", found token "3"'),
        (b"1\n", b"", 'EOF in the output on line 1 while the answer has more: expected "1"'),
        (b"", b"x", 'trailing output on line 1 of the output: "x"'),
    ],
)
def test_space_change_messages(answer: bytes, output: bytes, says: str) -> None:
    r = check(answer, output, SPACE)
    assert not r.accepted
    assert says in r.message, r.message


def test_invalid_utf8_is_shown_escaped() -> None:
    r = check(b"\xff\xfe\n", b"\xff\xfd\n", ())
    assert 'expected "\\xff\\xfe", found "\\xff\\xfd"' in r.message


def test_long_tokens_are_cut_in_messages() -> None:
    r = check(b"a" * 10_000 + b"\n", b"b" * 10_000 + b"\n", ())
    assert len(r.message) < 300
    assert "(10000 bytes)" in r.message


# -- speed -------------------------------------------------------------------------------------

BIG = b"".join(b"%d %d.%06d Word\n" % (i, i, i % 1_000_000) for i in range(500_000))  # ~10 MB


@pytest.mark.parametrize("args", [(), CASE, TOL, SPACE, (*SPACE, *TOL)])
def test_ten_megabytes_check_in_well_under_a_second(args: tuple[str, ...]) -> None:
    assert len(BIG) > 10_000_000
    output = BIG.replace(b"Word", b"WORD")  # not byte-identical: every line needs a look
    start = time.process_time()
    r = check(BIG, output, args)
    elapsed = time.process_time() - start
    assert r.accepted is (args != CASE)
    # linear, not quadratic: about 0.5 s of CPU here; the bound is generous for noisy machines
    assert elapsed < 10.0, f"{elapsed:.2f} s for {len(BIG)} bytes with {args}"


def test_a_late_mismatch_in_ten_megabytes_is_found_and_placed_quickly() -> None:
    output = BIG[:-5] + b"Wrong\n"
    start = time.process_time()
    r = check(BIG, output, TOL)
    elapsed = time.process_time() - start
    assert not r.accepted
    assert "line 500000 of the output (line 500000 of the answer), token 1500000" in r.message
    assert elapsed < 10.0, f"{elapsed:.2f} s"


def test_floats_that_differ_in_every_token_are_still_fast() -> None:
    answer = b"".join(b"%d.5\n" % i for i in range(500_000))
    output = b"".join(b"%d.50000001\n" % i for i in range(500_000))
    start = time.process_time()
    assert check(answer, output, TOL).accepted
    assert time.process_time() - start < 15.0  # about 1 s here; generous: catches quadratic, not noise


# -- against a port of problemtools' loop ------------------------------------------------------


def problemtools(answer: bytes, output: bytes, args: tuple[str, ...]) -> bool:
    """default_validator.cc's main loop, byte by byte, with the spec's float grammar."""
    flags = parse_flags(args)
    ws = set(b" \t\n\v\f\r")
    ai = oi = 0
    while True:
        while ai < len(answer) and answer[ai] in ws:
            if flags.space_change_sensitive:
                if oi >= len(output) or output[oi] != answer[ai]:
                    return False
                oi += 1
            ai += 1
        while oi < len(output) and output[oi] in ws:
            if flags.space_change_sensitive:
                return False
            oi += 1
        if ai >= len(answer):
            break
        aj = ai
        while aj < len(answer) and answer[aj] not in ws:
            aj += 1
        if oi >= len(output):
            return False
        oj = oi
        while oj < len(output) and output[oj] not in ws:
            oj += 1
        a, o = answer[ai:aj], output[oi:oj]
        ai, oi = aj, oj
        want = parse_float(a) if flags.floats else None
        if want is not None:
            got = parse_float(o)
            if got is None:
                return False
            diff = abs(want - got)
            within_abs = flags.absolute_tolerance is not None and diff <= flags.absolute_tolerance
            within_rel = flags.relative_tolerance is not None and diff <= flags.relative_tolerance * abs(want)
            if not (within_abs or within_rel):
                return False
        elif flags.case_sensitive and a != o or not flags.case_sensitive and a.lower() != o.lower():
            return False
    return not output[oi:].strip()


@pytest.mark.parametrize("seed", range(8))
def test_agrees_with_problemtools_on_random_texts(seed: int) -> None:
    import random

    rng = random.Random(seed)
    pieces = [b"a", b"A", b"b", b"1", b"2", b".", b"e", b"-", b" ", b" ", b"\n", b"\n", b"\t", b"\r"]
    flag_sets = [(), CASE, SPACE, TOL, ABS, REL, (*SPACE, *CASE), (*SPACE, "float_tolerance", "0.5")]
    for _ in range(500):
        answer = b"".join(rng.choices(pieces, k=rng.randrange(8)))
        if rng.random() < 0.5:
            output = answer  # then mutate it a little, so that many pairs are near misses
            for _ in range(rng.randrange(3)):
                at = rng.randrange(len(output) + 1)
                output = output[:at] + rng.choice(pieces) + output[at + rng.randrange(2) :]
        else:
            output = b"".join(rng.choices(pieces, k=rng.randrange(8)))
        for args in flag_sets:
            r = check(answer, output, args)
            assert r.accepted is problemtools(answer, output, args), (answer, output, args, r.message)
            assert r.accepted or r.message.startswith("Wrong answer")


# -- streaming: windows, long items, bounded memory ---------------------------------------------


@pytest.mark.parametrize(("chunk", "long"), [(1, 2), (2, 3), (3, 5), (7, 7)])
def test_windows_and_long_items_agree_with_problemtools(
    monkeypatch: pytest.MonkeyPatch, chunk: int, long: int
) -> None:
    """Tiny windows put every token, run and number across a window's edge, and tiny LONG makes
    most items digests: the verdicts must not change (except that a digest is never a number)."""
    import random

    from judge.checkers import default

    monkeypatch.setattr(default, "CHUNK", chunk)
    monkeypatch.setattr(default, "LONG", long)
    rng = random.Random(chunk * 100 + long)
    pieces = [b"a", b"A", b"s", b"1", b"2", b".", b"e", b"-", b" ", b" ", b"\n", b"\n", b"\t", b"\r"]
    flag_sets = [(), CASE, SPACE, (*SPACE, *CASE)]
    for _ in range(400):
        answer = b"".join(rng.choices(pieces, k=rng.randrange(16)))
        output = answer
        for _ in range(rng.randrange(3)):
            at = rng.randrange(len(output) + 1)
            output = output[:at] + rng.choice(pieces) + output[at + rng.randrange(2) :]
        for args in flag_sets:
            r = check(answer, output, args)
            assert r.accepted is problemtools(answer, output, args), (answer, output, args, r.message)
            assert r.accepted or r.message.startswith("Wrong answer")


def test_messages_are_the_same_across_window_edges(monkeypatch: pytest.MonkeyPatch) -> None:
    from judge.checkers import default

    cases = [
        (b"a\nb\nc\n", b"a\nb\n\nC d\n", CASE),
        (b"1\n", b"1\n\n2 3\n", ()),
        (b"1\n2\n", b"1\n", ()),
        (b"x\n1.5\n", b"x\n1.6\n", TOL),
        (b"1\n\n2\n", b"1", SPACE),
        (b"1", b"1\n\n2", SPACE),
        (b"3\n", b"3", SPACE),
        (b"1 2\n", b"1\t2\n", SPACE),
        (b" 3\n", b"3\n", SPACE),
    ]
    whole = [check(a, o, args).message for a, o, args in cases]
    monkeypatch.setattr(default, "CHUNK", 1)
    assert [check(a, o, args).message for a, o, args in cases] == whole


def test_a_long_token_is_compared_whole_by_its_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    from judge.checkers import default

    monkeypatch.setattr(default, "CHUNK", 1000)
    monkeypatch.setattr(default, "LONG", 4000)
    big = b"x" * 10_000
    assert check(b"1 " + big + b" 2\n", b"1 " + big.upper() + b" 2", ()).accepted
    assert not check(b"1 " + big + b" 2\n", b"1 " + big.upper() + b" 2", CASE).accepted
    r = check(b"1 " + big + b" 2\n", b"1 " + big + b"y 2\n", ())
    assert r.message == (
        "Wrong answer on line 1 of the output (line 1 of the answer), token 2: "
        "expected a token of 10000 bytes, found a token of 10001 bytes"
    )
    r = check(b"1\n" + b" " * 9000 + b"\n2\n", b"1\n" + b" " * 9001 + b"\n2\n", SPACE)
    assert "whitespace differs (space_change_sensitive): expected a whitespace run of 9002 bytes" in r.message
    r = check(b"1\n" + b"\n" * 9000 + b"2 3\n", b"1\n" + b"\n" * 9000 + b"2 4\n", ())
    assert r.message.startswith("Wrong answer on line 9002 of the output (line 9002 of the answer), token 3")


MEMORY_PROBE = """
import io, resource, sys
from judge.checkers.default import check_streams

class Endless(io.RawIOBase):
    # size bytes of line repeated, made as they are read: no copy of the whole text exists
    def __init__(self, line, size, last=b""):
        self.line, self.left, self.last = line, size, last
    def readable(self):
        return True
    def readinto(self, buf):
        n = min(len(buf), self.left)
        block = (self.line * (n // len(self.line) + 1))[:n]
        if n and self.left == n and self.last:
            block = block[:n - len(self.last)] + self.last
        buf[:n] = block
        self.left -= n
        return n

size = 64 * 1024 * 1024
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
r = check_streams(io.BufferedReader(Endless(b"1 2.5 x\\n", size)),
                  io.BufferedReader(Endless(b"1 2.5 X\\n", size, last=b"7\\n")), sys.argv[1:])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((peak - before) // 1024, r.accepted, r.message)
"""


@pytest.mark.slow
@pytest.mark.parametrize("args", [(), TOL, SPACE])
def test_comparing_64_mib_holds_a_few_mib(args: tuple[str, ...]) -> None:
    """Finding 3 of issue 17: splitting a 64 MiB output whole took over a gigabyte. Here the
    texts are made as they are read, so the process's peak is the checker's own."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    grown_mib, accepted, message = done.stdout.split(" ", 2)
    assert accepted == "False"
    assert f"line {64 * 1024 * 1024 // 8} of the output" in message, message
    assert int(grown_mib) < 24, f"the check grew the process by {grown_mib} MiB"
