"""`judge verify PROBLEM` and `judge grade PROBLEM SUBMISSION...`: the organiser's commands.

JSON fields are docs/contracts.md's. A progress bar goes to stderr on a terminal only, so `--json`
output and pipes stay clean. Exit codes: verify 0 when every judged submission got an
expected verdict, 1 when one did not; grade 0 when every submission was graded (whatever
its verdict); 2 usage (a broken package is a usage error: the message names the file and
the fault); 3 when the judge itself failed.
"""

from __future__ import annotations

import contextlib
import csv
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

import sandbox
from sandbox import MiB, SandboxError

from .. import languages, submission
from ..errors import JudgeError
from ..grading import Grader, GradeResult
from ..problems import package
from ..verdict import Verdict
from ..verify import VerifyReport, verify_problem
from .display import printable

EXIT_MISMATCH = 1
EXIT_INTERNAL = 3


@contextmanager
def _progress(total: int, what: str) -> Iterator[Callable[[str], None]]:
    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda name: None
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[last]}"),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(what, total=total, last="")
        yield lambda name: bar.update(task, advance=1, last=name)


def _style(verdict: str | None, ok: bool | None = None) -> str:
    if ok is False:
        return "bold red"
    return {"AC": "green", "CE": "magenta", "IE": "bold red"}.get(verdict or "", "yellow")


