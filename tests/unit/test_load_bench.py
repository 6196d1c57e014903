"""`judge bench load`'s pure parts: the mix, the latency figures, and the checker (no service)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from judge.bench import BenchError
from judge.bench.load import (
    PATTERN,
    SOURCES,
    Fault,
    LoadBench,
    Sent,
    Stored,
    build_mix,
    find_faults,
    latency_figures,
    parse_languages,
)


def test_the_mix_goes_round_robin_over_languages_then_verdicts() -> None:
    mix = build_mix(["c", "python3"], 40)
    assert [p.index for p in mix] == list(range(40))
    assert [p.language for p in mix[:4]] == ["c", "python3", "c", "python3"]
    assert [p.expected for p in mix[:6]] == ["AC", "AC", "WA", "WA", "TLE", "TLE"]
    assert all(p.source == SOURCES[p.language][p.expected] for p in mix)
    pairs = Counter((p.language, p.expected) for p in mix)
    assert {v for _, v in pairs} == {"AC", "WA", "TLE", "RTE", "CE"}
    assert pairs[("c", "TLE")] == pairs[("python3", "TLE")] == 2


@pytest.mark.parametrize("langs", [["c"], ["c", "cpp", "python3"], ["c", "cpp", "python3", "java"]])
def test_every_language_gets_every_verdict_and_tle_stays_one_in_ten(langs: list[str]) -> None:
    mix = build_mix(langs, 1000)
    assert len(mix) == 1000
    assert {(p.language, p.expected) for p in mix} == {(lang, v) for lang in langs for v in set(PATTERN)}
    assert sum(p.expected == "TLE" for p in mix) <= 1000 // 10 + len(langs)


def test_a_language_that_cannot_fail_to_compile_takes_ac_instead_of_ce() -> None:
    sources = {"c": SOURCES["c"], "sh": {"AC": "a", "WA": "w", "TLE": "t", "RTE": "r"}}
    mix = build_mix(["c", "sh"], 20, sources)
    assert {p.expected for p in mix if p.language == "c"} == {"AC", "WA", "TLE", "RTE", "CE"}
    assert {p.expected for p in mix if p.language == "sh"} == {"AC", "WA", "TLE", "RTE"}
    assert Counter(p.expected for p in mix if p.language == "sh")["AC"] == 5  # 3 AC + 2 CE slots


def test_languages_without_sources_are_refused() -> None:
    with pytest.raises(ValueError, match="no sources for swift"):
        build_mix(["c", "swift"], 10)
    with pytest.raises(ValueError, match="no languages"):
        build_mix([], 10)
    assert parse_languages(" c, python3,c ,") == ["c", "python3"]
    assert parse_languages(None) is None
    with pytest.raises(ValueError):
        parse_languages("c,swift")


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        ([5.0], {"p50": 5.0, "p90": 5.0, "p99": 5.0, "max": 5.0}),
        ([float(x) for x in range(101)], {"p50": 50.0, "p90": 90.0, "p99": 99.0, "max": 100.0}),
        ([3.0, 1.0, 2.0, 1000.0], {"p50": 2.5, "p90": 700.9, "p99": 970.1, "max": 1000.0}),  # 3 + 997 * 0.97
    ],
)
def test_latency_figures(samples: list[float], expected: dict[str, float]) -> None:
    figures = latency_figures(samples)
    assert figures == expected
    assert list(figures) == ["p50", "p90", "p99", "max"]


# -- the checker ------------------------------------------------------------------------------


def _load(n: int = 5) -> tuple[list[Sent], dict[int, dict[str, Any]], dict[int, Stored], dict[int, int]]:
    """`n` submissions that all went right: ids 101.., each done once with its verdict."""
    sent, final, stored, events = [], {}, {}, {}
    for p in build_mix(["c"], n):
        sid = 101 + p.index
        sent.append(Sent(planned=p, sent_at=0.0, answered_at=0.1, id=sid))
        final[sid] = {"id": sid, "state": "done", "verdict": p.expected, "message": None}
        stored[sid] = Stored(state="done", verdict=p.expected, generation=0, graded_by="w@h/1")
        events[sid] = 1
    return sent, final, stored, events


def test_a_clean_load_has_no_faults() -> None:
    sent, final, stored, events = _load()
    stored[7] = Stored(state="done", verdict="AC", generation=0, graded_by="w@h/1")  # a warm-up
    assert find_faults(sent, final, stored, events, ignored=[7]) == []


def test_the_checker_finds_each_kind_of_fault() -> None:
    sent, final, stored, events = _load(10)  # c: AC WA TLE RTE CE AC WA RTE CE AC, ids 101..110
    sent[0].id, sent[0].error = None, "POST /submissions: HTTP 503: queue_unavailable"
    del stored[101]
    del stored[102], final[102]  # lost: not in the database
    stored[103] = Stored(state="running", verdict=None, generation=0, graded_by="w@h/1")
    del final[103]  # lost: never ended
    final[104] = {**final[104], "verdict": "WA"}  # wrong: RTE expected
    stored[104] = Stored(state="done", verdict="WA", generation=0, graded_by="w@h/1")
    stored[105] = Stored(state="done", verdict="CE", generation=1, graded_by="w@h/2")  # reaped
    events[106] = 2  # two done events
    events[107] = 0  # none
    stored[999] = Stored(state="done", verdict="AC", generation=0, graded_by="w@h/1")  # stray
    faults = find_faults(sent, final, stored, events)
    got = [(f.fault, f.index, f.id) for f in faults]
    assert got == [
        (Fault.REFUSED, 0, None),
        (Fault.LOST, 1, 102),
        (Fault.LOST, 2, 103),
        (Fault.WRONG, 3, 104),
        (Fault.TWICE, 4, 105),
        (Fault.TWICE, 5, 106),
        (Fault.UNHEARD, 6, 107),
        (Fault.STRAY, None, 999),
    ]
    assert "HTTP 503" in faults[0].line()
    assert faults[3].line() == "wrong: #3 (id 104, c, expected RTE): got WA (database: WA)"


def test_a_verdict_the_database_disagrees_with_is_wrong_too() -> None:
    sent, final, stored, events = _load(1)
    stored[101] = Stored(state="done", verdict="WA", generation=0, graded_by="w@h/1")
    assert [f.fault for f in find_faults(sent, final, stored, events)] == [Fault.WRONG]


def _report(faults: int) -> LoadBench:
    sent, final, stored, events = _load(30)
    for i in range(faults):
        events[101 + i] = 0
    return LoadBench(
        count=30,
        workers=2,
        clients=32,
        languages=["c"],
        notes=[],
        mix={"c": {}},
        expected={},
        got={},
        faults=find_faults(sent, final, stored, events),
        submit_seconds=1.0,
        wall_seconds=2.0,
        per_minute=900.0,
        latency_ms=None,
        post_ms=None,
        graders={},
    )


def test_the_report_counts_faults_and_names_at_most_twenty() -> None:
    assert _report(0).to_json()["ok"] is True
    _report(0).raise_for_faults()
    bad = _report(25)
    doc = bad.to_json()
    counts = (doc["ok"], doc["matched"], doc["unheard"], doc["lost"], doc["graded_twice"])
    assert counts == (False, 5, 25, 0, 0)
    assert len(doc["faults"]) == 20  # type: ignore[arg-type]
    with pytest.raises(BenchError) as e:
        bad.raise_for_faults()
    message = str(e.value)
    assert message.startswith("25 faults in 30 submissions (unheard 25):")
    assert message.count("unheard: #") == 20 and message.endswith("... and 5 more")
