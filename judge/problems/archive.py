"""Unpack a zipped package safely, and keep every path inside the package.

Reads only, except that unpack_zip writes the zip's files into the directory it is given.
A zip (`.zip`, `.kpp`) may hold the package at its top or inside one top folder.

Theory of the zip check: entries are checked before anything is written (`..`, absolute
names, links, special files, count), and the uncompressed size is counted while reading, so a
zip that lies about its sizes still stops at 1 GiB.

Symbolic links are fine while their target stays inside the package (every spec says so);
a link leaving it is a PackageError wherever it is (check_links). A test-data or submission
file whose whole content is the relative path of another file of the package (no newline) is a
link that git wrote as text, and is followed with a warning (follow_text_link).
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from pathlib import Path

from .files import PackageError, rel

MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_BYTES = 1 << 30  # uncompressed, counted while reading


def unpack_zip(zpath: Path, dest: Path) -> Path:
    """Unpack a zip into `dest` after checking every entry; the package's top folder.

    A zip may hold the package at its top or inside one top folder.
    """
    label = zpath.name
    try:
        zf = zipfile.ZipFile(zpath)
    except (zipfile.BadZipFile, OSError) as e:
        raise PackageError(label, f"not a readable zip file ({e})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise PackageError(label, f"{len(infos)} entries, more than {MAX_ZIP_ENTRIES}: "
                               "refusing what looks like a zip bomb")
        for info in infos:
            _check_zip_entry(label, info)
        total = 0
        for info in infos:
            parts = _zip_parts(info.filename)
            target = dest.joinpath(*parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "xb") as out:
                    while chunk := src.read(1 << 20):
                        total += len(chunk)
                        if total > MAX_ZIP_BYTES:
                            raise PackageError(label, "more than 1 GiB uncompressed: refusing what "
                                               "looks like a zip bomb")
                        out.write(chunk)
            except FileExistsError:
                raise PackageError(f"{label}:{info.filename}", "a second entry of the same name") from None
            except (zipfile.BadZipFile, OSError, EOFError) as e:
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
    if (name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts or not parts
            or "\0" in name):
        raise PackageError(where, "a zip entry escaping its folder (absolute, or with '..')")
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        raise PackageError(where, "a symlink entry; a zipped package must hold plain files and folders")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise PackageError(where, "a special file entry (device, fifo or socket)")


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
        if not nxt.is_file() or nxt == target or not Path(os.path.realpath(nxt)).is_relative_to(
                os.path.realpath(root)):
            break
        target = nxt
    if target != p:
        warnings.append(f"{rel(root, p)}: holds only the path {p.read_text().strip()}, as git writes a "
                        f"symlink where links are off; read as a link to {rel(root, target)}")
    return target
