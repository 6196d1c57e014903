"""The `judge` command: the edge where arguments become calls and results become text or JSON.

    judge run SOURCE [--lang ID] [limits] [--stdin FILE] [--image NAME] [--json] [-- ARGS...]
    judge exec --image NAME [limits] [--json] -- CMD [ARGS...]
    judge bench sandbox [--runs N] [--seconds S] [--image NAME] [--json]
    judge bench fidelity [--runs N] [--json]
    judge bench compile-cache [--count N] [--tests N] [--json]
    judge bench tests [--count N] [--runs N] [--work N] [--json]
    judge bench checker [--mib N] [--json]
    judge bench fairness [--flood N] [--sleep S] [--workers W] [--json]
    judge languages [--json]
    judge images ls|build|import|rm|prune   (judge/cli/image_commands.py)
    judge ps | stop ID_PREFIX | kill ID_PREFIX (judge/cli/boxes.py)
    judge verify PROBLEM, judge grade PROBLEM SUBMISSION...   (judge/cli/problem_commands.py)

Names, units and JSON fields are docs/contracts.md's ("Command line"): times in seconds, sizes in
bytes, `--memory` and `--output-limit` in MiB. With `--json` a command prints exactly one JSON
document on stdout and nothing else there.

Exit codes: 0 when the program ran, whatever its status (TLE is an answer, not a failure);
2 for a usage error (bad option, missing file, unknown language, extension or image), with
click's message on stderr and no JSON; 3 when the judge itself failed (IE). This module is
the only place a SandboxError becomes status IE: below it, our failures are exceptions and
the program's outcomes are statuses. `judge languages` exits 1 when a self-test failed.
Human-readable output (without --json) is judge/cli/display.py's.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, NoReturn, TypeVar

import click

import sandbox
from sandbox import Limits, MiB, SandboxError

from .. import bench, execution, images, languages, selftest, submission
from ..errors import JudgeError
from . import display
from .boxes import add_commands
from .image_commands import images_group
from .problem_commands import grade_command, verify_command
from .service_commands import serve_command, web_command, worker_command
from .user_commands import token_group, user_group

EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_SELF_TEST_FAILED = 1

F = TypeVar("F", bound=Callable[..., Any])


def limit_options(f: F) -> F:
    """--time, --wall-time, --memory, --output-limit: shared by `run` and `exec`."""
    positive = click.FloatRange(min=0, min_open=True)
    options = [
        click.option(
            "--time",
            "time_s",
            type=positive,
            default=2.0,
            show_default=True,
            metavar="S",
            help="CPU time limit in seconds, over every thread and process.",
        ),
        click.option(
            "--wall-time",
            "wall_s",
            type=positive,
            default=None,
            metavar="S",
            help="Wall-clock limit in seconds.  [default: 3 x --time]",
        ),
        click.option(
            "--memory",
            "memory_mib",
            type=click.FloatRange(min=4),
            default=256.0,
            show_default=True,
            metavar="MiB",
            help="Memory limit in MiB (peak, swap included).",
        ),
        click.option(
            "--output-limit",
            "output_mib",
            type=positive,
            default=64.0,
            show_default=True,
            metavar="MiB",
            help="Limit of stdout and of stderr, each, in MiB.",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def make_limits(time_s: float, wall_s: float | None, memory_mib: float, output_mib: float) -> Limits:
    """The user's limits, from the command line's units (seconds, MiB) into the sandbox's."""
    cpu_ms = max(1, round(time_s * 1000))
    wall_ms = max(1, round((wall_s if wall_s is not None else 3 * time_s) * 1000))
    return Limits(
        cpu_time_ms=cpu_ms,
        wall_time_ms=wall_ms,
        memory_bytes=round(memory_mib * MiB),
        output_bytes=max(1, round(output_mib * MiB)),
    )


def _image(name: str) -> sandbox.Image:
    try:
        return images.get(name)
    except JudgeError as e:
        raise click.BadParameter(str(e), param_hint="'--image'") from None


