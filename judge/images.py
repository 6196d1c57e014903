"""The images boxes are made of, by name: `host`, and those of the image store.

`host` is sandbox.HOST: read-only parts of this machine's /usr and /etc, nothing to build.
Every other image lives in the store under JUDGE_IMAGE_DIR (default /var/lib/judge/images:
images are big and belong to the machine, not to one data directory), made one of two ways:

- built from judge/images.toml (or a file given with --file): one layer per entry, over the
  entry it is `from`, down to a debootstrap base (sandbox/build.py). Building an image builds
  the images under it too, and records each of them; a layer already in the store is not
  built again, so building an up-to-date image only reads a few small files.
- imported from a `docker save` archive or an OCI layout in a tar (sandbox/oci.py): each
  layer is unpacked once, by its digest, and shared with any image that has it.

Every command takes the same `--image NAME` and fails the same way: UnknownImage, naming the
images there are and, for an image defined but not built, the command that builds it.
"""

from __future__ import annotations

import os
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sandbox
from sandbox import Image, oci
from sandbox.build import Apt, Debootstrap, Npm, Step, build_layer, layer_digest
from sandbox.store import ImageStore, LayeredImage, StoreError, check_name

from .errors import JudgeError, UnknownImage

HOST = "host"
DEFINITIONS = Path(__file__).with_name("images.toml")
Progress = Callable[[str], None]
StepHook = Callable[[int, int, "Definition", bool], None]  # (index, count, definition, cached)


class ImageDefinitionError(JudgeError):
    """The definitions file is missing, unreadable or inconsistent."""


def store() -> ImageStore:
    from .service.settings import Settings  # not at the top: images is below the service

    return ImageStore(Settings.from_env().image_dir)


# -- definitions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Definition:
    name: str
    step: Step
    parent: str | None


