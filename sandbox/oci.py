"""Images made elsewhere: read a `docker save` archive or an OCI layout in a tar, unpack its layers.

Runs as root in the importer, never in a box; imports nothing outside sandbox/. The archive is
untrusted: whoever uploads it controls every byte, so this file is a security boundary.

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

Unpacking, and why it cannot write outside `dest`:

- The layer is streamed (tarfile "r|" over our own gzip reader, so the uncompressed bytes can be
  hashed); tarfile never extracts anything itself.
- Every entry is made relative to a descriptor of `dest`. Parents are opened one component at a
  time with O_DIRECTORY | O_NOFOLLOW (missing ones are created 0755 root:root); the entry itself
  is made with calls that never follow a final symlink (open O_CREAT | O_EXCL | O_NOFOLLOW, mkdirat,
  symlinkat, mknodat, linkat without AT_SYMLINK_FOLLOW). A symlink the layer planted therefore
  never redirects a later write: an entry whose parent is a symlink is refused, even when the
  link points inside the layer (`lib -> usr/lib`, then `lib/x`), rather than resolved.
- Names: "./" prefixes and "." parts are dropped. Absolute names ("/etc/x") and ".." parts are
  refused; Docker strips a leading "/", but no builder writes one and we would rather not guess.
- Symlinks are refused when their target, resolved lexically from the link's directory with the
  image root as "/", climbs above the root ("a/b -> ../../../etc"). Absolute targets such as
  "/usr/bin/python3" are normal in images and allowed: in a box they resolve inside the box's
  root, and on the host nothing reads through a layer, it is only mounted.
- Hard links must name a regular file or symlink made earlier in this same layer: `dest` starts
  empty, so whatever exists there this layer made. Hard links never cross layers, as in Docker.
- Devices and FIFOs are refused. The only device nodes made are overlayfs whiteouts: `d/.wh.NAME`
  becomes a character device 0:0 `d/NAME`; `d/.wh..wh..opq` sets trusted.overlay.opaque=y on `d`;
  other `.wh..wh.` names are AUFS bookkeeping and skipped, as Docker does.
- Later entries win, as in Docker: an existing entry is removed (a directory with its tree) before
  one of another kind is made; a directory over a directory only takes the new metadata.
- Kept: permission bits, numeric uid/gid (never user names), mtimes; directory mtimes are set
  last, after their children. Dropped: setuid and setgid bits (boxes run unprivileged with
  no_new_privs, so the bits could only mislead a host tool) and every xattr in the tar, including
  security.capability. Sparse entries are refused so that `max_bytes`, a cap on the uncompressed
  stream, also caps what is written.
- Whatever fails, `dest` may be left partly filled, and the digest is only known at the end of the
  stream: on any exception the caller deletes `dest`.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import json
import os
import posixpath
import re
import shutil
import stat
import tarfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any, Protocol

from .errors import SandboxError

MAX_LAYER_BYTES = 64 << 30       # uncompressed stream of one layer
MAX_JSON_BYTES = 16 << 20        # manifest, index or config document
_CHUNK = 1 << 20
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ZSTD_TYPE = "application/vnd.oci.image.layer.v1.tar+zstd"
_INDEX_TYPES = frozenset({
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
})
_MANIFEST_TYPES = frozenset({
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
})
_LAYER_TYPES = frozenset({
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
})
_PLATFORM = "linux/amd64"
_WHITEOUT = ".wh."
_OPAQUE = ".wh..wh..opq"
_AUFS_META = ".wh..wh."
_DIR_OPEN = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_MAX_ID = 2**32 - 2              # (uid_t)-1 means "unchanged" to chown


class ImportRefused(SandboxError):
    """The archive is not one image we can import safely; the message names the member and why."""


@dataclass(frozen=True, slots=True)
class ArchiveLayer:
    """One layer blob of the archive."""

    digest: str                  # "sha256:<hex>" of the uncompressed layer tar (the OCI diff_id)
    member: str                  # path of the blob inside the archive, without a leading "./"


@dataclass(frozen=True, slots=True)
class ArchiveImage:
    """What an archive holds: one image, its layers bottom first, and what a box needs to run it."""

    layers: tuple[ArchiveLayer, ...]
    env: tuple[str, ...]         # config Env, "K=V"
    cmd: tuple[str, ...]         # config Entrypoint + Cmd
    workdir: str                 # config WorkingDir, or ""
    tags: tuple[str, ...]        # RepoTags, or the index's image name annotations


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


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
            " or by packing an OCI image layout with tar") from e
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
    layers: tuple[tuple[str, str | None], ...]   # member, media type (None in docker save)
    tags: tuple[str, ...]


def _docker_manifest(archive: _Archive) -> _Manifest:
    doc = archive.json("manifest.json")
    if not isinstance(doc, list) or not doc:
        raise archive.refused("manifest.json", "lists no image")
    if len(doc) != 1:
        raise archive.refused("manifest.json", f"lists {len(doc)} images, but an archive must hold exactly"
                                               " one; save a single image with `docker save -o FILE IMAGE`")
    entry = _obj(doc[0], "manifest.json")
    config = _str(entry.get("Config"), "manifest.json Config")
    if not config:
        raise archive.refused("manifest.json", "names no Config")
    # Docker names the config by its digest: "<hex>.json" before 25, "blobs/sha256/<hex>" since.
    named = re.fullmatch(r"(?:blobs/sha256/)?([0-9a-f]{64})(?:\.json)?", _key(config))
    layers = _strs(entry.get("Layers"), "manifest.json Layers")
    return _Manifest(config=_key(config), config_digest=f"sha256:{named.group(1)}" if named else None,
                     layers=tuple((_key(layer), None) for layer in layers),
                     tags=_strs(entry.get("RepoTags"), "manifest.json RepoTags"))


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
        raise archive.refused("index.json", f"lists {len(top)} images, but an archive must hold exactly one;"
                                            " export a single image")
    desc = _pick(top, archive, "index.json")
    annotations = _obj(desc.get("annotations") or {}, "index.json annotations")
    names = (_str(annotations.get(k), "index.json annotations")
             for k in ("io.containerd.image.name", "org.opencontainers.image.ref.name"))
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
            layers.append((_blob(_digest(layer.get("digest"), f"{where} layers")),
                           _str(layer.get("mediaType"), f"{where} layers")))
        config_digest = _digest(config.get("digest"), f"{where} config")
        return _Manifest(config=_blob(config_digest), config_digest=config_digest,
                         layers=tuple(layers), tags=tags)
    raise archive.refused("index.json", "indexes nested too deeply")


def _check_media_type(archive: _Archive, member: str, media_type: str | None) -> None:
    if media_type is None or media_type in _LAYER_TYPES:
        return
    if "zstd" in media_type:
        raise archive.refused(member, f"layer is {media_type}; zstd layers are not supported,"
                                      " rebuild or re-export the image with gzip compression")
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
            raise ImportRefused(f"{path} is a tar but neither a `docker save` archive (no manifest.json)"
                                " nor an OCI image layout (no index.json)")
        config = _obj(archive.json(found.config, found.config_digest), found.config)
        run = _obj(config.get("config") or {}, f"{found.config} config")
        rootfs = _obj(config.get("rootfs") or {}, f"{found.config} rootfs")
        diff_ids = [_digest(d, f"{found.config} rootfs.diff_ids")
                    for d in _strs(rootfs.get("diff_ids"), f"{found.config} rootfs.diff_ids")]
        if diff_ids and len(diff_ids) != len(found.layers):
            raise archive.refused(found.config,
                                  f"lists {len(diff_ids)} diff_ids for {len(found.layers)} layers")
        layers = []
        for i, (member, media_type) in enumerate(found.layers):
            _check_media_type(archive, member, media_type)
            with archive.open(member) as raw:   # also refuses a missing blob
                digest = diff_ids[i] if diff_ids else _hash_layer(raw, f"image archive {path}: {member}")
            layers.append(ArchiveLayer(digest=digest, member=member))
        return ArchiveImage(
            layers=tuple(layers),
            env=_strs(run.get("Env"), f"{found.config} Env"),
            cmd=_strs(run.get("Entrypoint"), f"{found.config} Entrypoint")
            + _strs(run.get("Cmd"), f"{found.config} Cmd"),
            workdir=_str(run.get("WorkingDir"), f"{found.config} WorkingDir"),
            tags=found.tags,
        )


# ---- the layer stream -----------------------------------------------------------------------

class _Digesting:
    """The uncompressed layer stream, hashed and counted as tarfile reads it."""

    def __init__(self, src: _Readable, cap: int, where: str) -> None:
        self.src = src
        self.cap = cap
        self.where = where
        self.count = 0
        self.hash = hashlib.sha256()

    def read(self, size: int = -1, /) -> bytes:
        try:
            data = self.src.read(size if size >= 0 else _CHUNK)
        except (OSError, EOFError, zlib.error) as e:
            raise ImportRefused(f"{self.where}: damaged layer stream ({e})") from e
        self.count += len(data)
        if self.count > self.cap:
            raise ImportRefused(f"{self.where}: layer is over {self.cap} bytes uncompressed: refused")
        self.hash.update(data)
        return data

    def drain(self) -> str:
        """Read to the end (a tar may carry padding after its end marker) and return the digest."""
        while self.read(_CHUNK):
            pass
        return "sha256:" + self.hash.hexdigest()

    def write(self, b: bytes, /) -> int:
        raise OSError("read-only stream")

    def tell(self) -> int:
        return self.count

    def seek(self, pos: int, /) -> int:
        raise OSError("unseekable stream")

    def close(self) -> None:
        pass


def _uncompressed(raw: IO[bytes], cap: int, where: str) -> _Digesting:
    head = raw.read(4)
    raw.seek(0)
    if head == _ZSTD_MAGIC:
        raise ImportRefused(f"{where}: layer is zstd-compressed (media type {_ZSTD_TYPE}); zstd layers"
                            " are not supported, re-export the image with gzip compression")
    src: _Readable = gzip.GzipFile(fileobj=raw, mode="rb") if head[:2] == _GZIP_MAGIC else raw
    return _Digesting(src, cap, where)


def _hash_layer(raw: IO[bytes], where: str) -> str:
    return _uncompressed(raw, MAX_LAYER_BYTES, where).drain()


# ---- unpacking ------------------------------------------------------------------------------

def _parts(name: str) -> tuple[str, ...]:
    """A layer entry's path as components; raises ValueError with the reason when refused."""
    if not name or "\0" in name:
        raise ValueError("empty name or NUL in name")
    if name.startswith("/"):
        raise ValueError("absolute names are refused")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        raise ValueError("names with '..' are refused")
    return parts