def _stdin(f: IO[bytes] | None) -> bytes | int | None:
    """A real file goes to the box as a descriptor (no copy); anything else as its bytes."""
    if f is None:
        return None
    try:
        return f.fileno()
    except (io.UnsupportedOperation, AttributeError):
        return f.read()


def _internal_error(e: Exception, as_json: bool, *, compile_output: bool) -> NoReturn:
    """Status IE: the judge failed, not the program. Only here does a SandboxError become a status."""
    message = f"internal error: {e}"
    if as_json:
        doc: dict[str, object] = {
            "status": "IE",
            "exit_code": None,
            "signal": None,
            "cpu_time": 0.0,
            "wall_time": 0.0,
            "memory": 0,
            "stdout": "",
            "stderr": "",
            "stdout_truncated": False,
            "stderr_truncated": False,
        }
        if compile_output:
            doc["compile_output"] = ""
        doc["message"] = message
        _print_json(doc)
    else:
        click.echo(f"judge: IE: {message}", err=True)
    sys.exit(EXIT_INTERNAL)


def _print_json(doc: object) -> None:
    click.echo(json.dumps(doc, indent=2))  # ASCII: safe on any terminal or pipe encoding


_R = TypeVar("_R")


def _measured(measure: Callable[[], _R]) -> _R:
    """A benchmark's report; a benchmark that could not measure ends the command as IE."""
    try:
        return measure()
    except bench.BenchError as e:
        click.echo(f"judge: IE: {e}", err=True)
        sys.exit(EXIT_INTERNAL)


# Commands that make boxes, or start processes that do: on a cgroup v2 host that gave this
# process no delegated subtree, they obtain one before anything else (sandbox/delegation.py),
# so that every process they start is born in it.
BOX_COMMANDS = frozenset({"run", "exec", "bench", "languages", "verify", "grade", "serve", "worker"})


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx: click.Context) -> None:
    """A sandboxed judge for programming contests: run programs in fresh, locked-down boxes."""
    if ctx.invoked_subcommand in BOX_COMMANDS and not {"-h", "--help"} & set(sys.argv[2:]):
        from sandbox.delegation import ensure

        ensure(reexec=True)


