"""Human-readable output of the `judge` command, with rich. Never used with --json.

Only presentation lives here: what to show is decided by judge/cli/__init__.py and the results
themselves. Output the program printed is shown as plain text (no rich markup is read from
it) and cut at SHOW_BYTES per stream with a note, so a flood does not fill the terminal;
`--json` gives all of it.

Whatever a contestant controls (a program's output, its argv in `judge ps`, a compiler's
messages quoting its source, file names from a batch) goes through `printable` first: control
characters and invisible formatting characters are shown as escapes (`\x1b`, `\u202e`), so an
escape sequence cannot move the operator's cursor, retitle the terminal, rewrite what was
printed before or hide text (issue 17, finding 9). Rich's own `Text` strips only a few of them.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence

from rich.console import Console
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from sandbox import MiB

from ..bench import ImageBench, SandboxBench
from ..execution import Execution
from ..selftest import LanguageReport
from ..text import printable
from ..verdict import Status

__all__ = ["printable"]  # judge.text's, re-exported: the commands take it from here

SHOW_BYTES = 64 * 1024
STYLE = {
    Status.OK: "bold green",
    Status.TLE: "bold yellow",
    Status.MLE: "bold yellow",
    Status.OLE: "bold yellow",
    Status.RTE: "bold red",
    Status.CE: "bold magenta",
}


def _console() -> Console:
    # made per call: click's test runner swaps sys.stdout, and rich binds it at construction
    return Console(highlight=False, soft_wrap=True)


def _mib(n: int) -> str:
    return f"{n / MiB:.1f} MiB"


def _stream(console: Console, title: str, data: str | bytes, truncated: bool) -> None:
    raw = data.encode() if isinstance(data, str) else data
    if not raw and not truncated:
        return
    console.print(Rule(title, align="left", style="dim"))
    shown = printable(raw[:SHOW_BYTES].decode("utf-8", errors="replace"), keep="\n\t")
    console.print(Text(shown), end="" if shown.endswith("\n") else "\n")
    notes = []
    if len(raw) > SHOW_BYTES:
        notes.append(f"{len(raw) - SHOW_BYTES} more bytes not shown; --json has them all")
    if truncated:
        notes.append("cut by the sandbox at the output limit")
    if notes:
        console.print(Text(f"[{'; '.join(notes)}]", style="dim"))


def execution(r: Execution, *, title: str) -> None:
    """One run: a summary table, then stdout, stderr and the compiler's output when there are any."""
    console = _console()
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("Program", Text(title))
    grid.add_row("Status", Text(r.status.value, style=STYLE[r.status]))
    if r.status is not Status.CE:
        grid.add_row("CPU time", f"{r.cpu_time_ms / 1000:.3f} s")
        grid.add_row("Wall time", f"{r.wall_time_ms / 1000:.3f} s")
        grid.add_row("Memory", f"{_mib(r.memory_bytes)} peak")
        if r.signal is not None:
            grid.add_row("Signal", str(r.signal))
        else:
            grid.add_row("Exit code", str(r.exit_code))
    if r.message:
        grid.add_row("Message", Text(r.message))
    console.print(grid)
    if r.compile_output and (r.status is Status.CE or r.compile_output.strip()):
        _stream(console, "compiler output", r.compile_output, False)
    _stream(console, "stdout", r.stdout, r.stdout_truncated)
    _stream(console, "stderr", r.stderr, r.stderr_truncated)


def sandbox_bench(b: SandboxBench) -> None:
    console = _console()
    table = Table(title=f"/bin/true, {b.runs} interleaved runs each (ms)", title_justify="left")
    table.add_column("candidate")
    for p in ("p50", "p90", "p99"):
        table.add_column(p, justify="right")
    rows: list[tuple[str, Mapping[str, float] | None]] = [
        ("fresh box", b.box_ms),
        ("subprocess", b.subprocess_ms),
        ("bwrap --unshare-all", b.bwrap_ms),
    ]
    for name, figures in rows:
        if figures is None:
            table.add_row(name, "-", "-", "-")
        else:
            table.add_row(name, *(f"{figures[p]:.2f}" for p in ("p50", "p90", "p99")))
    console.print(table)
    console.print(
        f"Sustained: [bold]{b.boxes_per_second:.0f}[/bold] boxes/s "
        f"({b.threads} threads, {b.seconds:g} s, /bin/true back to back)"
    )
    console.print(
        f"CPU per box: [bold]{b.cpu_ms_per_box:.2f}[/bold] ms (the keeper, boxinit, the program): "
        f"at most {b.cpu_bound_boxes_per_second:.0f} boxes/s on {b.threads} idle CPUs"
    )
    for note in b.notes:
        console.print(Text(note, style="dim"))


def image_bench(b: ImageBench) -> None:
    console = _console()
    table = Table(
        title=f"/bin/true on {b.image} beside host, {b.runs} interleaved runs each (ms)", title_justify="left"
    )
    table.add_column("candidate")
    for p in ("p50", "p90", "p99"):
        table.add_column(p, justify="right")
    for name, figures in (
        (f"run, {b.image}", b.image_run_ms),
        ("run, host", b.host_run_ms),
        (f"cold prepare, {b.image}", b.image_prepare_ms),
        ("cold prepare, host", b.host_prepare_ms),
    ):
        table.add_row(name, *(f"{figures[p]:.2f}" for p in ("p50", "p90", "p99")))
    console.print(table)
    console.print(
        f"p50 {b.image} / host: run [bold]{b.run_ratio:.3f}[/bold], "
        f"cold prepare [bold]{b.prepare_ratio:.3f}[/bold]"
    )


def languages(reports: Sequence[LanguageReport]) -> None:
    """One row per language; the version is cut to what the terminal has room for (--json has it whole)."""
    console = _console()
    table = Table(title="Languages", title_justify="left")
    for col in ("id", "image", "self-test", "allowance", "version"):
        table.add_column(col, no_wrap=True)
    room = max(16, console.width - 59)
    for r in reports:
        lang = r.language
        allowance = []
        if lang.extra_time_ms:
            allowance.append(f"+{lang.extra_time_ms / 1000:g} s")
        if lang.extra_memory_bytes:
            allowance.append(f"+{lang.extra_memory_bytes // MiB} MiB")
        self_test = Text(r.self_test, style="green" if r.ok else "bold red")
        version = r.version if len(r.version) <= room else r.version[: room - 1] + "…"
        table.add_row(lang.id, lang.image, self_test, ", ".join(allowance) or "-", Text(version))
    console.print(table)
    for r in reports:  # the compile commands, whole, with where their flags come from
        lang = r.language
        if lang.compile is not None:
            argv = " ".join(a if a in ("{source}", "{sources}") else shlex.quote(a) for a in lang.compile)
            console.print(Text(f"{lang.id}: {argv}", style="bold"))
            if lang.compile_source:
                console.print(Text(f"  from {lang.compile_source}", style="dim"))


def mapping(doc: Mapping[str, object], *, title: str) -> None:
    """A nested mapping as an indented key/value table (for reports without a layout of their own)."""
    console = _console()
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value")

    def add(prefix: str, value: object) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                add(f"{prefix}.{k}" if prefix else str(k), v)
        else:
            table.add_row(printable(prefix), Text(printable(str(value), keep="\n")))

    add("", doc)
    console.print(table)
