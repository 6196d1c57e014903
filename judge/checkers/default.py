"""The default output validator of the Kattis/ICPC problem package format, as a pure function.

Behaves as problemtools' `support/default_validator/default_validator.cc` and DOMjudge's
`compare.cc` (its port) do, and as the 2025-09 spec's "Default output validator
specification" words it:

* Both files are byte strings, split into tokens on runs of the six ASCII whitespace bytes
  (space, \\t, \\n, \\v, \\f, \\r; C's isspace, and exactly what `bytes.split()` splits on).
  Nothing is decoded, so invalid UTF-8 compares byte for byte.
* Tokens compare case-insensitively (ASCII A-Z only, strcasecmp) unless `case_sensitive`.
* With `float_absolute_tolerance ε`, `float_relative_tolerance ε` or `float_tolerance ε` (both),
  an answer token that is a decimal float (the spec's grammar: `[+-]? (d*.d+ | d+. | d+)
  ([eE][+-]?d+)?`, integers included) must meet an output token that is one too, with
  |s-a| <= ε_abs or |s-a| <= ε_rel*|a|. Without a tolerance, numbers are strings: "2.0" is not "2".
* `space_change_sensitive`: whitespace runs must be byte-identical, leading and trailing ones
  included. So an answer "3\\n" rejects "3" (no final newline) and "3\\n\\n", as problemtools
  does (it matches every whitespace byte of the answer, then rejects any the output has
  beyond). Without the flag leading and trailing whitespace never matter.
* Fewer tokens in the output: wrong answer, "EOF in the output while the answer has more";
  more: wrong answer, "trailing output". The message (judgemessage) names the line in both
  files, the token's number, and what was expected and found, as problemtools' does.

Decisions where the references differ:

* Floats are the spec's decimal grammar. "inf", "nan" and hex floats ("0x1p3") are not
  numbers, so they compare as strings (problemtools also refuses inf/nan through its isfloat;
  sscanf would take hex there; DOMjudge calls inf equal to inf and nan equal to nan). A
  decimal that overflows a double ("1e999") is not a number either, as in problemtools.
* The relative tolerance is relative to the answer's value, as the spec and problemtools
  have it (DOMjudge divides by the team's value). Arithmetic is IEEE double, as problemtools'.
* A tolerance flag given twice: the later one wins, as in problemtools (the 2025-09 spec calls
  it an error; legacy packages concatenate problem-wide and per-group flags, so a strict
  reading would make their checks fail). A flag we do not know is a ValueError: the package
  is wrong, and guessing would judge it wrongly.

Speed: the common case is a few C-level passes (`lower`, `split`, list equality; in
space_change_sensitive mode one `translate` more, see _check_spaces), so 10 MB checks in
well under a second. Token lists are compared in chunks of a few thousand at C speed; only a
chunk with a difference is walked in Python, and positions (line numbers) are worked out only
for the message of a rejection. The slow case is a tolerance with every number printed
differently from the answer: about a microsecond a token.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from . import CheckResult

WHITESPACE = b" \t\n\v\f\r"
_FLOAT = re.compile(rb"[+-]?(?:[0-9]*\.[0-9]+|[0-9]+\.?)(?:[eE][+-]?[0-9]+)?")
_SHOW_BYTES = 60  # longest part of a token quoted in a message
_ESCAPES = str.maketrans({"\n": "\\n", "\t": "\\t", "\r": "\\r", "\v": "\\v", "\f": "\\f", '"': '\\"'})
TOLERANCE_FLAGS = ("float_tolerance", "float_absolute_tolerance", "float_relative_tolerance")
FLAGS_HELP = ("case_sensitive, space_change_sensitive, float_tolerance ε, float_absolute_tolerance ε, "
              "float_relative_tolerance ε")

ACCEPTED = CheckResult(accepted=True)


@dataclass(frozen=True, slots=True)
class Flags:
    """The validator flags, parsed. A tolerance of None is unset."""

    case_sensitive: bool = False
    space_change_sensitive: bool = False
    absolute_tolerance: float | None = None
    relative_tolerance: float | None = None

    @property
    def floats(self) -> bool:
        return self.absolute_tolerance is not None or self.relative_tolerance is not None

    def describe_tolerance(self) -> str:
        parts = []
        if self.absolute_tolerance is not None:
            parts.append(f"absolute {self.absolute_tolerance:g}")
        if self.relative_tolerance is not None:
            parts.append(f"relative {self.relative_tolerance:g}")
        return ", ".join(parts)


def parse_flags(args: Sequence[str]) -> Flags:
    """The flags of `validator_flags` / `output_validator_args`; ValueError for anything else."""
    case_sensitive = space_sensitive = False
    absolute: float | None = None
    relative: float | None = None
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "case_sensitive":
            case_sensitive = True
        elif arg == "space_change_sensitive":
            space_sensitive = True
        elif arg in TOLERANCE_FLAGS:
            if i + 1 == len(args):
                raise ValueError(f"default output validator: {arg} needs a value, as in `{arg} 1e-6`")
            i += 1
            eps = _tolerance(arg, args[i])
            if arg != "float_relative_tolerance":
                absolute = eps
            if arg != "float_absolute_tolerance":
                relative = eps
        else:
            raise ValueError(f"default output validator: unknown flag {arg!r}; it takes {FLAGS_HELP}")
        i += 1
    return Flags(case_sensitive, space_sensitive, absolute, relative)


def _tolerance(flag: str, text: str) -> float:
    try:
        eps = float(text)
    except ValueError:
        eps = math.nan
    if not math.isfinite(eps) or eps < 0:
        raise ValueError(f"default output validator: {flag} takes a number >= 0, not {text!r}")
    return eps


def check(answer: bytes, output: bytes, args: Sequence[str] = ()) -> CheckResult:
    """Judge `output` against `answer` under the validator flags `args` (see the module docstring).

    ValueError if `args` holds a flag the default validator does not know.
    """
    flags = parse_flags(args)
    if answer == output:
        return ACCEPTED
    if flags.space_change_sensitive:
        return _check_spaces(answer, output, flags)
    return _check_tokens(answer, output, flags)


# -- comparing two tokens ----------------------------------------------------------------------


def parse_float(token: bytes) -> float | None:
    """The token's value if it is a decimal float of the spec's grammar and finite, else None."""
    if _FLOAT.fullmatch(token) is None:
        return None
    value = float(token)
    return value if math.isfinite(value) else None


def _mismatch(a: bytes, o: bytes, flags: Flags) -> str | None:
    """None if the output token `o` is right for the answer token `a`, else what is wrong.

    In case-insensitive mode both come lowered already, so a string comparison is `==`.
    """
    if a == o:
        return None
    if flags.floats:
        want = parse_float(a)
        if want is not None:
            got = parse_float(o)
            if got is None:
                return f"expected a number ({show(a)}), found {show(o)}"
            diff = abs(want - got)
            if flags.absolute_tolerance is not None and diff <= flags.absolute_tolerance:
                return None
            if flags.relative_tolerance is not None and diff <= flags.relative_tolerance * abs(want):
                return None
            return (f"expected {show(a)}, found {show(o)}: they differ by {diff:.6g}, "
                    f"more than the tolerance ({flags.describe_tolerance()})")
    return f"expected {show(a)}, found {show(o)}"


def show(data: bytes) -> str:
    """A token or whitespace run for a message: quoted, escaped, invalid UTF-8 as \\x.., cut short."""
    text = data[:_SHOW_BYTES].decode("utf-8", errors="backslashreplace").translate(_ESCAPES)
    more = f"... ({len(data)} bytes)" if len(data) > _SHOW_BYTES else ""
    return f'"{text}{more}"'


def _folded(data: bytes, flags: Flags) -> bytes:
    return data if flags.case_sensitive else data.lower()


# -- whitespace-insensitive mode (the default) -------------------------------------------------


def _check_tokens(answer: bytes, output: bytes, flags: Flags) -> CheckResult:
    ans = _folded(answer, flags).split()
    out = _folded(output, flags).split()
    i = _first_bad(ans, out, flags)
    if i < min(len(ans), len(out)):
        a_at, o_at = _token_offset(answer, i), _token_offset(output, i)
        return _wrong(f"Wrong answer on line {_line(output, o_at)} of the output "
                      f"(line {_line(answer, a_at)} of the answer), token {i + 1}: "
                      f"{_explain_token(answer, a_at, len(ans[i]), output, o_at, len(out[i]), flags)}")
    if len(out) > len(ans):
        at = _token_offset(output, len(ans))
        extra = output[at:at + len(out[len(ans)])]
        return _wrong(f"Wrong answer: trailing output on line {_line(output, at)} of the output: "
                      f"{show(extra)} is token {len(ans) + 1}, and the answer has {_tokens(len(ans))}")
    if len(ans) > len(out):
        at = _token_offset(answer, len(out))
        nxt = answer[at:at + len(ans[len(out)])]
        if not output:
            what = "the output is empty"
        elif not out:
            what = "the output has only whitespace"
        else:
            what = f"the output ended after {_tokens(len(out))}"
        return _wrong(f"Wrong answer: EOF in the output while the answer has more: {what}; "
                      f"expected {show(nxt)} next (token {len(out) + 1}, line {_line(answer, at)} "
                      f"of the answer)")
    return ACCEPTED


_CHUNK = 4096


def _first_bad(ans: list[bytes], out: list[bytes], flags: Flags | None) -> int:
    """The index of the first pair that does not match, or the shorter length if all match.

    flags None: the pair must be equal bytes. Equal stretches are skipped a chunk at a time
    (list equality runs in C); only a chunk with a difference is walked in Python.
    """
    n = min(len(ans), len(out))
    for start in range(0, n, _CHUNK):
        end = min(start + _CHUNK, n)
        if ans[start:end] == out[start:end]:
            continue
        if flags is not None and flags.floats:
            bad = _first_bad_number(ans, out, start, end, flags)
            if bad is not None:
                return bad
            continue
        for i in range(start, end):
            a, o = ans[i], out[i]
            if a != o and (flags is None or _mismatch(a, o, flags) is not None):
                return i
    return n


def _first_bad_number(ans: list[bytes], out: list[bytes], start: int, end: int, flags: Flags) -> int | None:
    """_first_bad's inner walk with a tolerance set: numbers within it are let through inline
    (the common case: every token printed with other digits), anything else goes to _mismatch."""
    number = _FLOAT.fullmatch
    abs_tol = -1.0 if flags.absolute_tolerance is None else flags.absolute_tolerance
    rel_tol = -1.0 if flags.relative_tolerance is None else flags.relative_tolerance
    for i in range(start, end):
        a, o = ans[i], out[i]
        if a == o:
            continue
        if number(a) is not None and number(o) is not None:
            want = float(a)
            diff = abs(want - float(o))  # inf or nan unless both are finite: then never <= below
            if diff <= abs_tol or diff <= rel_tol * abs(want):
                continue
        if _mismatch(a, o, flags) is not None:
            return i
    return None


def _explain_token(answer: bytes, a_at: int, a_len: int, output: bytes, o_at: int, o_len: int,
                   flags: Flags) -> str:
    """What is wrong with a bad pair of tokens, quoting them as written (not case-folded)."""
    a, o = answer[a_at:a_at + a_len], output[o_at:o_at + o_len]
    exact = Flags(True, flags.space_change_sensitive, flags.absolute_tolerance, flags.relative_tolerance)
    return _mismatch(a, o, exact) or _mismatch(a.lower(), o.lower(), flags) or "tokens differ"


def _tokens(n: int) -> str:
    return "1 token" if n == 1 else f"{n} tokens"


def _token_offset(data: bytes, i: int) -> int:
    """Where the i-th (0-based) token of `data` starts; len(data) if there are not that many."""
    parts = data.split(None, i)
    if len(parts) <= i:
        return len(data)
    return len(data) - len(parts[i])  # the remainder from token i on, leading whitespace stripped


def _line(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _wrong(message: str) -> CheckResult:
    return CheckResult(accepted=False, message=message)


# -- space_change_sensitive --------------------------------------------------------------------


def _check_spaces(answer: bytes, output: bytes, flags: Flags) -> CheckResult:
    """Whitespace runs byte-identical, tokens as usual.

    Fast path, all C-level passes: the tokens match as in the default mode, the lists of
    whitespace runs are equal (found by `split()` on a copy whose whitespace and non-whitespace
    bytes have traded places), and both start with whitespace or neither does. With as many
    tokens on each side, that pins every run to the same place.

    Otherwise, the place where they part. Each text is a stream of alternating tokens and
    runs, starting with a run if `lead` (the text starts with whitespace): position q is token
    (q - lead) / 2 or run (q - 1 + lead) / 2. The first bad token and the first bad run give
    two positions; the earlier one is where the texts part.
    """
    a_tok, o_tok = _folded(answer, flags).split(), _folded(output, flags).split()
    a_runs, o_runs = _runs(answer), _runs(output)
    lead = int(answer[:1].isspace())
    if lead != output[:1].isspace():
        return _wrong("Wrong answer on line 1 of the output: whitespace differs at the start "
                      f"(space_change_sensitive): expected {_first(answer)}, found {_first(output)}")
    i = _first_bad(a_tok, o_tok, flags)
    j = _first_bad(a_runs, o_runs, None)
    a_len, o_len = len(a_tok) + len(a_runs), len(o_tok) + len(o_runs)
    if a_len == o_len and i == len(a_tok) and j == len(a_runs):
        return ACCEPTED
    q = min(2 * i + lead, 2 * j + 1 - lead)
    a_at, o_at = _stream_offset(answer, a_tok, q, lead), _stream_offset(output, o_tok, q, lead)
    where = f"on line {_line(output, o_at)} of the output (line {_line(answer, a_at)} of the answer)"
    if q < a_len and q < o_len:
        if (q - lead) % 2:
            return _wrong(f"Wrong answer {where}: whitespace differs (space_change_sensitive): "
                          f"expected {show(_unletter(a_runs[j]))}, found {show(_unletter(o_runs[j]))}")
        why = _explain_token(answer, a_at, len(a_tok[i]), output, o_at, len(o_tok[i]), flags)
        return _wrong(f"Wrong answer {where}, token {i + 1}: {why}")
    nxt = (q - lead + 1) // 2  # the index of the first token at or after position q
    if q < a_len:  # the output ended
        if nxt < len(a_tok):
            at = _token_offset(answer, nxt)
            return _wrong(f"Wrong answer: EOF in the output on line {_line(output, o_at)} while the answer "
                          f"has more: expected {show(answer[at:at + len(a_tok[nxt])])} next (line "
                          f"{_line(answer, at)} of the answer)")
        return _wrong(f"Wrong answer: the output lacks the answer's final whitespace "
                      f"{show(_unletter(a_runs[-1]))} (line {_line(answer, a_at)} of the answer, "
                      "space_change_sensitive)")
    # the answer ended
    if nxt < len(o_tok):
        at = _token_offset(output, nxt)
        return _wrong(f"Wrong answer: trailing output on line {_line(output, at)} of the output: "
                      f"{show(output[at:at + len(o_tok[nxt])])} after the answer's end")
    return _wrong(f"Wrong answer: trailing whitespace on line {_line(output, o_at)} of the output: "
                  f"{show(_unletter(o_runs[-1]))} after the answer's end (space_change_sensitive)")


def _stream_offset(data: bytes, tokens: list[bytes], q: int, lead: int) -> int:
    """The byte offset of stream position q (see _check_spaces); len(data) past the end."""
    if (q - lead) % 2 == 0:
        return _token_offset(data, (q - lead) // 2)
    before = (q - lead) // 2  # the token the run follows; -1: the leading run
    if before < 0:
        return 0
    if before >= len(tokens):
        return len(data)
    return _token_offset(data, before) + len(tokens[before])


_RUNS_TABLE = bytes(b"stnvfr"[WHITESPACE.index(c)] if c in WHITESPACE else 0x20 for c in range(256))
_UNLETTER = bytes.maketrans(b"stnvfr", WHITESPACE)


def _runs(data: bytes) -> list[bytes]:
    """The whitespace runs of `data`, in order, spelt with letters (" \\t\\n" as b"stn")."""
    return data.translate(_RUNS_TABLE).split()


def _unletter(run: bytes) -> bytes:
    return run.translate(_UNLETTER)


def _first(data: bytes) -> str:
    if not data:
        return "the end of the text"
    if data[:1].isspace():
        return f"whitespace {show(_unletter(_runs(data)[0]))}"
    return f"token {show(data.split()[0])}"
