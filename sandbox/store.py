"""The image store: read-only layers named by digest, images as stacks of them.

An image is what Docker taught people to think of: a stack of read-only layers, cached and
shared between images. A box on it gets a fresh writable view: its root is an overlay of the
image's layers under a throwaway tmpfs (sandbox/boxinit.c, `overlay_root`), gone with the box.

Layout under the store's root (the judge passes JUDGE_IMAGE_DIR):

    layers/<hex>/        one layer's tree, in overlayfs form (whiteouts are 0:0 character
                         devices, opaque directories carry trusted.overlay.opaque=y);
                         never changed once committed
    layers/<hex>.json    what the layer is: digest, size, how it was made, when
    images/<name>.json   an image: its layers bottom first, how it was made, env and command
    tmp/                 layers being made; emptied by `prune`
    cache/               what builders keep between builds (downloaded packages)
    lock                 flock'ed by whatever changes the store

Commit protocol, so that nothing is half-written: a layer is made in tmp/, renamed into
layers/ (atomic on one file system) and only then described by its .json (written to a
temporary name and renamed). A layer directory without its .json is unfinished: it counts as
absent, and `prune` removes it. An image's .json is written last, so an image only ever names
committed layers. Two processes changing the store take turns on `lock`; boxes only read.

A layer's digest is "sha256:<hex>": for an imported layer the digest of its uncompressed tar
(OCI's diff_id), for a built one the digest of its definition and of the layer under it, so
that it is rebuilt exactly when either changes (sandbox/build.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import mounts
from .errors import SandboxError
from .mounts import Op

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
DIGEST = re.compile(r"^sha256:([0-9a-f]{64})$")
SCRATCH_BYTES = 16 * 1024 * 1024  # the box's writable layer: init's own files and mount points
SCRATCH_INODES = 4096


class StoreError(SandboxError):
    """The store cannot do what was asked (unknown image, bad name, a layer missing)."""


def check_name(name: str) -> str:
    if not NAME.match(name) or name == "host":
        raise StoreError(
            f"{name!r} cannot name an image: use 1-64 of a-z 0-9 . _ -, starting with a "
            "letter or digit (and not 'host', which is the host's own image)"
        )
    return name


def hex_of(digest: str) -> str:
    m = DIGEST.match(digest)
    if not m:
        raise StoreError(f"{digest!r} is not a sha256 digest")
    return m.group(1)


@dataclass(frozen=True, slots=True)
class LayeredImage:
    """An image of the store, as a box sees it. `key` changes whenever a layer does."""

    name: str
    layers_dir: str
    layers: tuple[str, ...]  # digests, bottom first
    env: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def key(self) -> str:
        return self.name + "@" + ",".join(hex_of(d)[:16] for d in self.layers)

    def root_plan(self) -> list[Op]:
        lowers = [hex_of(d) for d in reversed(self.layers)]
        return [mounts.overlay_root(self.layers_dir, lowers, size=SCRATCH_BYTES, inodes=SCRATCH_INODES)]


class ImageStore:
    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self.layers_dir = os.path.join(self.root, "layers")
        self.images_dir = os.path.join(self.root, "images")
        self.tmp_dir = os.path.join(self.root, "tmp")
        self.cache_dir = os.path.join(self.root, "cache")

    # -- reading ---------------------------------------------------------------------------

    def names(self) -> list[str]:
        try:
            entries = os.listdir(self.images_dir)
        except FileNotFoundError:
            return []
        return sorted(e[:-5] for e in entries if e.endswith(".json") and NAME.match(e[:-5]))

    def describe(self, name: str) -> dict[str, Any] | None:
        """The image's .json, or None if there is no such image."""
        try:
            with open(os.path.join(self.images_dir, f"{name}.json"), encoding="utf-8") as f:
                doc: dict[str, Any] = json.load(f)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise StoreError(f"image {name!r}: its description cannot be read: {e}") from e
        return doc

    def image(self, name: str) -> LayeredImage | None:
        doc = self.describe(name)
        if doc is None:
            return None
        layers = tuple(doc["layers"])
        missing = [d for d in layers if not self.has_layer(d)]
        if missing:
            raise StoreError(
                f"image {name!r} names layers the store does not hold: {', '.join(missing)}; "
                f"build or import it again"
            )
        return LayeredImage(
            name, self.layers_dir, layers, tuple(doc.get("env", ())), tuple(doc.get("cmd", ())), doc
        )

    def has_layer(self, digest: str) -> bool:
        return os.path.exists(self.layer_path(digest) + ".json")

    def layer_path(self, digest: str) -> str:
        return os.path.join(self.layers_dir, hex_of(digest))

    def layer_info(self, digest: str) -> dict[str, Any]:
        with open(self.layer_path(digest) + ".json", encoding="utf-8") as f:
            doc: dict[str, Any] = json.load(f)
        return doc

    def layer_digests(self) -> list[str]:
        """Every committed layer."""
        try:
            entries = os.listdir(self.layers_dir)
        except FileNotFoundError:
            return []
        return sorted("sha256:" + e[:-5] for e in entries if e.endswith(".json"))

    # -- changing --------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's lock: one process at a time builds, imports, removes or prunes."""
        for d in (self.layers_dir, self.images_dir, self.tmp_dir, self.cache_dir):
            os.makedirs(d, mode=0o700, exist_ok=True)
        os.chmod(self.root, 0o700)
        fd = os.open(os.path.join(self.root, "lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def new_layer(self, digest: str, info: Mapping[str, Any]) -> Iterator[str]:
        """A fresh directory to make a layer in; committed under `digest` if the block ends well.

        Call with the lock held. On an exception the directory is removed and nothing is committed.
        """
        hex_ = hex_of(digest)
        work = os.path.join(self.tmp_dir, f"{hex_[:12]}-{uuid.uuid4().hex[:8]}")
        os.mkdir(work, 0o755)
        tree = os.path.join(work, "tree")
        os.mkdir(tree, 0o755)
        try:
            yield tree
            final = self.layer_path(digest)
            if os.path.lexists(final):  # an unfinished layer of an earlier, interrupted run
                remove_tree(final)
            os.rename(tree, final)
            doc = {"digest": digest, "size": tree_size(final), "created": _now(), **info}
            write_json(final + ".json", doc)
        finally:
            remove_tree(work)

    def commit_image(self, name: str, layers: list[str], info: Mapping[str, Any]) -> None:
        """Point `name` at these committed layers (bottom first). Call with the lock held."""
        check_name(name)
        for d in layers:
            if not self.has_layer(d):
                raise StoreError(f"cannot commit image {name!r}: layer {d} is not in the store")
        doc = {"name": name, "layers": layers, "created": _now(), **info}
        write_json(os.path.join(self.images_dir, f"{name}.json"), doc)

    def remove_image(self, name: str) -> None:
        """Forget an image; its layers stay until `prune`. Call with the lock held."""
        path = os.path.join(self.images_dir, f"{name}.json")
        if not NAME.match(name) or not os.path.exists(path):
            known = ", ".join(self.names()) or "none"
            raise StoreError(f"no image named {name!r} in {self.root}; images: {known}")
        os.unlink(path)

    def prune(self) -> tuple[list[str], int]:
        """Remove layers no image uses, unfinished layers and leftovers in tmp/. Returns (removed, bytes)."""
        used: set[str] = set()
        for name in self.names():
            doc = self.describe(name)
            if doc is not None:
                used.update(hex_of(d) for d in doc["layers"])
        removed: list[str] = []
        freed = 0
        for entry in sorted(os.listdir(self.layers_dir)) if os.path.isdir(self.layers_dir) else []:
            path = os.path.join(self.layers_dir, entry)
            hex_ = entry[:-5] if entry.endswith(".json") else entry
            if hex_ in used:
                continue
            if entry.endswith(".json"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                continue
            freed += tree_size(path)
            remove_tree(path)
            removed.append("sha256:" + hex_)
        for entry in os.listdir(self.tmp_dir) if os.path.isdir(self.tmp_dir) else []:
            path = os.path.join(self.tmp_dir, entry)
            freed += tree_size(path)
            remove_tree(path)
        return removed, freed


def write_json(path: str, doc: Mapping[str, Any]) -> None:
    """Write a JSON file whole or not at all: a temporary name, fsync, rename."""
    tmp = f"{path}.{uuid.uuid4().hex[:8]}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


def tree_size(path: str) -> int:
    """Bytes a tree holds on disk (blocks, each inode once), without following links."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for top, dirs, files in os.walk(path):
        for name in (*dirs, *files):
            try:
                st = os.lstat(os.path.join(top, name))
            except FileNotFoundError:
                continue
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
    return total


def remove_tree(path: str) -> None:
    """Remove a file or tree without following links (the store is root's: no modes stand in the way)."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
