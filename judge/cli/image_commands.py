"""`judge images ls | build NAME... [--languages IDS] | import FILE --name NAME | rm NAME | prune`.

The commands over judge/images.py. Building shows progress: the step being built and, on a
terminal, the latest line of apt or debootstrap under a spinner; without a terminal, one line
per step. Exit codes: 0 done; 1 the build, import, rm or prune failed, with the reason on
stderr (the store is left as it was: nothing half-written is ever committed); 2 usage.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from sandbox import MiB, SandboxError
from sandbox.store import StoreError

from .. import images
from ..errors import JudgeError

EXIT_FAILED = 1


def _console(err: bool = False) -> Console:
    return Console(highlight=False, soft_wrap=True, stderr=err)


def _fail(message: str) -> None:
    click.echo(f"judge: {message}", err=True)
    sys.exit(EXIT_FAILED)


def _size(n: int) -> str:
    return f"{n / MiB:.0f} MiB" if n >= MiB else f"{n / 1024:.0f} KiB"


@click.group("images")
def images_group() -> None:
    """Images boxes are made of: built from judge/images.toml, imported, or the host's."""


DEFS_OPTION = click.option(
    "--file",
    "defs_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=images.DEFINITIONS,
    show_default=True,
    help="The image definitions.",
)


@images_group.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@DEFS_OPTION
def ls(as_json: bool, defs_path: Path) -> None:
    """Every image: host, built, imported, and the defined ones not built yet."""
    try:
        rows = images.listing(defs_path=defs_path)
    except (JudgeError, SandboxError) as e:
        _fail(str(e))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"Images in {images.store().root}")
    for col, width in (
        ("NAME", 8),
        ("SOURCE", 6),
        ("STATE", 11),
        ("LAYERS", 6),
        ("SIZE", 8),
        ("CREATED", 16),
    ):
        table.add_column(
            col, justify="right" if col in ("LAYERS", "SIZE") else "left", no_wrap=True, min_width=width
        )
    table.add_column("WHAT", no_wrap=True, overflow="ellipsis")
    for r in rows:
        state = r["state"]
        style = "green" if state == "ready" else "yellow" if state != "broken" else "red"
        created = (r["created"] or "-").replace("T", " ")[:16]
        table.add_row(
            r["name"],
            r["source"],
            f"[{style}]{state}[/]",
            str(len(r["layers"])),
            _size(r["size"]) if r["layers"] else "-",
            created,
            r["description"],
        )
    _console().print(table)


@images_group.command("build")
@click.argument("names", nargs=-1)
@click.option("--all", "build_all", is_flag=True, help="Build every image the definitions file defines.")
@click.option(
    "--languages",
    "lang_ids",
    default=None,
    metavar="IDS",
    help="Build the images these languages run on (comma-separated ids, e.g. c,python3,ocaml).",
)
@DEFS_OPTION
def build(names: tuple[str, ...], build_all: bool, lang_ids: str | None, defs_path: Path) -> None:
    """Build images NAMES (and the images under them); layers already built are kept."""
    try:
        defs = images.definitions(defs_path)
    except JudgeError as e:
        _fail(str(e))
    if build_all:
        names = tuple(defs)
    if lang_ids is not None:
        names += tuple(n for n in images_of_languages(lang_ids, defs, defs_path) if n not in names)
    if not names:
        raise click.UsageError(
            "name the images to build, or give --all or --languages; defined: " + ", ".join(defs)
        )
    console = _console(err=True)
    for name in names:
        if name not in defs:
            raise click.UsageError(
                f"no image named {name!r} is defined in {defs_path}; defined: {', '.join(defs)}"
            )
    for name in names:
        try:
            report = _build_one(console, name, defs_path)
        except (JudgeError, SandboxError) as e:
            _fail(str(e))
        what = "up to date" if report.up_to_date else "built " + ", ".join(report.built)
        console.print(
            f"[bold]{name}[/]: {what} in {report.seconds:.1f} s (top layer {report.layers[-1][:19]})"
        )


def images_of_languages(lang_ids: str, defs: dict[str, images.Definition], defs_path: Path) -> list[str]:
    """The images the languages `lang_ids` (comma-separated) run on, each once, in the order given;
    UsageError for an unknown language or one whose image is imported, not defined (nothing to build)."""
    from .. import languages

    found: list[str] = []
    for key in (k.strip() for k in lang_ids.split(",")):
        if not key:
            continue
        try:
            image = languages.by_id(key).image
        except JudgeError as e:
            raise click.UsageError(str(e)) from None
        if image == images.HOST or image in found:
            continue
        if image not in defs:
            raise click.UsageError(
                f"{key} runs on image {image!r}, which {defs_path} does not define: "
                f"import it (`judge images import FILE --name {image}`)"
            )
        found.append(image)
    return found


def _build_one(console: Console, name: str, defs_path: Path) -> images.BuildReport:
    if not console.is_terminal:

        def step(i: int, n: int, d: images.Definition, cached: bool) -> None:
            state = "cached" if cached else "building: " + d.step.describe()
            console.print(f"{name} [{i}/{n}] {d.name}: {state}")

        return images.build(name, defs_path=defs_path, on_step=step)
    with console.status(f"{name}") as status:
        current = [""]

        def step_tty(i: int, n: int, d: images.Definition, cached: bool) -> None:
            current[0] = f"{name} [{i}/{n}] {d.name}"
            if cached:
                console.print(f"{current[0]}: cached")
            else:
                console.print(f"{current[0]}: {d.step.describe()}")
            status.update(current[0])

        def line(text: str) -> None:
            status.update(f"{current[0]}: [dim]{text[:100]}[/]")

        return images.build(name, defs_path=defs_path, on_step=step_tty, progress=line)


@images_group.command("import")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option("--name", required=True, help="The name the image gets here.")
def import_(archive: Path, name: str) -> None:
    """Import ARCHIVE, made by `docker save` or an OCI image layout in a tar, as image NAME."""
    console = _console(err=True)
    try:
        image = images.import_archive(archive, name, progress=lambda line: console.print(line))
    except (JudgeError, SandboxError) as e:
        _fail(str(e))
    console.print(f"[bold]{name}[/]: imported, {len(image.layers)} layers")


@images_group.command("rm")
@click.argument("name")
def rm(name: str) -> None:
    """Forget image NAME; its layers go with the next `prune` if nothing else uses them."""
    if name == images.HOST:
        _fail("the host image is this machine's own files; it cannot be removed")
    st = images.store()
    try:
        with st.locked():
            st.remove_image(name)
    except StoreError as e:
        _fail(str(e))
    click.echo(f"removed {name}")


@images_group.command("prune")
def prune() -> None:
    """Remove the layers no image uses, and anything an interrupted build left."""
    st = images.store()
    try:
        with st.locked():
            removed, freed = st.prune()
    except (StoreError, OSError) as e:
        _fail(str(e))
    click.echo(f"removed {len(removed)} layers, freed {_size(freed)}")
    for d in removed:
        click.echo(f"  {d}")
