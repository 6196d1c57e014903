"""A contest's scoreboard, computed from its submissions: ICPC style or scoring style, with a freeze.

Pure: no database, no Flask, no clock. The caller (web/) loads the contest and its submissions
through judge/storage/repo.py, turns each submission into an `Attempt`, passes `now` and whether
the viewer is an organiser (`full`), and renders the `Scoreboard` it gets back.

Theory of operation, per team and problem, attempts taken in the order they were submitted
(equal times keep the caller's order):

* Window: only attempts with `start <= at < end` on a problem in `problems` exist at all; the
  rest are dropped before anything else, and do not make their team appear.
* Freeze: the view is frozen when `freeze` is set, `freeze <= now < end` and not `full`. In a
  frozen view an attempt with `at >= freeze` is hidden: it only adds to its cell's `pending`,
  whatever its verdict (counting a hidden CE as free would reveal that it was a CE). Organisers
  (`full=True`) always see everything; contestants see everything again once `now >= end`,
  since there is no separate "unfreeze" step.
* Each remaining attempt is, in turn:
  - pending, when hidden or not judged yet (`verdict is None`);
  - ignored, when its verdict is CE or IE. A compile error costs neither penalty nor an
    attempt, as at the ICPC World Finals and DOMjudge's default (`compile_penalty: 0`); IE is
    the judge's failure, not the contestant's, and the submission will be rejudged;
  - counted otherwise, and the first counted AC solves the problem.
  After the first counted AC nothing further counts, not even as pending: the cell cannot
  change any more. A pending attempt before that AC stays pending, and the cell may change
  when it is judged (an earlier AC, or one more rejected attempt).
* ICPC: a solved cell costs `minutes` (floored minutes from `start` to its first AC) plus
  `penalty_minutes` per counted rejected attempt before it; unsolved cells cost nothing.
  Rows rank by solved (more first), then penalty (less first).
* Scoring: a cell's score is the best score of all its counted attempts, after the first AC
  too (a resubmission may still do better); an attempt judged without a score counts as 0.
  Pending likewise counts every hidden or unjudged attempt, since any of them may raise the
  score. Rows rank by points (more first); points are compared rounded to 1e-6, so that
  0.1 + 0.2 and 0.3 share a rank. `solved` still counts the problems with an AC.
* Equal ranking keys share a rank (1, 2, 2, 4); rows with equal keys are listed by team name.
  First to solve: per problem, the cells whose first AC has the earliest `at` among the shown
  solves (all of them on a tie).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from judge.verdict import Verdict

KINDS = ("icpc", "scoring")

_NOT_COUNTED = frozenset({Verdict.CE, Verdict.IE})
_POINTS_DIGITS = 6  # points are ranked after rounding to this many decimals


@dataclass(frozen=True, slots=True)
class Attempt:
    """One submission, as the scoreboard needs it."""

    team: str  # the user's name
    problem: str  # problem id
    at: datetime  # aware UTC, when it was submitted
    verdict: str | None  # "AC", "WA", ... or None while not judged yet
    score: float | None = None


@dataclass(frozen=True, slots=True)
class Cell:
    """One team on one problem, as the viewer may see it."""

    problem: str
    solved: bool
    attempts: int  # counted submissions up to and including the first AC (all, if none AC)
    pending: int  # submissions not counted because they are hidden by the freeze or not judged yet
    minutes: int | None  # minutes from the contest start to the first AC (floored), None if not solved
    first: bool  # the first team to solve this problem (by time; ties: both)
    score: float | None  # scoring contests: the best score on this problem


@dataclass(frozen=True, slots=True)
class Row:
    """One team's line. `penalty` is 0 in scoring contests, `points` 0.0 in ICPC ones."""

    rank: int  # 1-based; equal results share a rank (1, 2, 2, 4)
    team: str
    solved: int
    penalty: int  # ICPC: sum over solved problems of minutes + penalty_minutes * rejected attempts
    points: float  # scoring: the sum of each problem's best score
    cells: tuple[Cell, ...]  # in the order of `problems`


@dataclass(frozen=True, slots=True)
class Scoreboard:
    kind: str  # "icpc" or "scoring"
    problems: tuple[str, ...]
    rows: tuple[Row, ...]
    frozen: bool  # whether what is shown is the frozen view (freeze passed and not public)


