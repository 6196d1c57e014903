"""One layer's tar: its stream, hashed as it is read, and its entries, unpacked under a directory.

Runs as root in the importer, never in a box; imports only sandbox/errors.py. The layer comes
from an untrusted archive, so this file is a security boundary. sandbox/oci.py finds the layer
in the archive and calls `layer_digest` or `unpack`; `ImportRefused` lives here because both
files raise it, and sandbox/oci.py exports it. A layer is a plain or gzip tar; zstd is refused
(no decompressor in the stdlib).

Unpacking, and why it cannot write outside `dest` (the empty directory `unpack` gets as `root`):

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
import os
import shutil
import stat
import tarfile
import zlib
from typing import IO, Protocol

from .errors import SandboxError

MAX_LAYER_BYTES = 64 << 30  # uncompressed stream of one layer
_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ZSTD_TYPE = "application/vnd.oci.image.layer.v1.tar+zstd"
_WHITEOUT = ".wh."
_OPAQUE = ".wh..wh..opq"
_AUFS_META = ".wh..wh."
_DIR_OPEN = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_MAX_ID = 2**32 - 2  # (uid_t)-1 means "unchanged" to chown


class ImportRefused(SandboxError):
    """The archive is not one image we can import safely; the message names the member and why."""


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


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
        raise ImportRefused(
            f"{where}: layer is zstd-compressed (media type {_ZSTD_TYPE}); zstd layers"
            " are not supported, re-export the image with gzip compression"
        )
    src: _Readable = gzip.GzipFile(fileobj=raw, mode="rb") if head[:2] == _GZIP_MAGIC else raw
    return _Digesting(src, cap, where)


def layer_digest(raw: IO[bytes], where: str) -> str:
    """The digest of the uncompressed layer (its diff_id), read to the end and written nowhere."""
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
                    raise self.refused(
                        name,
                        f"{'/'.join(parts[: i + 1])} is a symlink or a file, not a"
                        " directory: refusing to write through it",
                    ) from e
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
        hidden = base[len(_WHITEOUT) :]
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
        fd = os.open(
            base, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=parent
        )
        try:
            src = tar.extractfile(info)
            assert src is not None
            while chunk := src.read(_CHUNK):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view) :]
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
        os.fchmod(fd, info.mode & 0o1777)  # no setuid, no setgid

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
        shutil.rmtree(name, dir_fd=parent)  # fd-based: never follows a symlink inside the tree
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


def unpack(raw: IO[bytes], root: int, max_bytes: int, where: str) -> tuple[int, str]:
    """Unpack the layer `raw` under `root`, a descriptor of an empty directory.

    Returns the bytes of file data written and the digest of the uncompressed layer, which the
    caller checks; raises ImportRefused when an entry breaks a rule above.
    """
    stream = _uncompressed(raw, max_bytes, where)
    written = _Unpacker(root, where).run(stream)
    return written, stream.drain()
