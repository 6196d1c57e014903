"""`judge bench load`: N submissions at once through the API, each checked for its verdict.

Set-up, as `judge bench service` does it (judge/bench/service.py, whose client and helpers this
imports): a fresh data directory in a temporary folder, an organiser and its token made there
first, `judge serve --workers W --languages L` on a free loopback port. One difference: the
bench starts the embedded Redis itself (judge/service/redis_server.py, in the same data
directory) and hands its URL to `judge serve` as JUDGE_REDIS_URL, because `judge serve` keeps
its own Redis's random password to itself and the bench must listen to the progress channels.
`judge serve` then starts no Redis; everything else is what the README's first command starts.
A problem is imported over the API: a + b with 5 tests and a stated time limit of 1 s, and its
verification is awaited. Then one AC per language, one at a time (`?wait=true`): the worker
loads the package, and a broken toolchain shows before a thousand submissions are sent.

The mix. For each language, sources that must end AC, WA (a + b + 1), TLE (an endless loop),
RTE (a division by zero, an exit code 1, an uncaught exception or a panic, depending on the
language) and CE (a syntax or type error: every language here compiles or checks its source
first, Python 3 with py_compile, so a SyntaxError is CE; a language without such a step would
leave CE out and take AC in its place). Submission i is in language i mod L and takes the
verdict at (i div L) mod 10 of PATTERN, so any 10 x L in a row hold every pair. TLE is one in
ten: each costs the whole time limit (1 s of CPU, in a box a worker cannot use meanwhile),
several times what a whole AC in C costs, so more would measure mostly the time limit.

Submitting. The bench subscribes first (PSUBSCRIBE judge:submission:*, judge/service/progress.py),
then CLIENTS threads POST /api/v1/submissions one submission each, all N as fast as the service
takes them, with the organiser's token (per-user rate limits exempt organisers). Each
submission keeps the moment its POST was sent, its answer and its id.

Following. A submission is done when its `done` event reaches the bench (what a `?wait=true`
or event-stream client hears), or, if that event never comes, when the list endpoint first
shows it done. The list endpoint is read once a second (POLL_S) over the span of ids not yet
seen done there, 500 at a time, without tests: a few requests a second, never one per
submission. Following gives up when nothing has finished for STALL_S; what is not done then
is lost.

Checking, after the serve has stopped: each submission must have an id (the POST answered
201), be in the database and done (else lost), with its expected verdict (else wrong), on
generation 0 (nothing was rejudged, so a higher one means a reaper re-queued it: graded
twice) and with exactly one `done` event (none: unheard; two or more: graded twice).
Submissions in the database that no POST named are strays. The figures: wall time and
throughput from the first POST to the last done, latency from each POST sent to its done.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import redis
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from ..service.progress import CHANNEL_PREFIX
from ..storage import connect, session_factory
from ..storage.models import Submission
from . import BenchError, percentiles
from .service import _Client, _multipart, check_alive, serve

PROBLEM = "sum"
TIME_LIMIT_S = 1.0
TESTS = (("1 2", 3), ("10 20", 30), ("-5 7", 2), ("1000000000 999999999", 1999999999), ("-3 -4", -7))
DEFAULT_LANGUAGES = ("c", "cpp", "python3", "java")
PATTERN = ("AC", "WA", "TLE", "RTE", "CE", "AC", "WA", "RTE", "CE", "AC")  # TLE: one in ten
CLIENTS = 32  # concurrent POSTs; as many as the web server's threads
POLL_S = 1.0
STALL_S = 300.0  # follow no longer when nothing has finished for this long
LINGER_S = 2.0  # listen this long after the last done, for a second `done` of anything
SHOWN_FAULTS = 20

# Sources by language and the verdict each must get on a + b. The RTEs vary the way of dying.
SOURCES: dict[str, dict[str, str]] = {
    "c": {
        "AC": '#include <stdio.h>\nint main(void) { long a, b; scanf("%ld %ld", &a, &b); '
        'printf("%ld\\n", a + b); return 0; }\n',
        "WA": '#include <stdio.h>\nint main(void) { long a, b; scanf("%ld %ld", &a, &b); '
        'printf("%ld\\n", a + b + 1); return 0; }\n',
        "TLE": '#include <stdio.h>\nint main(void) { long a, b; scanf("%ld %ld", &a, &b); '
        "volatile unsigned long n = 0; for (;;) n++; }\n",
        "RTE": '#include <stdio.h>\nint main(void) { long a, b; scanf("%ld %ld", &a, &b); '
        'volatile long zero = 0; printf("%ld\\n", (a + b) / zero); return 0; }\n',  # SIGFPE
        "CE": '#include <stdio.h>\nint main(void) { long a, b; scanf("%ld %ld", &a, &b) '
        'printf("%ld\\n", a + b); return 0; }\n',
    },
    "cpp": {
        "AC": "#include <iostream>\nint main() { long long a, b; std::cin >> a >> b; "
        'std::cout << a + b << "\\n"; }\n',
        "WA": "#include <iostream>\nint main() { long long a, b; std::cin >> a >> b; "
        'std::cout << a + b + 1 << "\\n"; }\n',
        "TLE": "#include <iostream>\nint main() { long long a, b; std::cin >> a >> b; "
        "volatile unsigned long n = 0; for (;;) n = n + 1; }\n",
        "RTE": "#include <iostream>\nint main() { long long a, b; std::cin >> a >> b; "
        'std::cout << a + b << "\\n"; return 1; }\n',  # the right answer, then exit code 1
        "CE": "#include <iostream>\nint main() { long long a, b; std::cin >> a >> b; "
        'std::cout << a + b << "\\n"; return undeclared; }\n',
    },
    "python3": {
        "AC": "a, b = map(int, input().split())\nprint(a + b)\n",
        "WA": "a, b = map(int, input().split())\nprint(a + b + 1)\n",
        "TLE": "a, b = map(int, input().split())\nwhile True:\n    pass\n",
        "RTE": "a, b = map(int, input().split())\nprint((a + b) // 0)\n",
        "CE": "a, b = map(int, input().split()\nprint(a + b)\n",
    },
    "java": {
        "AC": "import java.util.Scanner;\npublic class Main { public static void main(String[] args) {\n"
        "  Scanner in = new Scanner(System.in);\n"
        "  System.out.println(in.nextLong() + in.nextLong());\n} }\n",
        "WA": "import java.util.Scanner;\npublic class Main { public static void main(String[] args) {\n"
        "  Scanner in = new Scanner(System.in);\n"
        "  System.out.println(in.nextLong() + in.nextLong() + 1);\n} }\n",
        "TLE": "public class Main { static volatile long n;\n"
        "  public static void main(String[] args) { for (;;) n++; } }\n",
        "RTE": "import java.util.Scanner;\npublic class Main { public static void main(String[] args) {\n"
        "  Scanner in = new Scanner(System.in);\n  long a = in.nextLong(), b = in.nextLong();\n"
        "  System.out.println((a + b) / (a - a));\n} }\n",  # ArithmeticException
        "CE": 'public class Main { public static void main(String[] args) { int x = "x"; } }\n',
    },
    "javascript": {
        "AC": "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\n"
        "console.log(a + b);\n",
        "WA": "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\n"
        "console.log(a + b + 1);\n",
        "TLE": "for (;;) {}\n",
        "RTE": "throw new Error('boom');\n",
        "CE": "const [a, b] = ;\n",
    },
    "ruby": {
        "AC": "a, b = gets.split.map(&:to_i)\nputs a + b\n",
        "WA": "a, b = gets.split.map(&:to_i)\nputs a + b + 1\n",
        "TLE": "loop {}\n",
        "RTE": "a, b = gets.split.map(&:to_i)\nputs (a + b) / 0\n",
        "CE": "a, b = gets.split.map(&:to_i\nputs a + b\n",
    },
    "go": {
        "AC": 'package main\nimport "fmt"\nfunc main() { var a, b int64; fmt.Scan(&a, &b); '
        "fmt.Println(a + b) }\n",
        "WA": 'package main\nimport "fmt"\nfunc main() { var a, b int64; fmt.Scan(&a, &b); '
        "fmt.Println(a + b + 1) }\n",
        "TLE": "package main\nfunc main() { for {} }\n",
        "RTE": 'package main\nimport "fmt"\nfunc main() { var a, b int64; fmt.Scan(&a, &b); '
        "var zero int64; fmt.Println((a + b) / zero) }\n",  # a panic, exit code 2
        "CE": "package main\nfunc main() { x := 1 }\n",  # declared and not used
    },
    "rust": {
        "AC": "use std::io::Read;\nfn main() { let mut s = String::new();\n"
        "  std::io::stdin().read_to_string(&mut s).unwrap();\n"
        "  let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect();\n"
        '  println!("{}", v[0] + v[1]); }\n',
        "WA": "use std::io::Read;\nfn main() { let mut s = String::new();\n"
        "  std::io::stdin().read_to_string(&mut s).unwrap();\n"
        "  let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect();\n"
        '  println!("{}", v[0] + v[1] + 1); }\n',
        "TLE": "fn main() { let mut n: u64 = 0;\n"
        "  loop { unsafe { std::ptr::write_volatile(&mut n, n + 1) } } }\n",
        "RTE": 'fn main() { panic!("boom"); }\n',  # exit code 101
        "CE": 'fn main() { let x: i64 = "x"; println!("{}", x); }\n',
    },
}
SOURCES["pypy3"] = SOURCES["python3"]


class Fault(StrEnum):
    """What can be wrong with one submission of the load."""

    REFUSED = "refused"  # the POST did not answer 201 with an id
    LOST = "lost"  # an id was given, but the submission is not in the database or never ended
    WRONG = "wrong"  # done, with another verdict than its source must get
    TWICE = "graded twice"  # a generation above 0, or more than one `done` event
    UNHEARD = "unheard"  # done, but no `done` event was published for it
    STRAY = "stray"  # in the database, but no POST answered with its id


@dataclass(frozen=True, slots=True, kw_only=True)
class Planned:
    """One submission of the mix, before it is sent."""

    index: int
    language: str
    expected: str  # a verdict
    source: str


@dataclass(slots=True, kw_only=True)
class Sent:
    """A planned submission once POSTed; `sent_at` and `answered_at` are perf_counter seconds."""

    planned: Planned
    sent_at: float
    answered_at: float
    id: int | None = None
    error: str | None = None  # why the POST gave no id


@dataclass(frozen=True, slots=True, kw_only=True)
class Stored:
    """A submission's row as the database has it after the run."""

    state: str
    verdict: str | None
    generation: int
    graded_by: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One fault of one submission; `index` is None for a stray."""

    fault: Fault
    index: int | None
    id: int | None
    language: str | None
    expected: str | None
    detail: str

    def line(self) -> str:
        who = f"id {self.id}"
        if self.index is not None:
            who = f"#{self.index} ({who}, {self.language}, expected {self.expected})"
        return f"{self.fault}: {who}: {self.detail}"


def build_mix(
    langs: Sequence[str], count: int, sources: Mapping[str, Mapping[str, str]] = SOURCES
) -> list[Planned]:
    """`count` submissions round-robin over `langs` and PATTERN; see the module docstring.

    A language whose table has no CE source gets AC in the CE slots."""
    if not langs:
        raise ValueError("no languages")
    missing = [lang for lang in langs if lang not in sources]
    if missing:
        raise ValueError(f"no sources for {', '.join(missing)}; the load benchmark has {', '.join(sources)}")
    mix = []
    for i in range(count):
        lang = langs[i % len(langs)]
        verdict = PATTERN[(i // len(langs)) % len(PATTERN)]
        table = sources[lang]
        if verdict not in table:
            verdict = "AC"
        mix.append(Planned(index=i, language=lang, expected=verdict, source=table[verdict]))
    return mix


def latency_figures(samples_ms: Sequence[float]) -> dict[str, float]:
    """p50, p90, p99 (judge/bench/__init__.py's interpolation) and the maximum, in ms, 1 decimal."""
    figures = {k: round(v, 1) for k, v in percentiles(samples_ms).items()}
    figures["max"] = round(max(samples_ms), 1)
    return figures


def find_faults(
    sent: Sequence[Sent],
    final: Mapping[int, Mapping[str, Any]],
    stored: Mapping[int, Stored],
    done_events: Mapping[int, int],
    ignored: Sequence[int] = (),
) -> list[Finding]:
    """Every fault of the load, in submission order, strays last.

    `final`: the API's document of each submission seen done; `stored`: the database's rows;
    `done_events`: `done` events heard per id; `ignored`: ids of the bench's own (warm-ups).
    """
    problems: list[Finding] = []
    ours = set(ignored)
    for s in sent:
        p = s.planned

        def add(fault: Fault, detail: str, s: Sent = s, p: Planned = p) -> None:
            problems.append(
                Finding(
                    fault=fault,
                    index=p.index,
                    id=s.id,
                    language=p.language,
                    expected=p.expected,
                    detail=detail,
                )
            )

        if s.id is None:
            add(Fault.REFUSED, s.error or "no id in the answer")
            continue
        ours.add(s.id)
        row = stored.get(s.id)
        doc = final.get(s.id)
        if row is None:
            add(Fault.LOST, "not in the database")
            continue
        if row.state != "done" or doc is None:
            add(
                Fault.LOST,
                f"never ended: {row.state} in the database, "
                f"{'not seen done' if doc is None else 'done'} through the API",
            )
            continue
        if doc.get("verdict") != p.expected or row.verdict != p.expected:
            message = f" ({doc['message']})" if doc.get("message") else ""
            add(Fault.WRONG, f"got {doc.get('verdict')} (database: {row.verdict}){message}")
        events = done_events.get(s.id, 0)
        if row.generation != 0 or events > 1:
            add(Fault.TWICE, f"generation {row.generation}, {events} done events, graded by {row.graded_by}")
        elif events == 0:
            add(Fault.UNHEARD, "no done event on its progress channel")
    for sid in sorted(set(stored) - ours):
        problems.append(
            Finding(
                fault=Fault.STRAY,
                index=None,
                id=sid,
                language=None,
                expected=None,
                detail="in the database, but no POST answered with its id",
            )
        )
    return problems


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadBench:
    count: int
    workers: int
    clients: int
    languages: list[str]
    notes: list[str]
    mix: dict[str, dict[str, int]]  # language -> verdict -> submissions
    expected: dict[str, int]  # verdict -> submissions
    got: dict[str, int]  # verdict -> submissions (those that ended done)
    faults: list[Finding]
    submit_seconds: float  # first POST sent to last POST answered
    wall_seconds: float  # first POST sent to last done
    per_minute: float
    latency_ms: dict[str, float] | None  # POST sent to done; None when none ended
    post_ms: dict[str, float] | None  # the POST itself
    graders: dict[str, int]  # graded_by -> submissions

    def counts(self) -> dict[str, int]:
        by = Counter(p.fault for p in self.faults)
        return {
            "matched": self.count - len({p.index for p in self.faults if p.index is not None}),
            "refused": by[Fault.REFUSED],
            "lost": by[Fault.LOST],
            "wrong": by[Fault.WRONG],
            "graded_twice": by[Fault.TWICE],
            "unheard": by[Fault.UNHEARD],
            "stray": by[Fault.STRAY],
        }

    def to_json(self) -> dict[str, object]:
        return {
            "count": self.count,
            "workers": self.workers,
            "clients": self.clients,
            "languages": self.languages,
            "notes": self.notes,
            "mix": self.mix,
            "verdicts": {
                v: {"expected": self.expected.get(v, 0), "got": self.got.get(v, 0)}
                for v in sorted(set(self.expected) | set(self.got), key=_verdict_order)
            },
            **self.counts(),
            "ok": not self.faults,
            "submit_seconds": round(self.submit_seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "submissions_per_minute": round(self.per_minute, 1),
            "latency_ms": self.latency_ms,
            "post_ms": self.post_ms,
            "graders": self.graders,
            "faults": [p.line() for p in self.faults[:SHOWN_FAULTS]],
        }

    def raise_for_faults(self) -> None:
        """BenchError naming at most SHOWN_FAULTS of the faults, if there are any."""
        if not self.faults:
            return
        counts = ", ".join(f"{k} {v}" for k, v in self.counts().items() if k != "matched" and v)
        lines = "\n  ".join(p.line() for p in self.faults[:SHOWN_FAULTS])
        hidden = len(self.faults) - SHOWN_FAULTS
        more = f"\n  ... and {hidden} more" if hidden > 0 else ""
        raise BenchError(
            f"{len(self.faults)} faults in {self.count} submissions ({counts}):\n  {lines}{more}"
        )


def _verdict_order(v: str) -> int:
    order = ["AC", "WA", "TLE", "RTE", "CE"]
    return order.index(v) if v in order else len(order)


def show(report: LoadBench) -> None:
    """The report as tables on stdout: the figures, then verdicts expected and got, then the mix."""
    console = Console(highlight=False, soft_wrap=True)
    doc = report.to_json()
    figures = Table(
        title=f"judge serve under load: {report.count} submissions at once, a + b with {len(TESTS)} tests",
        title_justify="left",
        show_header=False,
    )
    figures.add_column("key", style="bold")
    figures.add_column("value")
    latency, post = report.latency_ms, report.post_ms
    rows = [
        ("workers, clients", f"{report.workers}, {report.clients}"),
        ("languages", ", ".join(report.languages)),
        ("submitted in", f"{report.submit_seconds:.1f} s"),
        ("wall time (first POST to last done)", f"{report.wall_seconds:.1f} s"),
        ("throughput", f"{report.per_minute:.0f} submissions per minute"),
        ("latency, POST to done", _ms(latency)),
        ("the POST itself", _ms(post)),
        ("graded by", ", ".join(f"{k}: {v}" for k, v in report.graders.items()) or "-"),
    ]
    rows += [(k.replace("_", " "), str(doc[k])) for k in report.counts()]
    rows += [("note", n) for n in report.notes]
    for k, v in rows:
        figures.add_row(k, v)
    console.print(figures)
    verdicts = Table(
        title="Verdicts expected and got (by language: how many were sent)", title_justify="left"
    )
    for name in ("verdict", "expected", "got", *report.languages):
        verdicts.add_column(name, justify="left" if name == "verdict" else "right")
    for v, counts in doc["verdicts"].items():  # type: ignore[attr-defined]
        per_lang = [str(report.mix.get(lang, {}).get(v, 0)) for lang in report.languages]
        style = "" if counts["expected"] == counts["got"] else "bold red"
        verdicts.add_row(v, str(counts["expected"]), str(counts["got"]), *per_lang, style=style)
    console.print(verdicts)
    for p in report.faults[:SHOWN_FAULTS]:
        console.print(f"[bold red]{p.line()}[/]", markup=True)


def _ms(figures: Mapping[str, float] | None) -> str:
    if figures is None:
        return "-"
    return "  ".join(f"{k} {v:.0f} ms" for k, v in figures.items())


# -- the run -----------------------------------------------------------------------------------


def _package(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            f"{PROBLEM}/problem.yaml",
            f"problem_format_version: 2023-07-draft\nname: Sum\nlimits:\n  time_limit: {TIME_LIMIT_S}\n",
        )
        for i, (given, answer) in enumerate(TESTS):
            zf.writestr(f"{PROBLEM}/data/secret/{i:02}.in", f"{given}\n")
            zf.writestr(f"{PROBLEM}/data/secret/{i:02}.ans", f"{answer}\n")
        zf.writestr(f"{PROBLEM}/submissions/accepted/sum.c", SOURCES["c"]["AC"])
    return path


class _Listener:
    """Counts the `done` events of every submission, and when the first of each arrived."""

    def __init__(self, redis_url: str) -> None:
        self._client = redis.Redis.from_url(redis_url)
        self._pubsub = self._client.pubsub()  # type: ignore[no-untyped-call]
        self._pubsub.psubscribe(f"{CHANNEL_PREFIX}*")
        deadline = time.monotonic() + 10
        while (m := self._pubsub.get_message(timeout=1.0)) is None or m["type"] != "psubscribe":
            if time.monotonic() > deadline:
                raise BenchError("could not subscribe to the progress channels in judge serve's Redis")
        self.lock = threading.Lock()
        self.done: dict[int, int] = {}
        self.first: dict[int, float] = {}
        self.last_at = time.perf_counter()
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load-bench-listener", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                message = self._pubsub.get_message(timeout=0.2)
            except redis.RedisError as e:  # counted events stop here; the checker reports them unheard
                self.error = f"stopped listening to the progress channels: {e}"
                return
            if message is None or message["type"] != "pmessage":
                continue
            now = time.perf_counter()
            try:
                event = json.loads(message["data"]).get("event")
                sid = int(message["channel"][len(CHANNEL_PREFIX) :])
            except ValueError:
                continue
            if event == "done":
                with self.lock:
                    self.done[sid] = self.done.get(sid, 0) + 1
                    self.first.setdefault(sid, now)
                    self.last_at = now

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._pubsub.close()
        self._client.close()


def _offered(client: _Client, wanted: Sequence[str], explicit: bool) -> tuple[list[str], list[str]]:
    """The wanted languages the serve's worker takes, and notes on those it refused."""
    available = {lang["id"] for lang in client.call("GET", "/languages")["languages"] if lang["available"]}
    refused: dict[str, str] = {}
    for w in client.call("GET", "/workers")["workers"]:
        for lang, why in (w.get("refused") or {}).items():
            refused[lang] = str(why)
    missing = [lang for lang in wanted if lang not in available]
    notes = [
        f"{lang} left out: it did not pass its self-test ({refused.get(lang, 'not offered')})"
        for lang in missing
    ]
    if missing and explicit:
        raise BenchError("; ".join(notes))
    kept = [lang for lang in wanted if lang in available]
    if not kept:
        raise BenchError(f"no language to submit in: {'; '.join(notes)}")
    return kept, notes


def _submit(client: _Client, planned: Planned) -> Sent:
    body = json.dumps({"language": planned.language, "problem": PROBLEM, "source": planned.source}).encode()
    sent_at = time.perf_counter()
    try:
        doc = client.call("POST", "/submissions", body)
        return Sent(planned=planned, sent_at=sent_at, answered_at=time.perf_counter(), id=int(doc["id"]))
    except (OSError, BenchError, KeyError, ValueError) as e:
        return Sent(planned=planned, sent_at=sent_at, answered_at=time.perf_counter(), error=str(e))


def _follow(
    client: _Client, ids: set[int], listener: _Listener, proc: subprocess.Popen[bytes], tmp: Path
) -> tuple[dict[int, dict[str, Any]], dict[int, float]]:
    """The API's document of each submission once done, and when the list first showed it so."""
    final: dict[int, dict[str, Any]] = {}
    seen: dict[int, float] = {}
    pending = set(ids)
    last_progress = time.perf_counter()
    while pending:
        check_alive(proc, tmp)
        lo, before = min(pending), max(pending) + 1
        while before > lo:
            page = client.call("GET", f"/submissions?limit={min(500, before - lo)}&before={before}")
            now = time.perf_counter()
            for doc in page["submissions"]:
                sid = doc["id"]
                if sid in pending and doc["state"] == "done":
                    final[sid], seen[sid] = doc, now
                    pending.discard(sid)
                    last_progress = now
            if page["next_before"] is None:
                break
            before = page["next_before"]
        with listener.lock:
            last_progress = max(last_progress, listener.last_at)
        if pending and time.perf_counter() - last_progress > STALL_S:
            break
        if pending:
            time.sleep(POLL_S)
    return final, seen


def _stored(tmp: Path) -> dict[int, Stored]:
    engine = connect(f"sqlite:///{tmp / 'judge.db'}")
    try:
        with session_factory(engine)() as session:
            rows = session.execute(
                select(
                    Submission.id,
                    Submission.state,
                    Submission.verdict,
                    Submission.generation,
                    Submission.graded_by,
                )
            )
            return {
                sid: Stored(
                    state=state.value,
                    verdict=verdict.value if verdict is not None else None,
                    generation=generation,
                    graded_by=graded_by,
                )
                for sid, state, verdict, generation, graded_by in rows
            }
    finally:
        engine.dispose()


def measure_load(
    *, count: int = 1000, workers: int = 2, languages: Sequence[str] | None = None, clients: int = CLIENTS
) -> LoadBench:
    """The whole `judge bench load`; BenchError when the service cannot be set up or run.

    Faults of the submissions themselves are in the report (`raise_for_faults`), so the
    figures can be shown first. `languages` None: DEFAULT_LANGUAGES, less those refused."""
    wanted = list(languages) if languages is not None else list(DEFAULT_LANGUAGES)
    build_mix(wanted, 0)  # ValueError now for a language without sources
    tmp = Path(tempfile.mkdtemp(prefix="judge-bench-load-"))
    try:
        with serve(tmp, workers, wanted) as (client, redis_url, proc):
            langs, notes = _offered(client, wanted, explicit=languages is not None)
            notes.append(
                f"TLE is 1 in {len(PATTERN)}: each costs the whole time limit, {TIME_LIMIT_S:g} s of CPU"
            )
            mix = build_mix(langs, count)
            archive = _package(tmp / f"{PROBLEM}.zip").read_bytes()
            body, ctype = _multipart("package", f"{PROBLEM}.zip", archive)
            problem = client.call("POST", "/problems?wait=120", body, ctype)
            if not problem["verification"]["ok"]:
                raise BenchError(f"the benchmark's problem did not verify: {problem}")
            listener = _Listener(redis_url)
            try:
                warmups = []
                for lang in langs:
                    one = json.dumps({"language": lang, "problem": PROBLEM, "source": SOURCES[lang]["AC"]})
                    doc = client.call("POST", "/submissions?wait=true&timeout=60", one.encode())
                    warmups.append(int(doc["id"]))
                    if doc["verdict"] != "AC":
                        raise BenchError(
                            f"the warm-up AC in {lang} got {doc['verdict']}: "
                            f"{doc.get('message')} {doc.get('compile_output') or ''}"
                        )
                with ThreadPoolExecutor(max_workers=clients, thread_name_prefix="load-bench-post") as pool:
                    sent = list(pool.map(lambda p: _submit(client, p), mix))
                ids = {s.id for s in sent if s.id is not None}
                final, seen = _follow(client, ids, listener, proc, tmp)
                time.sleep(LINGER_S)
            finally:
                listener.close()
            with listener.lock:
                done_events, heard = dict(listener.done), dict(listener.first)
            if listener.error:
                notes.append(listener.error)
        stored = _stored(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _report(
        mix,
        sent,
        final,
        seen,
        heard,
        done_events,
        stored,
        warmups,
        workers=workers,
        clients=clients,
        langs=langs,
        notes=notes,
    )


def _report(
    mix: Sequence[Planned],
    sent: Sequence[Sent],
    final: Mapping[int, Mapping[str, Any]],
    seen: Mapping[int, float],
    heard: Mapping[int, float],
    done_events: Mapping[int, int],
    stored: Mapping[int, Stored],
    warmups: Sequence[int],
    *,
    workers: int,
    clients: int,
    langs: list[str],
    notes: list[str],
) -> LoadBench:
    done_at = {sid: min(t for t in (seen.get(sid), heard.get(sid)) if t is not None) for sid in final}
    latency = [(done_at[s.id] - s.sent_at) * 1000 for s in sent if s.id is not None and s.id in done_at]
    first_sent = min(s.sent_at for s in sent) if sent else 0.0
    last_done = max(done_at.values(), default=first_sent)
    wall = max(last_done - first_sent, 1e-9)
    mix_counts: dict[str, dict[str, int]] = {lang: {} for lang in langs}
    for p in mix:
        mix_counts[p.language][p.expected] = mix_counts[p.language].get(p.expected, 0) + 1
    ours = {s.id for s in sent if s.id is not None}
    graders = Counter(row.graded_by or "?" for sid, row in stored.items() if sid in ours)
    return LoadBench(
        count=len(mix),
        workers=workers,
        clients=clients,
        languages=langs,
        notes=notes,
        mix=mix_counts,
        expected=dict(Counter(p.expected for p in mix)),
        got=dict(Counter(str(doc["verdict"]) for sid, doc in final.items() if sid in ours)),
        faults=find_faults(sent, final, stored, done_events, warmups),
        submit_seconds=max((s.answered_at for s in sent), default=first_sent) - first_sent,
        wall_seconds=wall,
        per_minute=len(done_at) / wall * 60,
        latency_ms=latency_figures(latency) if latency else None,
        post_ms=latency_figures([(s.answered_at - s.sent_at) * 1000 for s in sent]) if sent else None,
        graders=dict(sorted(graders.items())),
    )


def parse_languages(text: str | None) -> list[str] | None:
    """`--languages c,cpp`: the ids in order, without repeats; ValueError for one without sources."""
    if text is None:
        return None
    langs = list(dict.fromkeys(x.strip() for x in text.split(",") if x.strip()))
    build_mix(langs, 0)
    return langs
