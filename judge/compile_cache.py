"""Compiled programs kept per worker machine, by a digest of everything that made them.

Why: rejudging a problem, or a batch of identical submissions, compiled each one again (50 ms
of gcc, 2.5 s of javac); the same source, language, options and image give the same files,
so they are compiled once (issue 23).

The key is a SHA-256 over, length-prefixed so no two inputs run together: this module's
FORMAT, the language's id, its compile command as expanded for this compile (options and
the memory figure in it included), the compile limits, the environment the compiler sees,
the artifacts it must leave, the entry point and {main}, the image's key (a store image's
is its name and the digests of its layers, the top one included, so a rebuilt compiler is
a new key), and every source file's name and bytes. Only a compile that succeeded is kept:
a CE may come of a compiler starved on a loaded machine, and is cheap to redo.

An entry is one file, `<key>.entry`: a JSON header line (the key again, each file's name,
mode, size and SHA-256, the compiler's output) and then the files' bytes. It is written to a
temporary name in the same directory and renamed into place, so a reader sees a whole entry
or none. A reader believes nothing in it: an entry whose header names another key, a size
that does not add up, a digest that does not match, a name that leaves /box or a mode with
more than the permission bits is removed and the source compiled again (a poisoned or torn
entry costs one compile, never a wrong program). The directory is root's, mode 0700.

Bounded: after each write the oldest entries (by mtime; a hit renews it) are removed until
the directory holds at most `max_bytes`; an entry over an eighth of the bound is not kept.
Boxes on `host` are not cached: the host's compiler can change under the same image key.

Who uses it: execution.compile_source, with `default()` when `JUDGE_COMPILE_CACHE_DIR` names
a directory (`JUDGE_COMPILE_CACHE_MIB` bounds it, 512 by default; read at call time; `off`
turns it off). A worker's pool processes share `$JUDGE_DATA_DIR/compile-cache` unless it is
set (worker/tasks.py); `judge run`, `judge verify` and `judge grade` use one only when it is.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

FORMAT = "judge-compile-cache-1"
SUFFIX = ".entry"
MAX_HEADER = 1 << 20


@dataclass(frozen=True, slots=True)
class Hit:
    """A cached compile: the program's files (name in /box, content, mode) and the compiler's output."""

    files: tuple[tuple[str, bytes, int], ...]
    compile_output: str


def compile_key(
    *,
    language: str,
    argv: Sequence[str],
    limits: object,
    env: Mapping[str, str],
    artifacts: Iterable[tuple[str, int]],
    entry: str,
    main: str | None,
    image_key: str,
    sources: Iterable[tuple[str, bytes]],
) -> str:
    """The hex SHA-256 naming one compile: every input that can change its output."""
    h = hashlib.sha256()

    def part(data: bytes | str) -> None:
        b = data.encode() if isinstance(data, str) else data
        h.update(len(b).to_bytes(8, "big"))
        h.update(b)

    part(FORMAT)
    part(language)
    part(json.dumps(list(argv)))
    part(repr(limits))
    part(json.dumps(sorted(env.items())))
    part(json.dumps(sorted(artifacts)))
    part(entry)
    part(main or "")
    part(image_key)
    for name, data in sorted(sources):
        part(name)
        part(data)
    return h.hexdigest()


class CompileCache:
    def __init__(self, directory: str, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ValueError("the compile cache's bound must be positive")
        self.directory = directory
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0

    @staticmethod
    def caches(image_key: str) -> bool:
        """Whether compiles on this image may be kept (not on `host`, whose compiler can change)."""
        return image_key != "host"

    def _path(self, key: str) -> str:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise ValueError(f"not a compile cache key: {key!r}")
        return os.path.join(self.directory, key + SUFFIX)

    def get(self, key: str) -> Hit | None:
        """The entry for key, checked whole; None (and a bad entry removed) otherwise."""
        path = self._path(key)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            self.misses += 1
            return None
        hit = _parse(key, data)
        if hit is None:
            _unlink(path)
            self.misses += 1
            return None
        try:
            os.utime(path)  # recently used: evicted last
        except OSError:
            pass
        self.hits += 1
        return hit

    def put(self, key: str, files: Sequence[tuple[str, bytes, int]], compile_output: str) -> bool:
        """Keep a successful compile; False when it is too big to keep or cannot be written."""
        header = json.dumps(
            {
                "format": FORMAT,
                "key": key,
                "compile_output": compile_output,
                "files": [
                    [name, mode, len(data), hashlib.sha256(data).hexdigest()] for name, data, mode in files
                ],
            }
        ).encode()
        size = len(header) + 1 + sum(len(data) for _, data, _ in files)
        if size > self.max_bytes // 8 or len(header) > MAX_HEADER:
            return False
        path = self._path(key)
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.directory)
        except OSError:
            return False
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(header + b"\n")
                for _, data, _ in files:
                    f.write(data)
            os.replace(tmp, path)  # whole or not at all
        except OSError:
            _unlink(tmp)
            return False
        self.evict()
        return True

    def evict(self) -> None:
        """Remove the least recently used entries until the directory is within the bound."""
        entries = []
        try:
            with os.scandir(self.directory) as it:
                for e in it:
                    if e.name.endswith(SUFFIX):
                        try:
                            st = e.stat(follow_symlinks=False)
                        except OSError:
                            continue
                        entries.append((st.st_mtime_ns, st.st_size, e.path))
        except OSError:
            return
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            _unlink(path)
            total -= size

    def size_bytes(self) -> int:
        """What the entries take now."""
        try:
            with os.scandir(self.directory) as it:
                return sum(e.stat(follow_symlinks=False).st_size for e in it if e.name.endswith(SUFFIX))
        except OSError:
            return 0


def _parse(key: str, data: bytes) -> Hit | None:
    """The entry's program if every part of it checks out, else None."""
    head, nl, body = data.partition(b"\n")
    if not nl or len(head) > MAX_HEADER:
        return None
    try:
        doc = json.loads(head)
        if (
            doc.get("format") != FORMAT
            or doc.get("key") != key
            or not isinstance(doc.get("compile_output"), str)
        ):
            return None
        files: list[tuple[str, bytes, int]] = []
        at = 0
        for name, mode, size, digest in doc["files"]:
            if (
                not isinstance(name, str)
                or not name
                or name.startswith("/")
                or ".." in name.split("/")
                or "\0" in name
                or not isinstance(mode, int)
                or not 0 <= mode <= 0o777
                or not isinstance(size, int)
                or size < 0
                or at + size > len(body)
            ):
                return None
            content = body[at : at + size]
            if hashlib.sha256(content).hexdigest() != digest:
                return None
            files.append((name, content, mode))
            at += size
        if at != len(body):
            return None
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    return Hit(tuple(files), doc["compile_output"])


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


_default: CompileCache | None = None
_lock = threading.Lock()


def default() -> CompileCache | None:
    """This process's cache when JUDGE_COMPILE_CACHE_DIR names a directory, else None (off)."""
    global _default
    from .service.settings import Settings  # the service's settings; not at the top (import order)

    settings = Settings.from_env()
    directory = settings.compile_cache_dir
    if directory is None:
        return None
    max_bytes = settings.compile_cache_bytes
    with _lock:
        if _default is None or _default.directory != directory or _default.max_bytes != max_bytes:
            _default = CompileCache(directory, max_bytes)
        return _default