def build(
    *,
    kind: str,
    problems: Sequence[str],
    teams: Sequence[str],
    attempts: Iterable[Attempt],
    start: datetime,
    end: datetime,
    freeze: datetime | None,
    now: datetime,
    full: bool,
    penalty_minutes: int = 20,
) -> Scoreboard:
    """The scoreboard as a viewer sees it at `now`; `full` for organisers. Rules: the module docstring.

    Raises ValueError for an unknown `kind`, a repeated problem, or a naive datetime argument.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown scoreboard kind {kind!r}: use one of {', '.join(KINDS)}")
    if len(set(problems)) != len(problems):
        raise ValueError(f"problems are repeated in {list(problems)!r}: list each problem once")
    for name, value in (("start", start), ("end", end), ("freeze", freeze), ("now", now)):
        if value is not None and value.utcoffset() is None:
            raise ValueError(f"naive datetime {name}={value!r}: use an aware one, e.g. datetime.now(UTC)")

    frozen = freeze is not None and not full and freeze <= now < end
    by_cell: dict[tuple[str, str], list[Attempt]] = {}
    team_names = dict.fromkeys(teams)  # an ordered set: listed teams first, then as they appear
    wanted = set(problems)
    for attempt in attempts:
        if start <= attempt.at < end and attempt.problem in wanted:
            team_names.setdefault(attempt.team)
            by_cell.setdefault((attempt.team, attempt.problem), []).append(attempt)

    cutoff = freeze if frozen else None
    tallies = {
        key: _tally(sorted(cell, key=lambda a: a.at), cutoff=cutoff, scoring=kind == "scoring")
        for key, cell in by_cell.items()
    }
    first_at: dict[str, datetime] = {}
    for (_, problem), tally in tallies.items():
        if tally.solved_at is not None:
            first_at[problem] = min(first_at.get(problem, tally.solved_at), tally.solved_at)

    unranked = [
        _row(team, problems, tallies, first_at, kind=kind, start=start, penalty_minutes=penalty_minutes)
        for team in team_names
    ]
    return Scoreboard(kind=kind, problems=tuple(problems), rows=_ranked(unranked, kind), frozen=frozen)


@dataclass(slots=True)
class _Tally:
    """What one cell's attempts add up to, before it is placed in a row."""

    attempts: int = 0
    pending: int = 0
    solved_at: datetime | None = None
    score: float | None = None


def _tally(attempts: Sequence[Attempt], *, cutoff: datetime | None, scoring: bool) -> _Tally:
    """Walk one cell's attempts in time order; `cutoff` hides attempts at or after it."""
    tally = _Tally()
    for attempt in attempts:
        solved = tally.solved_at is not None
        if solved and not scoring:
            break  # ICPC: nothing after the first AC counts
        if attempt.verdict is None or (cutoff is not None and attempt.at >= cutoff):
            tally.pending += 1
        elif attempt.verdict not in _NOT_COUNTED:
            score = attempt.score if attempt.score is not None else 0.0
            tally.score = score if tally.score is None else max(tally.score, score)
            if not solved:
                tally.attempts += 1
                if attempt.verdict == Verdict.AC:
                    tally.solved_at = attempt.at
    return tally


def _row(
    team: str,
    problems: Sequence[str],
    tallies: dict[tuple[str, str], _Tally],
    first_at: dict[str, datetime],
    *,
    kind: str,
    start: datetime,
    penalty_minutes: int,
) -> Row:
    """One team's row with rank 0; `_ranked` fills the rank in."""
    cells: list[Cell] = []
    penalty = 0
    for problem in problems:
        tally = tallies.get((team, problem), _Tally())
        minutes = None
        if tally.solved_at is not None:
            minutes = (tally.solved_at - start) // timedelta(minutes=1)
            penalty += minutes + penalty_minutes * (tally.attempts - 1)
        cells.append(
            Cell(
                problem=problem,
                solved=tally.solved_at is not None,
                attempts=tally.attempts,
                pending=tally.pending,
                minutes=minutes,
                first=tally.solved_at is not None and tally.solved_at == first_at[problem],
                score=tally.score if kind == "scoring" else None,
            )
        )
    scoring = kind == "scoring"
    return Row(
        rank=0,
        team=team,
        solved=sum(cell.solved for cell in cells),
        penalty=0 if scoring else penalty,
        points=math.fsum(cell.score or 0.0 for cell in cells) if scoring else 0.0,
        cells=tuple(cells),
    )


def _ranked(rows: list[Row], kind: str) -> tuple[Row, ...]:
    """Sort rows best first and give equal keys equal ranks (1, 2, 2, 4); ties listed by team name."""

    def key(row: Row) -> tuple[float, ...]:
        if kind == "scoring":
            return (-round(row.points, _POINTS_DIGITS),)
        return (-row.solved, row.penalty)

    ordered = sorted(rows, key=lambda row: (key(row), row.team))
    ranked: list[Row] = []
    for i, row in enumerate(ordered):
        same_as_previous = i > 0 and key(row) == key(ordered[i - 1])
        rank = ranked[-1].rank if same_as_previous else i + 1
        ranked.append(replace(row, rank=rank))
    return tuple(ranked)