@click.command("verify")
@click.argument("problem", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--jobs", type=click.IntRange(min=1), default=2, show_default=True, help="Submissions judged at once."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def verify_command(problem: Path, jobs: int, as_json: bool) -> None:
    """Judge every submission under PROBLEM/submissions/ and compare with its expected verdict."""
    try:
        with package.opened(problem) as prob, _progress(len(prob.submissions), f"verify {prob.id}") as tick:
            report = verify_problem(prob, sb=sandbox.default(), jobs=jobs, progress=tick)
    except JudgeError as e:
        raise click.UsageError(str(e)) from None
    except SandboxError as e:
        click.echo(f"judge: IE: {e}", err=True)
        sys.exit(EXIT_INTERNAL)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        _print_verify(report)
    if not report.ok:
        sys.exit(EXIT_MISMATCH)


def _print_verify(report: VerifyReport) -> None:
    console = Console(highlight=False, soft_wrap=True)
    table = Table(
        title=f"{report.problem.id}: time limit {report.time_limit_s:g} s ({report.time_limit_source})",
        title_justify="left",
    )
    for col in ("submission", "lang", "expected", "verdict", "score", "time", "memory"):
        table.add_column(col, no_wrap=col != "submission")
    for c in report.checked:
        r = c.result
        verdict = r.verdict.value if r else "not judged"
        table.add_row(
            printable(c.sub.rel),
            c.sub.language or "-",
            "|".join(v.value for v in c.sub.expected),
            Text(verdict, style=_style(verdict, c.ok)),
            f"{r.score:g}" if r and r.score is not None else "-",
            f"{r.max_time:.2f} s" if r else "-",
            f"{r.max_memory / MiB:.1f} MiB" if r else "-",
        )
    console.print(table)
    judged = [c for c in report.checked if c.ok is not None]
    wrong = [c for c in judged if not c.ok]
    skipped = len(report.checked) - len(judged)
    console.print(
        f"{len(judged) - len(wrong)} of {len(judged)} judged submissions got an expected verdict"
        + (f"; {skipped} not judged (no language here)" if skipped else "")
    )
    for c in report.checked:
        if c.result is None:
            console.print(Text(f"{printable(c.sub.rel)}: {c.note}", style="red" if c.ok is False else "dim"))
    for w in report.problem.warnings:
        console.print(Text(f"warning: {w}", style="yellow"))


@click.command("grade")
@click.argument("problem", type=click.Path(exists=True, path_type=Path))
@click.argument("submissions", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--lang",
    "lang_id",
    type=click.Choice(languages.ids()),
    default=None,
    help="Language of every submission; by default each one's extensions decide.",
)
@click.option(
    "--time-limit",
    "time_limit",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="S",
    help="CPU time limit per test.  [default: the package's]",
)
@click.option("--all-tests", is_flag=True, help="Run every test, not only up to the first failure.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Also write one row per submission and test to FILE.",
)
def grade_command(
    problem: Path,
    submissions: tuple[Path, ...],
    lang_id: str | None,
    time_limit: float | None,
    all_tests: bool,
    as_json: bool,
    csv_file: Path | None,
) -> None:
    """Grade SUBMISSIONS (files, folders or zips) against PROBLEM."""
    with contextlib.ExitStack() as stack:
        _grade(stack, problem, submissions, lang_id, time_limit, all_tests, as_json, csv_file)


def _grade(
    stack: contextlib.ExitStack,
    problem: Path,
    submissions: tuple[Path, ...],
    lang_id: str | None,
    time_limit: float | None,
    all_tests: bool,
    as_json: bool,
    csv_file: Path | None,
) -> None:
    try:
        prob = stack.enter_context(package.opened(problem))
        limit = time_limit or prob.limits.time_limit_s
        if limit is None:
            raise JudgeError(
                f"{prob.id} states no time limit: give --time-limit, or run `judge verify` "
                "to compute one from its accepted submissions"
            )
        loaded = []
        for path in submissions:
            sub = submission.load(path)
            loaded.append((path, sub, languages.for_submission(sub.names, lang_id).id))
    except JudgeError as e:
        raise click.UsageError(str(e)) from None
    grader = Grader(prob, time_limit_s=limit, sb=sandbox.default(), run_all=all_tests)
    results: list[tuple[Path, GradeResult]] = []
    try:
        with _progress(len(loaded), f"grade {prob.id}") as tick:
            for path, sub, lang in loaded:
                try:
                    result = grader.grade(sub, lang)
                except JudgeError as e:
                    result = GradeResult(
                        verdict=Verdict.IE, score=None, tests=(), message=str(e), language=lang
                    )
                results.append((path, result))
                tick(printable(path.name))
    except SandboxError as e:
        click.echo(f"judge: IE: {e}", err=True)
        sys.exit(EXIT_INTERNAL)
    if csv_file is not None:
        _write_csv(csv_file, results)
    if as_json:
        doc = {
            "problem": prob.id,
            "time_limit": limit,
            "submissions": [{"path": str(p), **r.to_json()} for p, r in results],
        }
        click.echo(json.dumps(doc, indent=2))
        return
    console = Console(highlight=False, soft_wrap=True)
    table = Table(title=f"{prob.id}: time limit {limit:g} s", title_justify="left")
    for col in ("submission", "lang", "verdict", "score", "time", "memory", "tests"):
        table.add_column(col)
    for path, r in results:
        table.add_row(
            printable(str(path)),
            r.language or "-",
            Text(r.verdict.value, style=_style(r.verdict.value)),
            f"{r.score:g}" if r.score is not None else "-",
            f"{r.max_time:.2f} s",
            f"{r.max_memory / MiB:.1f} MiB",
            str(len(r.tests)),
        )
    console.print(table)


def _write_csv(path: Path, results: list[tuple[Path, GradeResult]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["submission", "language", "test", "verdict", "score", "time", "memory", "message"])
        for sub_path, r in results:
            w.writerow(
                [
                    sub_path,
                    r.language,
                    "",
                    r.verdict.value,
                    r.score,
                    f"{r.max_time:.3f}",
                    r.max_memory,
                    r.message,
                ]
            )
            for t in r.tests:
                w.writerow(
                    [
                        sub_path,
                        r.language,
                        t.name,
                        t.verdict.value,
                        t.score,
                        f"{t.time_s:.3f}",
                        t.memory,
                        t.message,
                    ]
                )
