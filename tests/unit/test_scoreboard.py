"""The scoreboard's rules (judge/scoreboard.py), as tables of attempts and what each viewer sees.

Times are written as minutes from the contest start: the contest runs 5 hours (0-300), and
where there is a freeze it is at minute 240.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from judge.scoreboard import Attempt, Cell, Row, Scoreboard, build

START = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
END = START + timedelta(hours=5)
FREEZE = START + timedelta(hours=4)
AFTER = END + timedelta(hours=1)  # default `now`: the contest is over


def t(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def a(team: str, problem: str, minutes: float, verdict: str | None, score: float | None = None) -> Attempt:
    return Attempt(team=team, problem=problem, at=t(minutes), verdict=verdict, score=score)


def board(
    attempts: list[Attempt],
    *,
    kind: str = "icpc",
    problems: tuple[str, ...] = ("A",),
    teams: tuple[str, ...] = (),
    freeze: datetime | None = None,
    now: datetime = AFTER,
    full: bool = False,
) -> Scoreboard:
    return build(
        kind=kind,
        problems=problems,
        teams=teams,
        attempts=attempts,
        start=START,
        end=END,
        freeze=freeze,
        now=now,
        full=full,
    )


def row(scoreboard: Scoreboard, team: str) -> Row:
    (found,) = (r for r in scoreboard.rows if r.team == team)
    return found


def cell(scoreboard: Scoreboard, team: str, problem: str = "A") -> Cell:
    (found,) = (c for c in row(scoreboard, team).cells if c.problem == problem)
    return found


# ICPC: one team, one problem; (minute, verdict) in submission order.
@pytest.mark.parametrize(
    ("history", "solved", "attempts", "pending", "minutes", "penalty"),
    [
        ([(10, "AC")], True, 1, 0, 10, 10),
        ([(5, "WA"), (7, "TLE"), (30, "AC")], True, 3, 0, 30, 30 + 2 * 20),
        ([(5, "CE"), (6, "IE"), (30, "AC")], True, 1, 0, 30, 30),  # CE and IE are free
        ([(5, "WA"), (30, "AC"), (40, "WA"), (50, "AC")], True, 2, 0, 30, 30 + 20),  # after AC: ignored
        ([(30, "AC"), (40, None)], True, 1, 0, 30, 30),  # not even pending after the AC
        ([(5, None), (30, "AC")], True, 1, 1, 30, 30),  # unjudged before the AC: pending, AC still shown
        ([(5, "WA"), (6, "RTE"), (7, "MLE")], False, 3, 0, None, 0),  # unsolved costs nothing
        ([(5, "WA"), (8, None)], False, 1, 1, None, 0),
        ([(5, "CE")], False, 0, 0, None, 0),
        ([(29 + 59 / 60, "AC")], True, 1, 0, 29, 29),  # 29:59 is minute 29: floored
        ([(50, "AC"), (10, "WA")], True, 2, 0, 50, 50 + 20),  # taken in time order, not list order
    ],
)
def test_icpc_cell(
    history: list[tuple[float, str | None]],
    solved: bool,
    attempts: int,
    pending: int,
    minutes: int | None,
    penalty: int,
) -> None:
    result = board([a("ann", "A", m, v) for m, v in history])
    assert cell(result, "ann") == Cell(
        problem="A",
        solved=solved,
        attempts=attempts,
        pending=pending,
        minutes=minutes,
        first=solved,
        score=None,
    )
    assert (row(result, "ann").solved, row(result, "ann").penalty) == (int(solved), penalty)


def test_icpc_penalty_is_summed_over_solved_problems_only() -> None:
    result = board(
        [a("ann", "A", 10, "WA"), a("ann", "A", 20, "AC"), a("ann", "B", 100, "AC"), a("ann", "C", 5, "WA")],
        problems=("A", "B", "C"),
    )
    assert (row(result, "ann").solved, row(result, "ann").penalty) == (2, (20 + 20) + 100)


def test_penalty_minutes_is_a_parameter() -> None:
    result = build(
        kind="icpc",
        problems=("A",),
        teams=(),
        attempts=[a("ann", "A", 1, "WA"), a("ann", "A", 10, "AC")],
        start=START,
        end=END,
        freeze=None,
        now=AFTER,
        full=False,
        penalty_minutes=5,
    )
    assert row(result, "ann").penalty == 10 + 5


def test_icpc_ranks_solved_then_penalty_and_shares_equal_ranks() -> None:
    result = board(
        [
            a("dan", "A", 10, "AC"),
            a("dan", "B", 20, "AC"),  # 2 solved, 30
            a("cat", "A", 10, "AC"),  # 1 solved, 10 (ties with bob, listed after him by name)
            a("bob", "A", 10, "AC"),  # 1 solved, 10
            a("eve", "A", 5, "WA"),
            a("eve", "A", 10, "AC"),  # 1 solved, 30
            a("fay", "A", 1, "WA"),  # nothing solved
        ],
        problems=("A", "B"),
    )
    assert [(r.rank, r.team, r.solved, r.penalty) for r in result.rows] == [
        (1, "dan", 2, 30),
        (2, "bob", 1, 10),
        (2, "cat", 1, 10),
        (4, "eve", 1, 30),
        (5, "fay", 0, 0),
    ]


def test_more_solved_beats_less_penalty() -> None:
    result = board(
        [a("ann", "A", 299, "AC"), a("ann", "B", 299, "AC"), a("bob", "A", 1, "AC")], problems=("A", "B")
    )
    assert [r.team for r in result.rows] == ["ann", "bob"]


def test_listed_teams_without_attempts_appear_with_zeros_and_share_the_last_rank() -> None:
    result = board([a("ann", "A", 10, "AC"), a("zed", "A", 20, "WA")], teams=("cat", "ann", "bob"))
    assert [(r.rank, r.team, r.solved, r.penalty) for r in result.rows] == [
        (1, "ann", 1, 10),
        (2, "bob", 0, 0),
        (2, "cat", 0, 0),
        (2, "zed", 0, 0),  # only in the attempts, still shown
    ]
    assert row(result, "bob") == Row(
        rank=2,
        team="bob",
        solved=0,
        penalty=0,
        points=0.0,
        cells=(
            Cell(problem="A", solved=False, attempts=0, pending=0, minutes=None, first=False, score=None),
        ),
    )


def test_no_teams_and_no_attempts_is_an_empty_board() -> None:
    assert board([]) == Scoreboard(kind="icpc", problems=("A",), rows=(), frozen=False)


# Which attempts exist at all: (team, problem, minute) -> does ann's cell count it?
@pytest.mark.parametrize(
    ("attempt", "counted"),
    [
        (a("ann", "A", 0, "WA"), True),  # at the start: inside
        (a("ann", "A", -1, "WA"), False),  # before the start
        (a("ann", "A", 299.99, "WA"), True),
        (a("ann", "A", 300, "WA"), False),  # at the end: outside
        (a("ann", "A", 301, "WA"), False),
        (a("ann", "Z", 10, "WA"), False),  # not a problem of this contest
    ],
)
def test_attempts_outside_the_window_or_the_problems_are_ignored(attempt: Attempt, counted: bool) -> None:
    result = board([attempt], teams=("ann",))
    assert cell(result, "ann").attempts == int(counted)


def test_a_team_whose_attempts_are_all_ignored_does_not_appear() -> None:
    result = board([a("ann", "A", 10, "AC"), a("bob", "A", 400, "AC"), a("cat", "Z", 10, "AC")])
    assert [r.team for r in result.rows] == ["ann"]


# The freeze is at 240. ann: WA at 100, AC at 250. What each viewer sees of ann on A.
@pytest.mark.parametrize(
    ("freeze", "now", "full", "frozen", "solved", "attempts", "pending", "penalty"),
    [
        (FREEZE, t(260), False, True, False, 1, 1, 0),  # contestant during the freeze
        (FREEZE, t(260), True, False, True, 2, 0, 250 + 20),  # organiser during the freeze
        (FREEZE, END, False, False, True, 2, 0, 250 + 20),  # contestant once the contest is over
        (FREEZE, AFTER, False, False, True, 2, 0, 250 + 20),
        (None, t(260), False, False, True, 2, 0, 250 + 20),  # no freeze
        (t(300), t(260), False, False, True, 2, 0, 250 + 20),  # freeze not reached yet
    ],
)
def test_freeze(
    freeze: datetime | None,
    now: datetime,
    full: bool,
    frozen: bool,
    solved: bool,
    attempts: int,
    pending: int,
    penalty: int,
) -> None:
    result = board([a("ann", "A", 100, "WA"), a("ann", "A", 250, "AC")], freeze=freeze, now=now, full=full)
    assert result.frozen is frozen
    got = cell(result, "ann")
    assert (got.solved, got.attempts, got.pending) == (solved, attempts, pending)
    assert row(result, "ann").penalty == penalty


# Contestant's view during the freeze (now 260): ann's history on A -> (solved, attempts, pending).
@pytest.mark.parametrize(
    ("history", "solved", "attempts", "pending"),
    [
        ([(240, "WA")], False, 0, 1),  # at the freeze: hidden
        ([(239, "WA")], False, 1, 0),
        ([(245, "CE")], False, 0, 1),  # a hidden CE is pending too: free-ness would reveal it
        ([(245, "WA"), (250, "WA"), (255, None)], False, 0, 3),
        ([(200, "AC"), (245, "WA")], True, 1, 0),  # solved before the freeze: later ones don't count
        ([(200, None), (245, "AC")], False, 0, 2),
    ],
)
def test_freeze_hides_every_later_attempt(
    history: list[tuple[float, str | None]],
    solved: bool,
    attempts: int,
    pending: int,
) -> None:
    result = board([a("ann", "A", m, v) for m, v in history], freeze=FREEZE, now=t(260))
    got = cell(result, "ann")
    assert (got.solved, got.attempts, got.pending) == (solved, attempts, pending)


def test_frozen_ranking_uses_only_what_is_shown() -> None:
    attempts = [
        a("ann", "A", 100, "AC"),
        a("bob", "A", 50, "WA"),
        a("bob", "A", 245, "AC"),
        a("bob", "B", 10, "AC"),
    ]
    frozen = board(attempts, problems=("A", "B"), freeze=FREEZE, now=t(260))
    full = board(attempts, problems=("A", "B"), freeze=FREEZE, now=t(260), full=True)
    assert [(r.rank, r.team, r.solved, r.penalty) for r in frozen.rows] == [
        (1, "bob", 1, 10),  # bob's AC on A at 245 is hidden
        (2, "ann", 1, 100),
    ]
    assert [(r.rank, r.team, r.solved, r.penalty) for r in full.rows] == [
        (1, "bob", 2, (245 + 20) + 10),
        (2, "ann", 1, 100),
    ]


# First to solve A: (team, minute, verdict) -> the teams marked first.
@pytest.mark.parametrize(
    ("history", "firsts"),
    [
        ([("ann", 30, "AC"), ("bob", 20, "AC")], {"bob"}),
        ([("ann", 20, "AC"), ("bob", 20, "AC"), ("cat", 21, "AC")], {"ann", "bob"}),  # tie: both
        ([("ann", 20.5, "AC"), ("bob", 20.1, "AC")], {"bob"}),  # same minute, exact time decides
        ([("ann", 10, "WA"), ("bob", 20, "AC")], {"bob"}),
        ([("ann", 10, "WA")], set()),
        ([("ann", 10, "AC"), ("bob", 5, "AC"), ("bob", 1, "WA")], {"bob"}),  # by time, not by penalty
        ([("ann", 245, "AC"), ("bob", 250, "AC"), ("cat", 200, "AC")], {"cat"}),
    ],
)
def test_first_to_solve(history: list[tuple[str, float, str]], firsts: set[str]) -> None:
    result = board([a(team, "A", m, v) for team, m, v in history])
    assert {r.team for r in result.rows if r.cells[0].first} == firsts


def test_first_to_solve_is_per_problem_and_among_shown_solves() -> None:
    attempts = [
        a("ann", "A", 10, "AC"),
        a("bob", "A", 20, "AC"),
        a("bob", "B", 250, "AC"),
        a("ann", "B", 260, "AC"),
    ]
    frozen = board(attempts, problems=("A", "B"), freeze=FREEZE, now=t(270))
    full = board(attempts, problems=("A", "B"), freeze=FREEZE, now=t(270), full=True)
    assert [(c.problem, c.first) for c in row(frozen, "bob").cells] == [("A", False), ("B", False)]
    assert [(c.problem, c.first) for c in row(full, "bob").cells] == [("A", False), ("B", True)]
    assert [(c.problem, c.first) for c in row(full, "ann").cells] == [("A", True), ("B", False)]


# Scoring: ann's history on A, (minute, verdict, score) -> (cell score, attempts, pending, solved).
@pytest.mark.parametrize(
    ("history", "score", "attempts", "pending", "solved"),
    [
        ([], None, 0, 0, False),
        ([(10, "WA", 30.0)], 30.0, 1, 0, False),
        ([(10, "WA", 30.0), (20, "WA", 70.0), (30, "TLE", 50.0)], 70.0, 3, 0, False),  # best, not last
        ([(10, "WA", 30.0), (20, "AC", 100.0), (30, "WA", 40.0)], 100.0, 2, 0, True),
        (
            [(10, "AC", 60.0), (20, "AC", 100.0)],
            100.0,
            1,
            0,
            True,
        ),  # later attempts still count for the score
        ([(10, "WA", None)], 0.0, 1, 0, False),  # judged without a score: 0
        ([(10, None, None)], None, 0, 1, False),  # not judged: no score yet
        ([(10, "WA", 20.0), (20, None, None)], 20.0, 1, 1, False),
        ([(10, "CE", None), (20, "IE", None)], None, 0, 0, False),  # CE and IE don't count
    ],
)
def test_scoring_cell(
    history: list[tuple[float, str | None, float | None]],
    score: float | None,
    attempts: int,
    pending: int,
    solved: bool,
) -> None:
    result = board([a("ann", "A", m, v, s) for m, v, s in history], kind="scoring", teams=("ann",))
    got = cell(result, "ann")
    assert (got.score, got.attempts, got.pending, got.solved) == (score, attempts, pending, solved)


def test_scoring_points_are_the_sum_of_best_scores_and_rank_with_shared_places() -> None:
    result = board(
        [
            a("ann", "A", 10, "WA", 40.0),
            a("ann", "A", 20, "WA", 60.0),
            a("ann", "B", 30, "AC", 100.0),
            a("bob", "A", 10, "AC", 100.0),
            a("bob", "B", 20, "WA", 60.0),
            a("cat", "A", 10, "WA", 0.1),
            a("cat", "B", 10, "WA", 0.2),
            a("dan", "A", 10, "WA", 0.3),
        ],
        kind="scoring",
        problems=("A", "B"),
        teams=("eve",),
    )
    assert [(r.rank, r.team, r.points, r.solved, r.penalty) for r in result.rows] == [
        (1, "ann", 160.0, 1, 0),
        (1, "bob", 160.0, 1, 0),
        (3, "cat", pytest.approx(0.3), 0, 0),  # 0.1 + 0.2 ties with 0.3
        (3, "dan", 0.3, 0, 0),
        (5, "eve", 0.0, 0, 0),
    ]


def test_scoring_freeze_hides_scores() -> None:
    attempts = [
        a("ann", "A", 100, "WA", 30.0),
        a("ann", "A", 250, "AC", 100.0),
        a("ann", "A", 260, "WA", 10.0),
    ]
    frozen = board(attempts, kind="scoring", freeze=FREEZE, now=t(270))
    full = board(attempts, kind="scoring", freeze=FREEZE, now=t(270), full=True)
    assert frozen.frozen and not full.frozen
    shown = [(cell(b, "ann").score, cell(b, "ann").pending, row(b, "ann").points) for b in (frozen, full)]
    assert shown == [(30.0, 2, 30.0), (100.0, 0, 100.0)]


def test_icpc_rows_carry_no_scores() -> None:
    result = board([a("ann", "A", 10, "AC", 100.0)])
    assert (cell(result, "ann").score, row(result, "ann").points) == (None, 0.0)


@pytest.mark.parametrize("kind", ["icpc", "scoring"])
def test_cells_follow_the_order_of_problems(kind: str) -> None:
    result = board(
        [a("ann", "A", 10, "AC", 1.0), a("ann", "B", 20, "WA", 2.0), a("ann", "C", 30, "AC", 3.0)],
        kind=kind,
        problems=("C", "A", "B"),
    )
    assert result.problems == ("C", "A", "B")
    assert [(c.problem, c.attempts) for c in row(result, "ann").cells] == [("C", 1), ("A", 1), ("B", 1)]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "ioi"}, "unknown scoreboard kind"),
        ({"problems": ("A", "B", "A")}, "problems are repeated"),
        ({"start": datetime(2025, 3, 1, 10, 0)}, "naive datetime start"),
        ({"now": datetime(2025, 3, 1, 16, 0)}, "naive datetime now"),
        ({"freeze": datetime(2025, 3, 1, 14, 0)}, "naive datetime freeze"),
    ],
)
def test_bad_arguments_are_refused(changes: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "kind": "icpc",
        "problems": ("A",),
        "teams": (),
        "attempts": [],
        "start": START,
        "end": END,
        "freeze": None,
        "now": AFTER,
        "full": False,
    }
    with pytest.raises(ValueError, match=message):
        build(**{**arguments, **changes})  # type: ignore[arg-type]
