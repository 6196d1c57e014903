"""`judge ps`, `judge stop ID_PREFIX`, `judge kill ID_PREFIX`: the boxes now running here.

    judge ps [--json]
    judge stop ID_PREFIX [--grace S]
    judge kill ID_PREFIX

The listing and the signals are sandbox/registry.py's; this module turns them into commands.
A box is listed from the moment its program is started until its run returns; boxes a pool
prepared but has not used run nothing and are not listed.

`--json` on `ps` prints one list of `{id, image, command, cpu_time, memory, started, age,
keeper_pid}`: `command` is the argv list, `cpu_time` seconds since the program started,
`memory` bytes in use now (the cgroup's, tmpfs pages included), `started` Unix time in
seconds, `age` seconds, `keeper_pid` the process that runs the box (a worker, `judge run`).

`stop` and `kill` print the full id of the box they ended. Exit codes: 0 done (also when the
box ended by itself meanwhile); 1 no running box matches, the prefix matches several (all
are named), or the registry cannot be read (not root); 2 usage (an empty prefix).
"""

from __future__ import annotations

import json
import shlex
import sys
from typing import NoReturn

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sandbox import MiB
from sandbox.registry import AmbiguousPrefix, Entry, NoSuchBox, Registry

from .display import printable

EXIT_NOT_FOUND = 1
DEFAULT_GRACE_S = 10.0  # docker stop's


def _fail(message: str) -> NoReturn:
    click.echo(f"judge: {message}", err=True)
    sys.exit(EXIT_NOT_FOUND)


def _unreadable(registry: Registry, e: OSError) -> NoReturn:
    _fail(f"cannot read the box registry {registry.path} ({e.strerror}); run as root")


def _age(seconds: float) -> str:
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def ps(as_json: bool) -> None:
    """Boxes running a program on this machine, newest first."""
    registry = Registry()
    try:
        boxes = registry.running()
    except OSError as e:
        _unreadable(registry, e)
    if as_json:
        click.echo(json.dumps([b.to_json() for b in boxes], indent=2))
        return
    table = Table(box=None, pad_edge=False)
    table.add_column("ID", no_wrap=True, min_width=12)  # never cut: it is what stop and kill take
    for column in ("IMAGE", "COMMAND"):
        table.add_column(column, no_wrap=True, overflow="ellipsis")  # one line a box; --json has it all
    for column in ("CPU", "MEMORY", "AGE"):
        table.add_column(column, justify="right", no_wrap=True)
    for b in boxes:
        # the argv is the contestant's: printable() shows an escape sequence, never sends it
        table.add_row(
            b.id,
            Text(printable(b.entry.image)),
            Text(printable(shlex.join(b.entry.argv))),
            f"{b.cpu_time_ns / 1e9:.2f} s",
            f"{b.memory_bytes / MiB:.1f} MiB",
            _age(b.age_s()),
        )
    # made per call: click's test runner swaps sys.stdout, and rich binds it at construction
    Console(highlight=False, soft_wrap=False).print(table)


def _find(registry: Registry, prefix: str) -> Entry:
    if not prefix.strip():
        raise click.BadParameter(
            "give the first characters of a box id (`judge ps` lists them)", param_hint="'ID_PREFIX'"
        )
    try:
        return registry.find(prefix)
    except (NoSuchBox, AmbiguousPrefix) as e:
        _fail(str(e))
    except OSError as e:
        _unreadable(registry, e)


@click.command()
@click.argument("id_prefix")
@click.option(
    "--grace",
    "grace_s",
    type=click.FloatRange(min=0),
    default=DEFAULT_GRACE_S,
    show_default=True,
    metavar="S",
    help="Seconds between SIGTERM and SIGKILL.",
)
def stop(id_prefix: str, grace_s: float) -> None:
    """SIGTERM to the program of the box whose id starts with ID_PREFIX; SIGKILL after the grace period.

    Every process of the box but its init gets SIGTERM; whatever still runs after S seconds is
    killed with the whole box. Waits until the box is gone, then prints its id.
    """
    registry = Registry()
    entry = _find(registry, id_prefix)
    if registry.stop(entry, grace_s) == "killed":
        click.echo(f"judge: {entry.id} was still running {grace_s:g} s after SIGTERM; killed", err=True)
    click.echo(entry.id)


@click.command()
@click.argument("id_prefix")
def kill(id_prefix: str) -> None:
    """SIGKILL to the box whose id starts with ID_PREFIX: every process in it ends at once."""
    registry = Registry()
    entry = _find(registry, id_prefix)
    registry.kill(entry)
    click.echo(entry.id)


def add_commands(group: click.Group) -> None:
    """Register ps, stop and kill on the `judge` group (judge/cli/__init__.py calls this)."""
    for command in (ps, stop, kill):
        group.add_command(command)
