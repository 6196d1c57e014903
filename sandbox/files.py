"""Files into and out of a box without trusting what the program left there.

The keeper holds a descriptor of the box's working directory (an O_PATH descriptor that
boxinit passed back); it pins that tmpfs even after the box is gone, so outputs can be read
after the run and the memory is freed when the descriptor closes.

Every open goes through `openat2` with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV, and O_NOFOLLOW | O_NONBLOCK, then an `fstat` check
that the result is a regular file: a planted symlink, fifo or device is refused, never followed,
and never blocks the keeper. Where openat2 is missing (Linux < 5.6) each component is opened
with O_NOFOLLOW instead. Nothing is ever chown'ed: files the keeper writes belong to root and
are readable by the box's user.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat

from .errors import FileRefused

_SYS_OPENAT2 = 437
_RESOLVE = 0x01 | 0x02 | 0x04 | 0x08  # NO_XDEV | NO_MAGICLINKS | NO_SYMLINKS | BENEATH
_libc = ctypes.CDLL(None, use_errno=True)


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


_have_openat2 = True
MAX_DEPTH = 64  # directories below the working directory that list_files descends (Java packages: a few)


def _check(rel: str) -> str:
    if not rel or rel.startswith("/") or "\0" in rel or any(p in ("", ".", "..") for p in rel.split("/")):
        raise FileRefused(f"bad path in box: {rel!r} (relative, no '.', '..' or empty parts)")
    return rel


def open_beneath(dirfd: int, rel: str, flags: int, mode: int = 0o644) -> int:
    """Open `rel` under `dirfd` without following any symlink; raises OSError."""
    global _have_openat2
    flags |= os.O_NOFOLLOW | os.O_CLOEXEC
    if _have_openat2:
        how = _OpenHow(flags, mode if flags & os.O_CREAT else 0, _RESOLVE)
        fd = _libc.syscall(_SYS_OPENAT2, dirfd, os.fsencode(rel), ctypes.byref(how), ctypes.sizeof(how))
        if fd >= 0:
            return int(fd)
        err = ctypes.get_errno()
        if err != errno.ENOSYS:
            raise OSError(err, os.strerror(err), rel)
        _have_openat2 = False
    parts = rel.split("/")
    cur = os.open(".", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=dirfd)
    try:
        for part in parts[:-1]:
            nxt = os.open(part, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=cur)
            os.close(cur)
            cur = nxt
        return os.open(parts[-1], flags, mode, dir_fd=cur)
    finally:
        os.close(cur)


def write_file(dirfd: int, rel: str, data: bytes, mode: int = 0o644, *, dir_owner: int | None = None) -> None:
    """Create a new file in the box (parents too, owned by `dir_owner`); an existing entry is refused."""
    parts = _check(rel).split("/")
    for i in range(1, len(parts)):
        parent = "/".join(parts[:i])
        try:
            os.mkdir(parent, 0o755, dir_fd=dirfd)
        except FileExistsError:
            continue
        if dir_owner is not None:  # the program may write beside its files, as in /box itself
            os.chown(parent, dir_owner, dir_owner, dir_fd=dirfd, follow_symlinks=False)
    try:
        fd = open_beneath(dirfd, rel, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as e:
        raise FileRefused(f"cannot create {rel} in the box: {e.strerror}") from e
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def read_file(dirfd: int, rel: str, max_bytes: int) -> bytes:
    """Read a regular file the program left in the box, at most max_bytes."""
    try:
        fd = open_beneath(dirfd, _check(rel), os.O_RDONLY | os.O_NONBLOCK)
    except OSError as e:
        if e.errno == errno.ELOOP or e.errno == errno.EXDEV:
            raise FileRefused(f"{rel} in the box is a symlink or leaves the box: refused") from e
        raise FileRefused(f"cannot open {rel} in the box: {e.strerror}") from e
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileRefused(f"{rel} in the box is not a regular file: refused")
        if st.st_size > max_bytes:
            raise FileRefused(f"{rel} in the box has {st.st_size} bytes, over the {max_bytes} allowed")
        chunks = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > max_bytes:
            raise FileRefused(f"{rel} in the box grew over the {max_bytes} bytes allowed")
        return data
    finally:
        os.close(fd)


def list_files(
    dirfd: int, *, recursive: bool = False, max_entries: int = 10_000, max_depth: int = MAX_DEPTH
) -> list[str]:
    """Names in the box's working directory, for error messages and collection.

    With `recursive`, the regular files of the whole tree as relative paths ("x/y/A.class"),
    walked without following any link, at most `max_entries` names and `max_depth` levels of
    directories (FileRefused beyond either). The walk is a loop over a stack of paths, each
    directory opened beneath `dirfd` and closed before the next: a tree 1,100 levels deep costs
    neither the keeper's recursion nor one descriptor per level.
    """
    fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=dirfd)
    try:
        if not recursive:
            return sorted(os.listdir(fd))
        return sorted(_walk(fd, max_entries, max_depth))
    finally:
        os.close(fd)


def _walk(top: int, max_entries: int, max_depth: int) -> list[str]:
    out: list[str] = []
    seen = 0
    stack: list[tuple[str, int]] = [("", 0)]  # (relative directory, its depth)
    while stack:
        rel, depth = stack.pop()
        if rel:
            try:
                fd = open_beneath(top, rel.rstrip("/"), os.O_RDONLY | os.O_DIRECTORY)
            except OSError as e:
                raise FileRefused(f"cannot open the directory {rel} in the box: {e.strerror}") from e
        else:
            fd = os.dup(top)
        try:
            with os.scandir(fd) as entries:
                for entry in entries:
                    seen += 1
                    if seen > max_entries:
                        raise FileRefused(f"more than {max_entries} files in the box's working directory")
                    if entry.is_dir(follow_symlinks=False):
                        if depth + 1 > max_depth:
                            raise FileRefused(
                                f"directories nested more than {max_depth} deep in the "
                                f"box's working directory ({rel}{entry.name}/...)"
                            )
                        stack.append((f"{rel}{entry.name}/", depth + 1))
                    elif entry.is_file(follow_symlinks=False):
                        out.append(rel + entry.name)
        finally:
            os.close(fd)
    return out
