"""What a contestant hands in: one source file, a directory of them, or a zip.

`load(path)` reads any of the three into a `Source`: its files as relative paths and
bytes, checked on the way in. The judge never unpacks anything onto the host's disk: files
go from memory into the box (sandbox Box.put, which refuses to follow links). Limits keep a
hostile upload small: at most MAX_FILES files and MAX_BYTES in all (counted as read, so a zip
bomb stops at the limit, whatever its headers claim); names must be plain relative paths
(no "..", no absolute paths, no NUL, at most MAX_DEPTH directories deep); links and special
files in a directory are refused; in a zip, directories are skipped and links are refused.
Hidden files and folders (".git", ".DS_Store") and __MACOSX are left out, as editors and
archivers leave them behind without the contestant meaning to submit them.

A problem package's own submissions are loaded with `within=` the package's folder: there a
symbolic link (to a file or a folder) is followed when its target stays inside that folder,
as problemtools and DOMjudge follow them (DOMjudge's examples give one program two names by a
link), and refused when it leaves.

Which file is the program's entry point is the language's rule (judge/languages/recipe.py,
`Language.entry_point`), unless the submitter names it (`judge run --main FILE`).
"""

from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sandbox import MiB

from .errors import JudgeError

MAX_FILES = 200
MAX_BYTES = 8 * MiB
MAX_DEPTH = 8


class BadSubmission(JudgeError):
    """The submission cannot be read or breaks a rule; the message says which file and why."""


@dataclass(frozen=True, slots=True)
class Source:
    """A submission's source: its files by relative path (one file, a directory's or a zip's).
    Named apart from a problem package's submissions (problems/model.py) and the database's row
    (storage/models.py), the other two things called a submission."""

    files: tuple[tuple[str, bytes], ...]  # (relative POSIX path, content), sorted by path
    origin: str  # what it was loaded from, for messages

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.files]

    def text(self, name: str) -> str:
        return dict(self.files)[name].decode("utf-8", errors="replace")

    @classmethod
    def single(cls, name: str, data: bytes) -> Source:
        return cls(((check_name(name), data),), name)


def check_name(name: str) -> str:
    """A plain relative path in POSIX form, or BadSubmission."""
    path = PurePosixPath(name)
    if not name or "\0" in name or "\\" in name or path.is_absolute() or ".." in path.parts:
        raise BadSubmission(f"{name!r}: file names must be plain relative paths")
    if len(path.parts) > MAX_DEPTH + 1:
        raise BadSubmission(f"{name}: more than {MAX_DEPTH} folders deep")
    return str(path)


def _hidden(name: str) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in PurePosixPath(name).parts)


class _Budget:
    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.files = 0
        self.bytes = 0

    def take(self, name: str, size: int) -> None:
        self.files += 1
        self.bytes += size
        if self.files > MAX_FILES:
            raise BadSubmission(f"{self.origin}: more than {MAX_FILES} files")
        if self.bytes > MAX_BYTES:
            raise BadSubmission(f"{self.origin}: more than {MAX_BYTES // MiB} MiB in all (at {name})")


def load(path: Path, *, within: Path | None = None) -> Source:
    """A file, a directory or a .zip, read whole into memory and checked.

    With `within` (a package's folder), links whose target stays inside it are followed.
    """
    try:
        st = path.lstat()
        if within is not None and stat.S_ISLNK(st.st_mode):
            _inside(within, path)
            st = path.stat()
    except OSError as e:
        raise BadSubmission(f"{path}: {e.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        return _directory(path, within)
    if not stat.S_ISREG(st.st_mode):
        raise BadSubmission(f"{path}: not a regular file or a directory")
    if path.suffix.lower() == ".zip":
        return _zip(path)
    if st.st_size > MAX_BYTES:
        raise BadSubmission(f"{path} has {st.st_size} bytes; a submission may have at most {MAX_BYTES}")
    return Source.single(path.name, path.read_bytes())


def _inside(within: Path, link: Path) -> None:
    """BadSubmission unless the link's target (all links followed) is inside `within`."""
    if not Path(os.path.realpath(link)).is_relative_to(os.path.realpath(within)):
        raise BadSubmission(f"{link}: a link to {os.readlink(link)}, which leaves {within}")


def _directory(root: Path, within: Path | None = None) -> Source:
    budget = _Budget(str(root))
    files: list[tuple[str, bytes]] = []
    for top, dirs, names in os.walk(root, followlinks=within is not None):
        rel_top = os.path.relpath(top, root)
        for d in list(dirs):
            rel = os.path.normpath(os.path.join(rel_top, d))
            if _hidden(rel):
                dirs.remove(d)
            elif len(PurePosixPath(rel).parts) > MAX_DEPTH:  # also ends a link to a folder above
                raise BadSubmission(f"{root}: {rel}: more than {MAX_DEPTH} folders deep")
            elif os.path.islink(os.path.join(top, d)):
                if within is None:
                    raise BadSubmission(f"{root}: {rel} is a link; submit the files themselves")
                _inside(within, Path(top, d))
        for name in sorted(names):
            rel = os.path.normpath(os.path.join(rel_top, name))
            if _hidden(rel):
                continue
            full = os.path.join(top, name)
            if within is not None and os.path.islink(full):
                _inside(within, Path(full))
            st = os.stat(full) if within is not None else os.lstat(full)
            if not stat.S_ISREG(st.st_mode):
                raise BadSubmission(f"{root}: {rel} is not a regular file")
            budget.take(rel, st.st_size)
            files.append((check_name(Path(rel).as_posix()), Path(full).read_bytes()))
    if not files:
        raise BadSubmission(f"{root}: no files")
    return Source(tuple(sorted(files)), str(root))


def _zip(path: Path) -> Source:
    budget = _Budget(str(path))
    files: list[tuple[str, bytes]] = []
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                name = check_name(info.filename.rstrip("/") if info.is_dir() else info.filename)
                if info.is_dir() or _hidden(name):
                    continue
                kind = stat.S_IFMT(info.external_attr >> 16) if info.create_system == 3 else 0
                if kind and kind != stat.S_IFREG:
                    raise BadSubmission(f"{path}: {info.filename} is a link or special file")
                data = _read_capped(z, info, budget)
                files.append((name, data))
    except zipfile.BadZipFile as e:
        raise BadSubmission(f"{path}: not a zip archive ({e})") from None
    if not files:
        raise BadSubmission(f"{path}: no files in the archive")
    names = [n for n, _ in files]
    if len(set(names)) != len(names):
        raise BadSubmission(f"{path}: a file name appears twice")
    return Source(tuple(sorted(files)), str(path))


def _read_capped(z: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> bytes:
    chunks: list[bytes] = []
    budget.take(info.filename, 0)
    with z.open(info) as f:
        while chunk := f.read(64 * 1024):
            budget.bytes += len(chunk)
            if budget.bytes > MAX_BYTES:
                raise BadSubmission(
                    f"{budget.origin}: more than {MAX_BYTES // MiB} MiB in all, unpacked (at {info.filename})"
                )
            chunks.append(chunk)
    return b"".join(chunks)
