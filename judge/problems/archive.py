"""Open uploaded zips safely (packages and batches), and keep every path inside a package.

Reads only, except that unpack_zip writes the zip's files into the directory it is given.
A zip (`.zip`, `.kpp`) may hold the package at its top or inside one top folder.

Theory of the zip check (CheckedZip, the one place for packages here and for the organisers'
batches in judge/service/batches.py): the whole archive is judged before one byte is unpacked, from
what it declares, and reading then holds it to what it declared.

1. The end record is read before the central directory is parsed, so a zip claiming a million
   entries, or a central directory of hundreds of MB, costs nothing (zipfile would build a
   ZipInfo for each, in memory, before anyone could count them).
2. Every entry: a plain relative name (no `..`, no absolute or drive path, no NUL), a regular
   file or a folder (no symlink, device, fifo or socket: S_IFMT of the Unix mode in
   external_attr), not encrypted, compressed with a method zipfile reads.
3. The archive: not empty; the declared sizes summed stay under the caller's bound; no entry
   and not the whole archive expands more than MAX_RATIO times (past RATIO_FREE_BYTES); no two
   entries share compressed bytes (the overlapping "non-recursive" bomb, which Python 3.11
   before 3.11.8 does not refuse itself, CVE-2024-0450).
4. Reading: zipfile stops an entry at its declared size and checks its CRC, so a header that
   lies about its size is a read error, not a flood; the bytes read are counted all the same.

Nested archives are never unpacked: a zip inside a package is one file, of its compressed size.

Symbolic links are fine while their target stays inside the package (every spec says so);
a link leaving it is a PackageError wherever it is (check_links). A test-data or submission
file whose whole content is the relative path of another file of the package (no newline) is a
link that git wrote as text, and is followed with a warning (follow_text_link).
"""

from __future__ import annotations

import io
import os
import re
import stat
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO

from .files import PackageError, rel

MAX_ZIP_ENTRIES = 10_000
"""Entries (files and folders) in one zip. The largest real packages hold a few thousand files
(a test is two or three); 10 000 leaves room for them and refuses 100 000 at once."""

MAX_ZIP_BYTES = 1 << 30
"""Bytes a package may unpack to, summed over its declared sizes. Test data of large problems
reaches hundreds of MB; 1 GiB fits them, and is what one upload may make us write to disk."""

MAX_RATIO = 100
"""How many times its compressed size an entry, or the whole archive, may expand. Test data
(numbers, text) deflates 2-10x; only degenerate files (a 1 GB run of zeros deflates 1000x)
come near deflate's ceiling of about 1030x, and bzip2 and LZMA go far beyond it. A real file
that is refused can be stored uncompressed (`zip -0`): that costs its uploader, not us."""

RATIO_FREE_BYTES = 32 << 20
"""An entry, or an archive, expanding to at most this is never refused for its ratio: unpacking
32 MiB is cheap whatever it was compressed from, and small repetitive test files are common."""

DIRECTORY_BYTES_PER_ENTRY = 1024
"""Central-directory bytes allowed per entry (46 fixed, then name, extra field and comment; a
200-character path with the usual extra fields takes about 270), checked before parsing it."""

READABLE_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA})
_EOCD, _EOCD64_LOCATOR, _EOCD64 = b"PK\x05\x06", b"PK\x06\x07", b"PK\x06\x06"
_BAD_ZIP = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    struct.error,
)  # what zipfile raises for archives it cannot read, names it cannot decode


