"""Images made elsewhere: read a `docker save` archive or an OCI layout in a tar, unpack its layers.

Runs as root in the importer, never in a box; imports nothing outside sandbox/. The archive is
untrusted: whoever uploads it controls every byte, so this file and sandbox/layer_tar.py are a
security boundary.

Two steps, so the caller (the image store) can decide what it already has before writing:

- `read_archive` reads only the small JSON documents and returns an `ArchiveImage`: the layers,
  bottom first, each with the digest of its uncompressed tar (the OCI diff_id), and what a box
  needs from the config (Env, Entrypoint + Cmd, WorkingDir) and the tags.
- `unpack_layer` streams one layer into its own new, empty directory in the form overlayfs reads
  as a lowerdir; the image store stacks those directories, bottom layer first.

Formats. `docker save`: manifest.json = [{Config, RepoTags, Layers}]; preferred when present
(Docker 25+ writes it beside an OCI index.json). OCI layout: oci-layout + index.json -> manifest
-> config + layers, through a nested index when index.json points at one. Several manifests that
each name a platform are variants of one image and linux/amd64 is taken; otherwise every entry of
index.json (or of manifest.json) is an image, and an archive must hold exactly one. Documents
named by a digest are checked against it when read; layers through their diff_id when unpacked,
or the diff_id is computed by reading the layer when the config does not list it. Layers may be
plain or gzip tars; zstd is refused (no decompressor in the stdlib).

Unpacking, and why it cannot write outside `dest`, is explained in sandbox/layer_tar.py, which
holds the layer stream (decompressed, hashed and capped as it is read) and the unpacker. Here
`unpack_layer` only checks `dest`, finds the layer in the archive, and compares the digest the
stream ends with against the image's.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import tarfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from .errors import SandboxError
from .layer_tar import MAX_LAYER_BYTES as MAX_LAYER_BYTES
from .layer_tar import ImportRefused as ImportRefused
from .layer_tar import layer_digest, unpack

MAX_JSON_BYTES = 16 << 20  # manifest, index or config document
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_INDEX_TYPES = frozenset(
    {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)
_MANIFEST_TYPES = frozenset(
    {
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    }
)
_LAYER_TYPES = frozenset(
    {
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    }
)
_PLATFORM = "linux/amd64"


@dataclass(frozen=True, slots=True)
class ArchiveLayer:
    """One layer blob of the archive."""

    digest: str  # "sha256:<hex>" of the uncompressed layer tar (the OCI diff_id)
    member: str  # path of the blob inside the archive, without a leading "./"


@dataclass(frozen=True, slots=True)
class ArchiveImage:
    """What an archive holds: one image, its layers bottom first, and what a box needs to run it."""

    layers: tuple[ArchiveLayer, ...]
    env: tuple[str, ...]  # config Env, "K=V"
    cmd: tuple[str, ...]  # config Entrypoint + Cmd
    workdir: str  # config WorkingDir, or ""
    tags: tuple[str, ...]  # RepoTags, or the index's image name annotations


# ---- the archive ----------------------------------------------------------------------------


def _key(name: str) -> str:
    """An archive member's name as a lookup key: "./blobs/x" and "blobs/x" are the same blob."""
    return posixpath.normpath("/" + name).lstrip("/")


class _Archive:
    """The outer tar, opened for random access. Its names are only keys: nothing here is a path."""

    def __init__(self, path: str, tar: tarfile.TarFile) -> None:
        self.path = path
        self.tar = tar
        self.members = {_key(m.name): m for m in tar.getmembers()}

    def refused(self, member: str, why: str) -> ImportRefused:
        return ImportRefused(f"image archive {self.path}: {member}: {why}")

    def open(self, name: str) -> IO[bytes]:
        """A regular-file member, following links inside the archive (old `docker save` links layers)."""
        key = name
        for _ in range(8):
            info = self.members.get(key)
            if info is None:
                raise self.refused(name, "missing from the archive (the manifest names a blob it lacks)")
            if info.isreg():
                f = self.tar.extractfile(info)
                assert f is not None
                return f
            if info.issym():
                key = _key(posixpath.join(posixpath.dirname(key), info.linkname))
            elif info.islnk():
                key = _key(info.linkname)
            else:
                raise self.refused(name, "not a regular file")
        raise self.refused(name, "too many links inside the archive")

    def json(self, name: str, digest: str | None = None) -> Any:
        """A small JSON document, checked against `digest` when something named it by digest."""
        with self.open(name) as f:
            data = f.read(MAX_JSON_BYTES + 1)
        if len(data) > MAX_JSON_BYTES:
            raise self.refused(name, f"over {MAX_JSON_BYTES} bytes, too large for an image document")
        if digest is not None and _sha256(data) != digest:
            raise self.refused(name, f"content has digest {_sha256(data)}, but it is referenced as {digest}")
        try:
            return json.loads(data)
        except (ValueError, UnicodeDecodeError) as e:
            raise self.refused(name, f"not valid JSON ({e})") from e