def _climbs(link: tuple[str, ...], target: str) -> bool:
    """Whether `target`, resolved lexically from the link's directory, goes above the image root."""
    depth = 0 if target.startswith("/") else len(link) - 1
    for part in target.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


class _Unpacker:
    """Makes the entries of one layer under `root`, a descriptor of the empty destination."""

    def __init__(self, root: int, where: str) -> None:
        self.root = root
        self.where = where
        self.written = 0
        self.dir_times: dict[tuple[str, ...], int] = {}

    def refused(self, name: str, why: str) -> ImportRefused:
        return ImportRefused(f"{self.where}: entry {name!r}: {why}")

    def run(self, stream: _Digesting) -> int:
        try:
            tar = tarfile.open(fileobj=stream, mode="r|", encoding="utf-8", errors="surrogateescape")
        except tarfile.TarError as e:
            raise ImportRefused(f"{self.where}: layer is not a tar ({e})") from e
        with tar:
            while True:
                try:
                    info = tar.next()
                except tarfile.TarError as e:
                    raise ImportRefused(f"{self.where}: damaged layer tar ({e})") from e
                if info is None:
                    break
                # Stream mode keeps every header it read (memory grows with the layer); we never look back.
                tar.members.clear()  # type: ignore[attr-defined]  # typeshed omits TarFile.members
                try:
                    self.entry(tar, info)
                except (OSError, ValueError, OverflowError, tarfile.TarError) as e:
                    why = str(e)
                    if isinstance(e, OSError) and e.strerror:
                        why = e.strerror + (f" ({e.filename})" if e.filename else "")
                    raise self.refused(info.name, why) from e
        self.set_dir_times()
        return self.written

    def walk(self, parts: tuple[str, ...], name: str, *, create: bool = True) -> int:
        """A descriptor of directory `parts`, opened without following any symlink."""
        fd = os.dup(self.root)
        try:
            for i, part in enumerate(parts):
                try:
                    nxt = os.open(part, _DIR_OPEN, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise
                    os.mkdir(part, 0o755, dir_fd=fd)
                    nxt = os.open(part, _DIR_OPEN, dir_fd=fd)
                except OSError as e:
                    if e.errno not in (errno.ELOOP, errno.ENOTDIR):
                        raise
                    raise self.refused(name, f"{'/'.join(parts[:i + 1])} is a symlink or a file, not a"
                                             " directory: refusing to write through it") from e
                os.close(fd)
                fd = nxt
            return fd
        except BaseException:
            os.close(fd)
            raise

    def entry(self, tar: tarfile.TarFile, info: tarfile.TarInfo) -> None:
        name = info.name
        parts = _parts(name)
        if not parts:
            if not info.isdir():
                raise ValueError("the layer's root must be a directory")
            self.meta(info, fd=self.root)
            self.dir_times[()] = _mtime_ns(info)
            return
        base = parts[-1]
        if base.startswith(_WHITEOUT):
            self.whiteout(parts, name)
            return
        if info.issparse():
            raise ValueError("sparse files are refused")
        if info.ischr() or info.isblk():
            raise ValueError("device nodes are refused (the only ones an image store makes are whiteouts)")
        if info.isfifo():
            raise ValueError("FIFOs are refused")
        if info.issym():
            if not info.linkname or "\0" in info.linkname:
                raise ValueError("empty symlink target")
            if _climbs(parts, info.linkname):
                raise ValueError(f"symlink to {info.linkname!r} climbs above the image root")
        parent = self.walk(parts[:-1], name)
        try:
            if info.isdir():
                self.directory(parent, base, info, parts)
            elif info.isreg():
                self.file(parent, base, info, tar)
            elif info.issym():
                _clear(parent, base)
                os.symlink(info.linkname, base, dir_fd=parent)
                uid, gid = _ids(info)
                os.chown(base, uid, gid, dir_fd=parent, follow_symlinks=False)
                t = _mtime_ns(info)
                os.utime(base, ns=(t, t), dir_fd=parent, follow_symlinks=False)
            elif info.islnk():
                self.hardlink(parent, base, info, parts)
            else:
                raise ValueError(f"unsupported tar entry type {info.type!r}")
        finally:
            os.close(parent)

    def whiteout(self, parts: tuple[str, ...], name: str) -> None:
        base = parts[-1]
        if base == _OPAQUE:
            fd = self.walk(parts[:-1], name)
            try:
                os.setxattr(fd, "trusted.overlay.opaque", b"y")
            finally:
                os.close(fd)
            return
        if base.startswith(_AUFS_META):
            return
        hidden = base[len(_WHITEOUT):]
        if hidden in ("", ".", ".."):
            raise ValueError("whiteout of nothing")
        parent = self.walk(parts[:-1], name)
        try:
            _clear(parent, hidden)
            os.mknod(hidden, stat.S_IFCHR, os.makedev(0, 0), dir_fd=parent)
        finally:
            os.close(parent)

    def directory(self, parent: int, base: str, info: tarfile.TarInfo, parts: tuple[str, ...]) -> None:
        if not _clear(parent, base, keep_dir=True):
            os.mkdir(base, 0o700, dir_fd=parent)
        fd = os.open(base, _DIR_OPEN, dir_fd=parent)
        try:
            self.meta(info, fd=fd)
        finally:
            os.close(fd)
        self.dir_times[parts] = _mtime_ns(info)

    def file(self, parent: int, base: str, info: tarfile.TarInfo, tar: tarfile.TarFile) -> None:
        _clear(parent, base)
        fd = os.open(base, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                     dir_fd=parent)
        try:
            src = tar.extractfile(info)
            assert src is not None
            while chunk := src.read(_CHUNK):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view):]
                self.written += len(chunk)
            self.meta(info, fd=fd)
            t = _mtime_ns(info)
            os.utime(fd, ns=(t, t))
        finally:
            os.close(fd)

    def hardlink(self, parent: int, base: str, info: tarfile.TarInfo, parts: tuple[str, ...]) -> None:
        try:
            target = _parts(info.linkname)
        except ValueError as e:
            raise ValueError(f"hard link target {info.linkname!r}: {e}") from e
        missing = f"hard link target {info.linkname!r} is not a file made earlier in this layer"
        if not target or target == parts:
            raise ValueError(missing)
        try:
            tparent = self.walk(target[:-1], info.name, create=False)
        except FileNotFoundError as e:
            raise ValueError(missing) from e
        try:
            try:
                st = os.stat(target[-1], dir_fd=tparent, follow_symlinks=False)
            except FileNotFoundError as e:
                raise ValueError(missing) from e
            if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
                raise ValueError(f"hard link target {info.linkname!r} is not a file or symlink")
            _clear(parent, base)
            os.link(target[-1], base, src_dir_fd=tparent, dst_dir_fd=parent, follow_symlinks=False)
        finally:
            os.close(tparent)

    def meta(self, info: tarfile.TarInfo, *, fd: int) -> None:
        """Owner and mode of a file or directory; chown first, since it would clear setuid anyway."""
        uid, gid = _ids(info)
        os.fchown(fd, uid, gid)
        os.fchmod(fd, info.mode & 0o1777)   # no setuid, no setgid

    def set_dir_times(self) -> None:
        """Directory mtimes, last: making a child changes its directory's mtime."""
        for parts, t in self.dir_times.items():
            try:
                fd = self.walk(parts, "", create=False)
            except (OSError, ImportRefused):
                continue  # removed or replaced by a later entry
            try:
                os.utime(fd, ns=(t, t))
            finally:
                os.close(fd)