class CheckedZip:
    """A zip opened from a file or from bytes, refused with a PackageError unless every check of
    the module's theory passes; `infos` are its entries, `chunks` reads one, counting.

    `label` names the archive in messages (`label:entry: fault`); `max_entries` and `max_bytes`
    are the bounds of the caller (a package's are MAX_ZIP_ENTRIES and MAX_ZIP_BYTES).
    """

    def __init__(
        self,
        source: Path | bytes,
        label: str,
        *,
        max_entries: int | None = None,
        max_bytes: int | None = None,
    ) -> None:
        max_entries = MAX_ZIP_ENTRIES if max_entries is None else max_entries
        self.label, self.read_bytes = label, 0
        self.max_bytes = MAX_ZIP_BYTES if max_bytes is None else max_bytes
        try:
            self._file: IO[bytes] = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")
        except OSError as e:
            raise PackageError(label, f"cannot be read ({e.strerror})") from None
        try:
            self.zip = self._open(max_entries)
            self.infos = self.zip.infolist()
            self._check(max_entries)
        except BaseException:
            self.close()
            raise

    def _open(self, max_entries: int) -> zipfile.ZipFile:
        declared = _end_record(self._file)
        if declared is not None:
            entries, directory = declared
            if entries > max_entries:
                raise PackageError(
                    self.label,
                    f"declares {entries} entries, more than {max_entries}: "
                    "refusing what looks like a zip bomb",
                )
            if directory > max_entries * DIRECTORY_BYTES_PER_ENTRY:
                raise PackageError(
                    self.label,
                    f"a central directory of {directory} bytes, more than "
                    f"{max_entries} entries need: refusing what looks like a zip bomb",
                )
        try:
            return zipfile.ZipFile(self._file)
        except _BAD_ZIP as e:
            raise PackageError(self.label, f"not a readable zip file ({e})") from None

    def _check(self, max_entries: int) -> None:
        label, infos = self.label, self.infos
        if len(infos) > max_entries:
            raise PackageError(
                label, f"{len(infos)} entries, more than {max_entries}: refusing what looks like a zip bomb"
            )
        if not infos:
            raise PackageError(label, "an empty zip: it holds no files")
        for info in infos:
            _check_zip_entry(label, info)
        total = sum(i.file_size for i in infos)
        if total > self.max_bytes:
            raise PackageError(
                label,
                f"unpacks to {total} bytes, more than {self.max_bytes}: refusing what looks like a zip bomb",
            )
        for info in infos:
            if info.file_size > RATIO_FREE_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise PackageError(
                    f"{label}:{info.filename}",
                    f"{info.compress_size} bytes that expand to "
                    f"{info.file_size}, more than {MAX_RATIO} times: refusing what looks like "
                    "a zip bomb (store a real file of that kind uncompressed)",
                )
        size = self._file.seek(0, os.SEEK_END)
        if total > RATIO_FREE_BYTES and total > MAX_RATIO * max(size, 1):
            raise PackageError(
                label,
                f"{size} bytes that expand to {total}, more than {MAX_RATIO} times: "
                "refusing what looks like a zip bomb (store real files of that kind "
                "uncompressed)",
            )
        _check_no_overlap(label, infos)

    def chunks(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """An entry's bytes, a MiB at a time; PackageError past `max_bytes` read in all."""
        with self.zip.open(info) as src:
            while chunk := src.read(1 << 20):
                self.read_bytes += len(chunk)
                if self.read_bytes > self.max_bytes:
                    raise PackageError(
                        self.label,
                        f"more than {self.max_bytes} bytes unpacked: refusing what looks like a zip bomb",
                    )
                yield chunk

    def read(self, info: zipfile.ZipInfo) -> bytes:
        """An entry's bytes, whole; PackageError naming it when it cannot be read."""
        try:
            return b"".join(self.chunks(info))
        except _BAD_ZIP as e:
            raise PackageError(f"{self.label}:{info.filename}", f"cannot be read ({e})") from None

    def close(self) -> None:
        if hasattr(self, "zip"):
            self.zip.close()
        self._file.close()

    def __enter__(self) -> CheckedZip:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _end_record(f: IO[bytes]) -> tuple[int, int] | None:
    """(entries, central directory bytes) as the end record declares them, found as zipfile finds
    it (at the very end, else the last signature within a comment's reach); None without one."""
    size = f.seek(0, os.SEEK_END)
    start = max(0, size - (22 + 0xFFFF))
    f.seek(start)
    tail = f.read()
    at = len(tail) - 22 if tail[-22:-18] == _EOCD and tail[-2:] == b"\0\0" else tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        return None
    entries, directory = struct.unpack("<HI", tail[at + 10 : at + 16])
    if entries != 0xFFFF and directory != 0xFFFFFFFF:
        return int(entries), int(directory)
    # ZIP64: the locator, just before the end record, says where the ZIP64 end record is
    if at < 20 or tail[at - 20 : at - 16] != _EOCD64_LOCATOR:
        return None
    (offset,) = struct.unpack("<Q", tail[at - 12 : at - 4])
    f.seek(offset)
    record = f.read(56)
    if len(record) < 56 or record[:4] != _EOCD64:
        return None
    entries, directory = struct.unpack("<QQ", record[32:48])
    return int(entries), int(directory)


def _check_no_overlap(label: str, infos: list[zipfile.ZipInfo]) -> None:
    """Each entry's local header and data end before the next entry starts (30 bytes is the
    smallest local header, so a real zip never trips this)."""
    ordered = sorted(infos, key=lambda i: i.header_offset)
    for this, after in zip(ordered, ordered[1:], strict=False):
        if this.header_offset + 30 + this.compress_size > after.header_offset:
            raise PackageError(
                f"{label}:{after.filename}",
                f"overlaps {this.filename} in the archive: refusing what looks like a zip bomb",
            )


def unpack_zip(source: Path | bytes, dest: Path, label: str | None = None) -> Path:
    """Unpack a zip (a file, or its bytes) into `dest` after checking it whole (CheckedZip); the
    package's top folder. `label` names it in errors (default: the file's name).

    A zip may hold the package at its top or inside one top folder.
    """
    label = label or (source.name if isinstance(source, Path) else "archive")
    with CheckedZip(source, label) as checked:
        for info in checked.infos:
            target = dest.joinpath(*_zip_parts(info.filename))
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with open(target, "xb") as out:
                    for chunk in checked.chunks(info):
                        out.write(chunk)
            except FileExistsError:
                raise PackageError(f"{label}:{info.filename}", "a second entry of the same name") from None
            except _BAD_ZIP as e:
                raise PackageError(f"{label}:{info.filename}", f"cannot be unpacked ({e})") from None
            if (info.external_attr >> 16) & 0o111:
                target.chmod(0o755)
    return _package_top(dest)


def _zip_parts(name: str) -> list[str]:
    return [p for p in re.split(r"[/\\]", name) if p not in ("", ".")]


def _check_zip_entry(label: str, info: zipfile.ZipInfo) -> None:
    name = info.filename
    where = f"{label}:{name}"
    parts = _zip_parts(name)
    if (
        name.startswith(("/", "\\"))
        or re.match(r"^[A-Za-z]:", name)
        or ".." in parts
        or not parts
        or "\0" in name
    ):
        raise PackageError(where, "a zip entry escaping its folder (absolute, or with '..')")
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        raise PackageError(where, "a symlink entry; a zip here must hold plain files and folders")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise PackageError(where, "a special file entry (device, fifo or socket)")
    if info.flag_bits & 0x1:
        raise PackageError(where, "encrypted; send the zip without a password")
    if info.compress_type not in READABLE_METHODS:
        raise PackageError(
            where,
            f"compressed with method {info.compress_type}; use deflate (the usual), bzip2, LZMA or none",
        )


def _package_top(dest: Path) -> Path:
    markers = ("problem.yaml", "init.yml", "domjudge-problem.ini")
    if any((dest / m).is_file() for m in markers):
        return dest
    entries = [e for e in dest.iterdir() if not e.name.startswith(".") and e.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return dest


def check_links(root: Path) -> None:
    """Raise PackageError for a symbolic link anywhere under `root` whose target leaves it."""
    real_root = Path(os.path.realpath(root))
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            if not p.is_symlink():
                continue
            target = Path(os.path.realpath(p))
            if not target.is_relative_to(real_root):
                raise PackageError(rel(root, p), f"a symlink to {os.readlink(p)}, which leaves the package")


LINK_TEXT = re.compile(rb"[A-Za-z0-9_.+-]+(?:/[A-Za-z0-9_.+-]+)*")


def follow_text_link(root: Path, p: Path, warnings: list[str]) -> Path:
    """`p`, or the file it names when it is a symbolic link stored as a text file.

    Git writes a link as a small file holding the target's path (no newline) where links are
    off, and some copies of packages (the conformance corpus among them) keep that form. A file
    is read as such a link only when its whole content is a relative path without a newline
    and that path names another file inside the package; a warning says so.
    """
    target = p
    for _ in range(8):  # a chain of links, as the kernel would follow (but shorter)
        try:
            if target.is_symlink() or not target.is_file() or target.stat().st_size > 1024:
                break
            text = target.read_bytes()
        except OSError:
            break
        if not LINK_TEXT.fullmatch(text):
            break
        nxt = Path(os.path.normpath(target.parent / text.decode()))
        if (
            not nxt.is_file()
            or nxt == target
            or not Path(os.path.realpath(nxt)).is_relative_to(os.path.realpath(root))
        ):
            break
        target = nxt
    if target != p:
        warnings.append(
            f"{rel(root, p)}: holds only the path {p.read_text().strip()}, as git writes a "
            f"symlink where links are off; read as a link to {rel(root, target)}"
        )
    return target
