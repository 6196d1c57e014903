"""The mount plan of a box: an ordered list of steps that the box's init carries out.

The keeper decides what a box sees; boxinit only executes the plan (sandbox/boxinit.c,
`run_ops`), in order, under the staging root, before `pivot_root`. Paths are inside the box.
After the plan, init pivots into the root, mounts /proc for its own pid namespace and makes
the root read-only.

Deny by default: the root is an empty tmpfs; the image adds read-only binds of what it needs
(sandbox/image.py); the box adds a minimal /dev, a private /dev/shm, /tmp and a working
directory, each a size- and inode-bounded tmpfs that disappears with the box. Nothing
writable is shared with the host or with another box.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_NOSYMFOLLOW = 0x100
RO = MS_RDONLY | MS_NOSUID | MS_NODEV

DEVICES = ("null", "zero", "full", "random", "urandom")
DEV_LINKS = {
    "fd": "/proc/self/fd",
    "stdin": "/proc/self/fd/0",
    "stdout": "/proc/self/fd/1",
    "stderr": "/proc/self/fd/2",
}
WORKDIR = "/box"


@dataclass(frozen=True, slots=True)
class Op:
    """One step: ("mount", src, dst, fstype|"bind", flags, data), ("mkdir", path, mode), ..."""

    kind: str
    args: tuple[str, ...]

    def tokens(self) -> Iterator[str]:
        yield self.kind
        yield from self.args


def mount(src: str, dst: str, fstype: str, flags: int, data: str = "") -> Op:
    return Op("mount", (src, dst, fstype, hex(flags), data))


def bind(host_path: str, dst: str, flags: int = RO) -> Op:
    return mount(host_path, dst, "bind", flags)


def mkdir(path: str, mode: int = 0o755) -> Op:
    return Op("mkdir", (path, f"0{mode:o}"))


def symlink(target: str, path: str) -> Op:
    return Op("symlink", (target, path))


def touch(path: str) -> Op:
    return Op("touch", (path,))


def file(path: str, content: str, mode: int = 0o644) -> Op:
    if "\0" in content:
        raise ValueError("file content cannot hold NUL")
    return Op("file", (path, f"0{mode:o}", content))


def remount(path: str, flags: int) -> Op:
    return Op("remount", (path, hex(flags)))


def tmpfs(path: str, *, size: int, inodes: int, mode: int, flags: int, owner: int | None = None) -> Op:
    data = f"size={size},nr_inodes={inodes},mode={mode:o}"
    if owner is not None:
        data += f",uid={owner},gid={owner}"
    return mount("tmpfs", path, "tmpfs", flags, data)


def root_tmpfs() -> list[Op]:
    """An empty root that the image fills in; made read-only after pivot_root."""
    return [tmpfs("", size=1024 * 1024, inodes=4096, mode=0o755, flags=MS_NOSUID | MS_NODEV)]


def overlay_root(layers_dir: str, lowers: list[str], *, size: int, inodes: int) -> Op:
    """A root made of read-only layers (names in layers_dir, top first) under a throwaway tmpfs layer."""
    for name in lowers:
        if not name or any(c in name for c in ":,/\\") or name.startswith("."):
            raise ValueError(f"layer name {name!r} cannot go in an overlay option")
    if any(c in layers_dir for c in ":,"):
        raise ValueError(f"the layer directory {layers_dir!r} holds ':' or ',', which overlayfs cannot take")
    return Op("overlay", (layers_dir, ":".join(lowers), f"size={size},nr_inodes={inodes},mode=755"))


def box_mounts(*, uid: int, tmp_bytes: int, tmp_inodes: int) -> list[Op]:
    """/dev, /dev/shm, /tmp and the working directory: the only places a box may write."""
    scratch = MS_NOSUID | MS_NODEV | MS_NOSYMFOLLOW
    ops = [mkdir("/proc", 0o555), mkdir("/dev"), mkdir("/tmp", 0o1777), mkdir(WORKDIR)]
    ops.append(tmpfs("/dev", size=64 * 1024, inodes=64, mode=0o755, flags=MS_NOSUID | MS_NOEXEC))
    for dev in DEVICES:
        ops += [touch(f"/dev/{dev}"), bind(f"/dev/{dev}", f"/dev/{dev}", MS_NOSUID | MS_NOEXEC)]
    for name, target in DEV_LINKS.items():
        ops.append(symlink(target, f"/dev/{name}"))
    ops.append(mkdir("/dev/shm", 0o1777))
    ops.append(remount("/dev", MS_RDONLY | MS_NOSUID | MS_NOEXEC))
    ops.append(tmpfs("/dev/shm", size=tmp_bytes, inodes=tmp_inodes, mode=0o1777, flags=scratch | MS_NOEXEC))
    ops.append(tmpfs("/tmp", size=tmp_bytes, inodes=tmp_inodes, mode=0o1777, flags=scratch))
    ops.append(tmpfs(WORKDIR, size=tmp_bytes, inodes=tmp_inodes, mode=0o755, flags=scratch, owner=uid))
    return ops