@main.command()
@click.argument("source", type=click.Path(exists=True, readable=True, path_type=Path))
@click.option(
    "--lang",
    "lang_id",
    type=click.Choice(languages.ids()),
    default=None,
    help="Language id; by default the file extensions decide.",
)
@click.option(
    "--main",
    "main_file",
    default=None,
    metavar="FILE",
    help="Of a folder or zip: the file the program starts from.  [default: the language's rule]",
)
@limit_options
@click.option(
    "--stdin",
    "stdin_file",
    type=click.File("rb"),
    default=None,
    metavar="FILE",
    help="File to give the program on stdin ('-' for this stdin); default: empty.",
)
@click.option(
    "--image",
    "image_name",
    default=None,
    metavar="NAME",
    help="Image to compile and run in.  [default: the language's]",
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def run(
    source: Path,
    lang_id: str | None,
    main_file: str | None,
    time_s: float,
    wall_s: float | None,
    memory_mib: float,
    output_mib: float,
    as_json: bool,
    stdin_file: IO[bytes] | None,
    image_name: str | None,
    args: tuple[str, ...],
) -> None:
    """Compile SOURCE if its language compiles, then run it once in a fresh box.

    SOURCE is one file, or a folder or .zip of several (the entry point by the language's
    rule, or --main). Arguments after `--` go to the program. Exit code 0 whatever the
    status; 2 for usage errors; 3 when the judge failed (IE).
    """
    try:
        sub = submission.load(source)
        lang = languages.for_submission(sub.names, lang_id, main_file)
        image = _image(image_name) if image_name is not None else _image(lang.image)
        execution.layout(lang, sub, main_file)  # a bad entry point is a usage error, before any box
    except JudgeError as e:
        raise click.UsageError(str(e)) from None
    limits = make_limits(time_s, wall_s, memory_mib, output_mib)
    try:
        result = execution.run_source(
            sandbox.default(),
            lang,
            sub,
            limits,
            image=image,
            stdin=_stdin(stdin_file),
            args=args,
            main=main_file,
        )
    except SandboxError as e:
        _internal_error(e, as_json, compile_output=True)
    if as_json:
        _print_json(result.to_json())
    else:
        display.execution(result, title=f"{source.name} ({lang.name})")


@main.command("exec")
@click.option("--image", "image_name", required=True, metavar="NAME", help="Image of the box (now: host).")
@limit_options
@click.option(
    "--stdin",
    "stdin_file",
    type=click.File("rb"),
    default=None,
    metavar="FILE",
    help="File to give the command on stdin ('-' for this stdin); default: empty.",
)
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def exec_(
    image_name: str,
    time_s: float,
    wall_s: float | None,
    memory_mib: float,
    output_mib: float,
    as_json: bool,
    stdin_file: IO[bytes] | None,
    command: tuple[str, ...],
) -> None:
    """Run COMMAND as it is in a fresh box of the image: `judge exec --image host -- CMD ARGS...`.

    The command is looked up on the box's PATH (/usr/local/bin:/usr/bin:/bin). Exit code 0
    whatever the status; 2 for usage errors, including a command the box cannot execute;
    3 when the judge failed (IE).
    """
    image = _image(image_name)
    limits = make_limits(time_s, wall_s, memory_mib, output_mib)
    try:
        result = execution.run_command(
            sandbox.default(), command, limits, image=image, stdin=_stdin(stdin_file)
        )
    except sandbox.ExecFailed as e:
        raise click.UsageError(f"{e} (image {image_name})") from None
    except SandboxError as e:
        _internal_error(e, as_json, compile_output=False)
    if as_json:
        _print_json(result.to_json())
    else:
        display.execution(result, title=" ".join(command))


@main.group("bench")
def bench_group() -> None:
    """Measure the sandbox, the judge and the service on this machine."""


@bench_group.command("sandbox")
@click.option(
    "--runs",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Timed runs of each candidate, after a warm-up.",
)
@click.option(
    "--seconds",
    type=click.FloatRange(min=0, min_open=True),
    default=3.0,
    show_default=True,
    help="How long the all-cores throughput phase runs.",
)
@click.option(
    "--image",
    "image_name",
    default=None,
    metavar="NAME",
    help="Instead: boxes on this image beside boxes on host, run and cold prepare.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def bench_sandbox(runs: int, seconds: float, image_name: str | None, as_json: bool) -> None:
    """Fresh-box latency for /bin/true beside subprocess and bwrap, then boxes per second."""
    image = _image(image_name) if image_name is not None else None
    report: bench.SandboxBench | bench.ImageBench
    try:
        report = bench.measure_sandbox(runs, seconds) if image is None else bench.measure_image(image, runs)
    except (SandboxError, bench.BenchError) as e:
        click.echo(f"judge: IE: the sandbox failed during the benchmark: {e}", err=True)
        sys.exit(EXIT_INTERNAL)
    if as_json:
        _print_json(report.to_json())
    elif isinstance(report, bench.ImageBench):
        display.image_bench(report)
    else:
        display.sandbox_bench(report)


@bench_group.command("checker")
@click.option(
    "--mib",
    type=click.IntRange(min=1, max=1024),
    default=64,
    show_default=True,
    help="Size of the output graded and checked.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def bench_checker(mib: int, as_json: bool) -> None:
    """Peak memory of a grading process, and of the default checker alone, for a MIB MiB output."""
    from ..bench import checker as checker_bench

    report = _measured(lambda: checker_bench.measure_checker(mib))
    if as_json:
        _print_json(report.to_json())
    else:
        checker_bench.show(report)


@bench_group.command("fairness")
@click.option(
    "--flood",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Slow ad hoc runs one user sends at once.",
)
@click.option(
    "--sleep",
    "sleep_s",
    type=click.FloatRange(min=0),
    default=0.5,
    show_default=True,
    help="Seconds each of them sleeps.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="judge serve --workers: boxes at a time.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def bench_fairness(flood: int, sleep_s: float, workers: int, as_json: bool) -> None:
    """Through `judge serve`: one user floods slow runs, another user's print(42) waits how long?"""
    from ..bench import fairness as fair_bench

    report = _measured(lambda: fair_bench.measure_fairness(flood=flood, sleep_s=sleep_s, workers=workers))
    if as_json:
        _print_json(report.to_json())
    else:
        fair_bench.show(report)


@bench_group.command("verify")
@click.argument("packages", nargs=-1, type=click.Path(exists=True, file_okay=False))
@click.option(
    "--problemtools",
    "verifyproblem",
    default="verifyproblem",
    show_default=True,
    metavar="PATH",
    help="problemtools' verifyproblem (pip install problemtools).",
)
@click.option("--rounds", type=click.IntRange(min=1), default=3, show_default=True)
@click.option(
    "--generated",
    type=click.IntRange(min=0),
    default=0,
    metavar="TESTS",
    help="Also a package of a real contest's size: TESTS inputs of up to 2 MB, 10 submissions "
    "in 5 languages, Python and checktestdata validators (judge/bench/package.py).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def bench_verify(
    packages: tuple[str, ...], verifyproblem: str, rounds: int, generated: int, as_json: bool
) -> None:
    """`judge verify` beside problemtools' verifyproblem on the same packages, interleaved.

    PACKAGES default to the problemtools examples of the conformance corpus (../shared/conformance),
    unless only --generated is asked for.
    """
    import shutil
    import tempfile

    from ..bench import package as bench_package

    tool = shutil.which(verifyproblem)
    if tool is None:
        raise click.UsageError(f"{verifyproblem} not found: pip install problemtools, or --problemtools PATH")
    if not packages and not generated:
        corpus = Path("../shared/conformance/problemtools")
        if not corpus.is_dir():
            raise click.UsageError("name the packages to verify")
        packages = tuple(str(p) for p in sorted(corpus.iterdir()) if p.is_dir())
    with tempfile.TemporaryDirectory(prefix="bench-package-") as tmp:
        if generated:
            made = bench_package.write_package(Path(tmp) / f"sum{generated}", tests=generated)
            packages = (*packages, str(made))
        try:
            report = bench.measure_verify(packages, tool, rounds)
        except (SandboxError, bench.BenchError) as e:
            click.echo(f"judge: IE: {e}", err=True)
            sys.exit(EXIT_INTERNAL)
    doc = report.to_json()
    if as_json:
        _print_json(doc)
    else:
        display.mapping(doc, title="judge verify beside problemtools verifyproblem (median wall seconds)")


@bench_group.command("service")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="judge serve --workers: boxes at a time.",
)
@click.option(
    "--runs",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Submissions timed one at a time, on an empty queue.",
)
@click.option(
    "--count",
    type=click.IntRange(min=1),
    default=300,
    show_default=True,
    help="Submissions sent at once for the throughput phase.",
)
@click.option(
    "--distinct-sources",
    is_flag=True,
    help="Each submission a source of its own, so each is compiled (default: one source, "
    "compiled once, then compile-cache hits).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def bench_service(workers: int, runs: int, count: int, distinct_sources: bool, as_json: bool) -> None:
    """Through `judge serve`: a C hello world with 10 tests, POST to verdict (latency on an empty
    queue), sustained submissions per minute and the CPU each costs."""
    from ..bench.service import measure_service

    report = _measured(
        lambda: measure_service(workers=workers, runs=runs, count=count, distinct_sources=distinct_sources)
    )
    if as_json:
        _print_json(report.to_json())
    else:
        compiled = (
            "each compiled"
            if distinct_sources
            else "one source: compile-cache hits after the first, no compiler runs"
        )
        display.mapping(
            report.to_json(), title=f"judge serve: hello world in C, 10 tests per submission ({compiled})"
        )


@bench_group.command("compile-cache")
@click.option(
    "--count",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Different C submissions, rejudged with and without the cache.",
)
@click.option(
    "--tests", type=click.IntRange(min=1), default=5, show_default=True, help="Tests of the problem."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def bench_compile_cache(count: int, tests: int, as_json: bool) -> None:
    """Rejudging COUNT submissions with the compile cache and without it, interleaved
    (judge/bench/compile_cache.py)."""
    from ..bench.compile_cache import measure_compile_cache

    try:
        report = measure_compile_cache(count=count, tests=tests)
    except (SandboxError, bench.BenchError) as e:
        click.echo(f"judge: IE: {e}", err=True)
        sys.exit(EXIT_INTERNAL)
    if as_json:
        _print_json(report.to_json())
    else:
        display.mapping(
            report.to_json(), title=f"Rejudging {count} C submissions, with and without the compile cache"
        )


@bench_group.command("tests")
@click.option(
    "--count", type=click.IntRange(min=1), default=100, show_default=True, help="Tests of the problem."
)
@click.option(
    "--runs",
    type=click.IntRange(min=1),
    default=15,
    show_default=True,
    help="Rounds, each one submission to either service.",
)
@click.option(
    "--work",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    help="Million loop steps each test runs (its CPU time).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def bench_tests(count: int, runs: int, work: int, as_json: bool) -> None:
    """Through `judge serve`: a submission with COUNT tests, POST to verdict, with one test at a
    time and with its tests on two cores, interleaved (judge/bench/tests.py)."""
    from ..bench.tests import measure_tests

    report = _measured(lambda: measure_tests(count=count, runs=runs, work=work))
    if as_json:
        _print_json(report.to_json())
    else:
        display.mapping(
            report.to_json(), title=f"A {count}-test C submission, POST to verdict, on 1 and 2 cores"
        )


@bench_group.command("load")
@click.option(
    "--count",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Submissions sent at once, a mix of AC, WA, TLE, RTE and CE.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="judge serve --workers: boxes at a time.",
)
@click.option(
    "--languages",
    "langs",
    default=None,
    metavar="IDS",
    help="Comma-separated, e.g. c,python3 [default: c,cpp,python3,java, less any that fails its self-test].",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def bench_load(count: int, workers: int, langs: str | None, as_json: bool) -> None:
    """Through `judge serve`: COUNT submissions at once over the API, each checked for its verdict,
    none lost, none graded twice; throughput and latency percentiles."""
    from ..bench import load as load_bench

    try:
        wanted = load_bench.parse_languages(langs)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    report = _measured(lambda: load_bench.measure_load(count=count, workers=workers, languages=wanted))
    if as_json:
        _print_json(report.to_json())
    else:
        load_bench.show(report)
    try:
        report.raise_for_faults()
    except bench.BenchError as e:
        click.echo(f"judge: IE: {e}", err=True)
        sys.exit(EXIT_INTERNAL)


@bench_group.command("fidelity")
@click.option(
    "--runs",
    type=click.IntRange(min=2),
    default=30,
    show_default=True,
    help="Runs of the CPU busy loop, in a box and as a plain process each.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def bench_fidelity(runs: int, as_json: bool) -> None:
    """How exact the sandbox's CPU time and peak memory are (judge/bench/fidelity.py)."""
    from ..bench import fidelity

    try:
        report = fidelity.measure(runs=runs)
    except (SandboxError, RuntimeError, subprocess.CalledProcessError) as e:
        click.echo(f"judge: IE: the fidelity benchmark failed: {e}", err=True)
        sys.exit(EXIT_INTERNAL)
    if as_json:
        _print_json(report)
    else:
        display.mapping(report, title="Sandbox fidelity")


@main.command("languages")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def languages_(as_json: bool) -> None:
    """Each language: its version and its self-test, both run in real boxes.

    Exit code 1 when a self-test failed, 3 when no box could be made at all.
    """
    try:
        sb = sandbox.default()
    except SandboxError as e:
        click.echo(f"judge: IE: {e}", err=True)
        sys.exit(EXIT_INTERNAL)
    reports = selftest.check_all(sb, languages.LANGUAGES)
    if as_json:
        _print_json([r.to_json() for r in reports])
    else:
        display.languages(reports)
    if not all(r.ok for r in reports):
        sys.exit(EXIT_SELF_TEST_FAILED)


main.add_command(images_group)
main.add_command(verify_command)
main.add_command(grade_command)
main.add_command(user_group)
main.add_command(token_group)
main.add_command(serve_command)
main.add_command(web_command)
main.add_command(worker_command)
add_commands(main)
