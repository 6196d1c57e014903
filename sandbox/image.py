"""Images: what a box's root is made of.

An image turns into mount steps (sandbox/mounts.py) that fill the box's root. This file
holds the `host` image; layered images, built or imported, live in the image store
(sandbox/store.py).

The `host` image is an allowlist of read-only parts of the host: /usr (and the /bin, /lib*
and /sbin links or directories beside it) and the files of /etc that compilers and runtimes
read. Never the host's root with holes punched in it: test data, the judge's own files, /home,
/root, /var and the rest of the host stay invisible because they are never mounted.
"""

from __future__ import annotations

import os
import time
from typing import Protocol

from . import mounts
from .mounts import Op

# What compilers and runtimes read from /etc: the dynamic loader's cache, the alternatives
# links behind /usr/bin/java and cc, the JVM's configuration, the time zone.
ETC_ALLOW = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "java-17-openjdk",
    "java-21-openjdk",
    "localtime",
    "timezone",
    "mime.types",
    "fpc.cfg",
    "fpc-3.2.2.cfg",
    "ssl/openssl.cnf",
    "os-release",
    "debian_version",
    "profile",
    "mono",
    "php",
    "ghc",
)
TOP_LEVEL = ("usr", "bin", "lib", "lib32", "lib64", "libx32", "sbin", "opt/pypy3")

# the directories that hold an entry of TOP_LEVEL or ETC_ALLOW (HostImage.root_plan's cache)
PARENTS = tuple(sorted({os.path.dirname(rel) for rel in (*TOP_LEVEL, *(f"etc/{e}" for e in ETC_ALLOW))}))

BOX_USER = "box"


def _stamp(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return (-1, -1)
    return (st.st_ino, st.st_mtime_ns)


class Image(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def key(self) -> str:
        """Changes whenever what the image holds does: prepared boxes are matched by it."""
        ...

    @property
    def env(self) -> tuple[str, ...]:
        """ "NAME=value" the image asks for (an imported image's Env), over the sandbox's defaults."""
        ...

    def root_plan(self) -> list[Op]:
        """Mount steps that make the box's root at "" (the staging root) from this image."""
        ...


def etc_files(uid: int) -> list[Op]:
    """The generated /etc of every box: one user, one host name, files only."""
    return [
        mounts.file(
            "/etc/passwd", f"root:x:0:0:root:/:/bin/false\n{BOX_USER}:x:{uid}:{uid}:box:/box:/bin/sh\n"
        ),
        mounts.file("/etc/group", f"root:x:0:\n{BOX_USER}:x:{uid}:\n"),
        mounts.file("/etc/hosts", "127.0.0.1 localhost box\n::1 localhost\n"),
        mounts.file("/etc/hostname", "box\n"),
        mounts.file("/etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files\n"),
    ]


class HostImage:
    """Read-only parts of the host; nothing to build."""

    name = "host"
    key = "host"
    env: tuple[str, ...] = ()

    def __init__(self, host_root: str = "/") -> None:
        self.host_root = host_root
        self._plan: tuple[tuple[tuple[int, int], ...], list[Op]] | None = None

    def _host(self, rel: str) -> str:
        return os.path.join(self.host_root, rel)

    def root_plan(self) -> list[Op]:
        """The plan, made again only when a directory holding one of its entries changed.

        Every entry is a name in one of PARENTS, so adding, removing, renaming or replacing one
        changes that directory's mtime (or inode). Two dozen lstat calls and the plan's
        objects per box become four stat calls (issue 23: 0.14 ms of the keeper's CPU a box).
        A directory changed in the last second is not trusted: a file system's clock may tick
        coarsely, and a second change within one tick would leave the mtime as it was.
        """
        stamp = tuple(_stamp(self._host(d)) for d in PARENTS)
        cached = self._plan
        settled = max(m for _, m in stamp) < time.time_ns() - 1_000_000_000
        if cached is not None and cached[0] == stamp and settled:
            return list(cached[1])
        ops: list[Op] = mounts.root_tmpfs()
        for rel in TOP_LEVEL:
            ops += self._entry(rel)
        ops.append(mounts.mkdir("/etc"))
        for rel in ETC_ALLOW:
            ops += self._entry(f"etc/{rel}")
        self._plan = (stamp, ops)
        return list(ops)

    def _entry(self, rel: str) -> list[Op]:
        host = self._host(rel)
        dst = "/" + rel
        parents = [mounts.mkdir("/" + "/".join(rel.split("/")[: i + 1])) for i in range(rel.count("/"))]
        if os.path.islink(host):
            return [*parents, mounts.symlink(os.readlink(host), dst)]
        if os.path.isdir(host):
            return [*parents, mounts.mkdir(dst), mounts.bind(host, dst)]
        if os.path.isfile(host):
            return [*parents, mounts.touch(dst), mounts.bind(host, dst)]
        return []


HOST = HostImage()