def definitions(path: Path = DEFINITIONS) -> dict[str, Definition]:
    """The images a definitions file describes, checked: known keys, parents defined, no cycles."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ImageDefinitionError(f"cannot read image definitions {path}: {e}") from e
    defs: dict[str, Definition] = {}
    for name, entry in raw.items():
        where = f"{path}: [{name}]"
        if not isinstance(entry, dict):
            raise ImageDefinitionError(f"{where} must be a table")
        try:
            check_name(name)
        except StoreError as e:
            raise ImageDefinitionError(f"{where}: {e}") from None
        unknown = set(entry) - {"debootstrap", "variant", "from", "packages", "npm", "integrity", "into"}
        if unknown:
            raise ImageDefinitionError(f"{where}: unknown keys {sorted(unknown)}")
        if "debootstrap" in entry:
            if "from" in entry or "packages" in entry:
                raise ImageDefinitionError(f"{where}: a debootstrap image has no `from` or `packages`")
            defs[name] = Definition(
                name, Debootstrap(str(entry["debootstrap"]), str(entry.get("variant", "minbase"))), None
            )
        elif "from" in entry and "npm" in entry:
            if "packages" in entry:
                raise ImageDefinitionError(f"{where}: `packages` or `npm`, not both")
            try:
                step: Step = Npm(
                    str(entry["npm"]), str(entry.get("integrity", "")), str(entry.get("into", ""))
                )
            except StoreError as e:
                raise ImageDefinitionError(f"{where}: {e}") from None
            defs[name] = Definition(name, step, str(entry["from"]))
        elif "from" in entry and isinstance(entry.get("packages"), list):
            try:
                step = Apt(tuple(str(p) for p in entry["packages"]))
            except StoreError as e:
                raise ImageDefinitionError(f"{where}: {e}") from None
            defs[name] = Definition(name, step, str(entry["from"]))
        else:
            raise ImageDefinitionError(
                f"{where} needs `debootstrap = SUITE`, or `from` and `packages` "
                "(or `npm`, `integrity` and `into`)"
            )
    for d in defs.values():
        _chain(defs, d.name)  # raises for a missing parent or a cycle
    return defs


def _chain(defs: dict[str, Definition], name: str) -> list[Definition]:
    """The definitions from the bottom image up to `name`."""
    out: list[Definition] = []
    current: str | None = name
    while current is not None:
        if current not in defs:
            raise ImageDefinitionError(f"image {name!r} is built from {current!r}, which is not defined")
        if any(d.name == current for d in out):
            raise ImageDefinitionError(f"image {name!r}: its `from` entries make a cycle")
        out.append(defs[current])
        current = defs[current].parent
    return out[::-1]


def planned_layers(defs: dict[str, Definition], name: str) -> list[str]:
    """The digests a build of `name` would give, bottom first."""
    digests: list[str] = []
    for d in _chain(defs, name):
        digests.append(layer_digest(d.step, digests[-1] if digests else None))
    return digests


# -- building and importing ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BuildReport:
    name: str
    layers: tuple[str, ...]
    built: tuple[str, ...]  # names of the images whose layer this build made
    seconds: float

    @property
    def up_to_date(self) -> bool:
        return not self.built


def build(
    name: str,
    *,
    defs_path: Path = DEFINITIONS,
    st: ImageStore | None = None,
    progress: Progress = lambda line: None,
    on_step: StepHook = lambda i, n, d, cached: None,
) -> BuildReport:
    """Build image `name` and the images under it; a no-op when every layer is in the store."""
    start = time.monotonic()
    defs = definitions(defs_path)
    if name not in defs:
        raise UnknownImage(
            f"no image named {name!r} is defined in {defs_path}; defined: {', '.join(sorted(defs))}"
        )
    st = st or store()
    chain = _chain(defs, name)
    planned = planned_layers(defs, name)
    if all(st.has_layer(d) for d in planned) and all(
        (st.describe(d.name) or {}).get("layers") == planned[: i + 1] for i, d in enumerate(chain)
    ):
        for i, d in enumerate(chain):
            on_step(i + 1, len(chain), d, True)
        return BuildReport(name, tuple(planned), (), time.monotonic() - start)  # without the lock
    built: list[str] = []
    digests: list[str] = []
    try:
        with st.locked():
            for i, d in enumerate(chain):
                cached = st.has_layer(layer_digest(d.step, digests[-1] if digests else None))
                on_step(i + 1, len(chain), d, cached)
                digests.append(build_layer(st, d.step, list(digests), progress))
                if not cached:
                    built.append(d.name)
                doc = st.describe(d.name)
                if doc is None or doc.get("layers") != digests:
                    st.commit_image(
                        d.name,
                        list(digests),
                        {"source": "build", "definition": str(defs_path), "description": d.step.describe()},
                    )
    except StoreError as e:
        raise JudgeError(f"building {name}: {e}") from e
    return BuildReport(name, tuple(digests), tuple(built), time.monotonic() - start)


def import_archive(
    path: Path, name: str, *, st: ImageStore | None = None, progress: Progress = lambda line: None
) -> LayeredImage:
    """Import a `docker save` archive or an OCI layout tar as image `name`."""
    st = st or store()
    try:
        check_name(name)
        archive = oci.read_archive(str(path))
        with st.locked():
            for i, layer in enumerate(archive.layers, 1):
                if st.has_layer(layer.digest):
                    progress(f"layer {i}/{len(archive.layers)} {layer.digest[:19]}: already in the store")
                    continue
                progress(f"layer {i}/{len(archive.layers)} {layer.digest[:19]}: unpacking")
                with st.new_layer(
                    layer.digest,
                    {
                        "source": "import",
                        "archive": os.path.basename(path),
                        "description": f"layer {i} of {path.name}",
                    },
                ) as tree:
                    oci.unpack_layer(str(path), layer, tree)
            st.commit_image(
                name,
                [layer.digest for layer in archive.layers],
                {
                    "source": "import",
                    "archive": str(path),
                    "tags": list(archive.tags),
                    "env": list(archive.env),
                    "cmd": list(archive.cmd),
                    "workdir": archive.workdir,
                    "description": f"imported from {path.name}",
                },
            )
        image = st.image(name)
    except sandbox.SandboxError as e:
        raise JudgeError(f"importing {path}: {e}") from e
    assert image is not None
    return image


# -- looking up ------------------------------------------------------------------------------


def names() -> list[str]:
    return sorted({HOST, *store().names()})


def get(name: str) -> Image:
    """The image called `name`; raises UnknownImage naming the ones that exist."""
    if name == HOST:
        return sandbox.HOST
    try:
        image = store().image(name)
    except StoreError as e:
        raise UnknownImage(str(e)) from None
    if image is not None:
        return image
    try:
        defined = name in definitions()
    except ImageDefinitionError:
        defined = False
    hint = (
        f"it is defined in {DEFINITIONS.name}: build it with `judge images build {name}`"
        if defined
        else "build one with `judge images build NAME` or import one: `judge images import`"
    )
    raise UnknownImage(f"no image named {name!r}; images here: {', '.join(names())} ({hint})")


def listing(st: ImageStore | None = None, defs_path: Path = DEFINITIONS) -> list[dict[str, Any]]:
    """Every image: host, the store's, and the defined ones not built yet (or out of date)."""
    st = st or store()
    try:
        defs = definitions(defs_path)
    except ImageDefinitionError:
        defs = {}
    rows: list[dict[str, Any]] = [
        {
            "name": HOST,
            "source": "host",
            "state": "ready",
            "layers": [],
            "size": 0,
            "created": None,
            "description": "read-only parts of this host",
        }
    ]
    for name in st.names():
        doc = st.describe(name) or {}
        layers = list(doc.get("layers", []))
        state = "ready"
        if not all(st.has_layer(d) for d in layers):
            state = "broken"
        elif doc.get("source") == "build" and name in defs and planned_layers(defs, name) != layers:
            state = "out of date"
        size = sum(int(st.layer_info(d).get("size", 0)) for d in layers if st.has_layer(d))
        rows.append(
            {
                "name": name,
                "source": doc.get("source", "?"),
                "state": state,
                "layers": layers,
                "size": size,
                "created": doc.get("created"),
                "description": doc.get("description", ""),
            }
        )
    built = {r["name"] for r in rows}
    for name in sorted(set(defs) - built):
        rows.append(
            {
                "name": name,
                "source": "build",
                "state": "not built",
                "layers": [],
                "size": 0,
                "created": None,
                "description": defs[name].step.describe(),
            }
        )
    return rows