@contextmanager
def _open_archive(path: str) -> Iterator[_Archive]:
    try:
        tar = tarfile.open(path, "r:*")
    except tarfile.TarError as e:
        raise ImportRefused(
            f"{path} is not a tar archive ({e}); make one with `docker save -o FILE IMAGE`"
            " or by packing an OCI image layout with tar"
        ) from e
    except OSError as e:
        raise ImportRefused(f"cannot open image archive {path}: {e.strerror}") from e
    with tar:
        try:
            archive = _Archive(path, tar)
        except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
            raise ImportRefused(f"image archive {path} is a damaged tar ({e})") from e
        yield archive


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# ---- JSON shapes ----------------------------------------------------------------------------


def _obj(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ImportRefused(f"{where}: expected a JSON object")
    return value


def _strs(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ImportRefused(f"{where}: expected a list of strings")
    return tuple(value)


def _str(value: object, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ImportRefused(f"{where}: expected a string")
    return value


def _digest(value: object, where: str) -> str:
    digest = _str(value, where)
    if not _DIGEST.fullmatch(digest):
        raise ImportRefused(f"{where}: digest {digest!r} is not sha256:<64 hex digits>")
    return digest


@dataclass(frozen=True, slots=True)
class _Manifest:
    config: str
    config_digest: str | None
    layers: tuple[tuple[str, str | None], ...]  # member, media type (None in docker save)
    tags: tuple[str, ...]


def _docker_manifest(archive: _Archive) -> _Manifest:
    doc = archive.json("manifest.json")
    if not isinstance(doc, list) or not doc:
        raise archive.refused("manifest.json", "lists no image")
    if len(doc) != 1:
        raise archive.refused(
            "manifest.json",
            f"lists {len(doc)} images, but an archive must hold exactly"
            " one; save a single image with `docker save -o FILE IMAGE`",
        )
    entry = _obj(doc[0], "manifest.json")
    config = _str(entry.get("Config"), "manifest.json Config")
    if not config:
        raise archive.refused("manifest.json", "names no Config")
    # Docker names the config by its digest: "<hex>.json" before 25, "blobs/sha256/<hex>" since.
    named = re.fullmatch(r"(?:blobs/sha256/)?([0-9a-f]{64})(?:\.json)?", _key(config))
    layers = _strs(entry.get("Layers"), "manifest.json Layers")
    return _Manifest(
        config=_key(config),
        config_digest=f"sha256:{named.group(1)}" if named else None,
        layers=tuple((_key(layer), None) for layer in layers),
        tags=_strs(entry.get("RepoTags"), "manifest.json RepoTags"),
    )


def _blob(digest: str) -> str:
    return "blobs/" + digest.replace(":", "/", 1)


def _descriptors(doc: object, where: str) -> list[dict[str, Any]]:
    manifests = _obj(doc, where).get("manifests")
    if not isinstance(manifests, list):
        raise ImportRefused(f"{where}: no manifests list")
    return [_obj(d, f"{where} manifests") for d in manifests]


def _platform(desc: dict[str, Any]) -> str | None:
    p = desc.get("platform")
    return f"{p.get('os')}/{p.get('architecture')}" if isinstance(p, dict) else None


def _pick(descs: list[dict[str, Any]], archive: _Archive, where: str) -> dict[str, Any]:
    """One descriptor among platform variants: the only one, or the first for linux/amd64."""
    if len(descs) == 1:
        return descs[0]
    for desc in descs:
        if _platform(desc) == _PLATFORM:
            return desc
    found = ", ".join(sorted({str(_platform(d)) for d in descs}))
    raise archive.refused(where, f"lists {len(descs)} manifests and none for {_PLATFORM} (found {found})")


def _oci_manifest(archive: _Archive) -> _Manifest:
    top = _descriptors(archive.json("index.json"), "index.json")
    if not top:
        raise archive.refused("index.json", "lists no image")
    variants = all(_platform(d) is not None and d.get("mediaType") in _MANIFEST_TYPES for d in top)
    if len(top) > 1 and not variants:
        raise archive.refused(
            "index.json",
            f"lists {len(top)} images, but an archive must hold exactly one; export a single image",
        )
    desc = _pick(top, archive, "index.json")
    annotations = _obj(desc.get("annotations") or {}, "index.json annotations")
    names = (
        _str(annotations.get(k), "index.json annotations")
        for k in ("io.containerd.image.name", "org.opencontainers.image.ref.name")
    )
    tags = tuple(dict.fromkeys(n for n in names if n))
    for _ in range(4):  # an index may point at an index (skopeo, buildx); more depth is not an image
        digest = _digest(desc.get("digest"), "index.json descriptor")
        doc = archive.json(_blob(digest), digest)
        if desc.get("mediaType") in _INDEX_TYPES or _obj(doc, _blob(digest)).get("manifests") is not None:
            desc = _pick(_descriptors(doc, _blob(digest)), archive, _blob(digest))
            continue
        where = _blob(digest)
        manifest = _obj(doc, where)
        config = _obj(manifest.get("config"), f"{where} config")
        layers = []
        for layer in manifest.get("layers") or []:
            layer = _obj(layer, f"{where} layers")
            layers.append(
                (
                    _blob(_digest(layer.get("digest"), f"{where} layers")),
                    _str(layer.get("mediaType"), f"{where} layers"),
                )
            )
        config_digest = _digest(config.get("digest"), f"{where} config")
        return _Manifest(
            config=_blob(config_digest), config_digest=config_digest, layers=tuple(layers), tags=tags
        )
    raise archive.refused("index.json", "indexes nested too deeply")


def _check_media_type(archive: _Archive, member: str, media_type: str | None) -> None:
    if media_type is None or media_type in _LAYER_TYPES:
        return
    if "zstd" in media_type:
        raise archive.refused(
            member,
            f"layer is {media_type}; zstd layers are not supported,"
            " rebuild or re-export the image with gzip compression",
        )
    raise archive.refused(member, f"unsupported layer media type {media_type}")


def read_archive(path: str) -> ArchiveImage:
    """The one image in a `docker save` archive or a tarred OCI layout.

    Reads the JSON documents only, and a layer only when the config does not list its diff_id.
    """
    with _open_archive(path) as archive:
        if "manifest.json" in archive.members:
            found = _docker_manifest(archive)
        elif "index.json" in archive.members:
            found = _oci_manifest(archive)
        else:
            raise ImportRefused(
                f"{path} is a tar but neither a `docker save` archive (no manifest.json)"
                " nor an OCI image layout (no index.json)"
            )
        config = _obj(archive.json(found.config, found.config_digest), found.config)
        run = _obj(config.get("config") or {}, f"{found.config} config")
        rootfs = _obj(config.get("rootfs") or {}, f"{found.config} rootfs")
        diff_ids = [
            _digest(d, f"{found.config} rootfs.diff_ids")
            for d in _strs(rootfs.get("diff_ids"), f"{found.config} rootfs.diff_ids")
        ]
        if diff_ids and len(diff_ids) != len(found.layers):
            raise archive.refused(
                found.config, f"lists {len(diff_ids)} diff_ids for {len(found.layers)} layers"
            )
        layers = []
        for i, (member, media_type) in enumerate(found.layers):
            _check_media_type(archive, member, media_type)
            with archive.open(member) as raw:  # also refuses a missing blob
                digest = diff_ids[i] if diff_ids else layer_digest(raw, f"image archive {path}: {member}")
            layers.append(ArchiveLayer(digest=digest, member=member))
        return ArchiveImage(
            layers=tuple(layers),
            env=_strs(run.get("Env"), f"{found.config} Env"),
            cmd=_strs(run.get("Entrypoint"), f"{found.config} Entrypoint")
            + _strs(run.get("Cmd"), f"{found.config} Cmd"),
            workdir=_str(run.get("WorkingDir"), f"{found.config} WorkingDir"),
            tags=found.tags,
        )


def unpack_layer(archive_path: str, layer: ArchiveLayer, dest: str, max_bytes: int = MAX_LAYER_BYTES) -> int:
    """Unpack one layer into `dest`, an existing empty directory; returns the bytes of file data written.

    Raises ImportRefused when the layer breaks a rule of sandbox/layer_tar.py or its content does
    not match `layer.digest`; the caller then deletes `dest`, which may be partly filled.
    """
    if not _DIGEST.fullmatch(layer.digest):
        raise SandboxError(f"layer digest {layer.digest!r} is not sha256:<64 hex digits>")
    try:
        root = os.open(dest, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as e:
        raise SandboxError(f"cannot open layer directory {dest}: {e.strerror}") from e
    try:
        if os.listdir(root):
            raise SandboxError(f"{dest} is not empty; unpack each layer into a new empty directory")
        where = f"image archive {archive_path}: layer {layer.member}"
        with _open_archive(archive_path) as archive, archive.open(layer.member) as raw:
            written, digest = unpack(raw, root, max_bytes, where)
        if digest != layer.digest:
            raise ImportRefused(
                f"{where}: content has digest {digest}, but the image says {layer.digest};"
                " the archive is damaged or was altered"
            )
        return written
    finally:
        os.close(root)