def _clear(parent: int, name: str, *, keep_dir: bool = False) -> bool:
    """Remove `name` so a later entry can take its place; True if a directory was kept."""
    try:
        st = os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return False
    if stat.S_ISDIR(st.st_mode):
        if keep_dir:
            return True
        shutil.rmtree(name, dir_fd=parent)   # fd-based: never follows a symlink inside the tree
    else:
        os.unlink(name, dir_fd=parent)
    return False


def _ids(info: tarfile.TarInfo) -> tuple[int, int]:
    if not (0 <= info.uid <= _MAX_ID and 0 <= info.gid <= _MAX_ID):
        raise ValueError(f"uid {info.uid} or gid {info.gid} out of range")
    return info.uid, info.gid


def _mtime_ns(info: tarfile.TarInfo) -> int:
    mtime = info.mtime
    return mtime * 10**9 if isinstance(mtime, int) else int(mtime * 1e9)


def unpack_layer(archive_path: str, layer: ArchiveLayer, dest: str, max_bytes: int = MAX_LAYER_BYTES) -> int:
    """Unpack one layer into `dest`, an existing empty directory; returns the bytes of file data written.

    Raises ImportRefused when the layer breaks a rule above or its content does not match
    `layer.digest`; the caller then deletes `dest`, which may be partly filled.
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
            stream = _uncompressed(raw, max_bytes, where)
            written = _Unpacker(root, where).run(stream)
            digest = stream.drain()
        if digest != layer.digest:
            raise ImportRefused(f"{where}: content has digest {digest}, but the image says {layer.digest};"
                                " the archive is damaged or was altered")
        return written
    finally:
        os.close(root)
