"""The host image's mount plan is cached, and made again as soon as the host's layout changes
(each change below sets a directory's mtime to now, which is never trusted: made again)."""

from __future__ import annotations

import os
from pathlib import Path

from sandbox.image import HostImage


def binds(image: HostImage) -> set[str]:
    return {op.args[1] for op in image.root_plan() if op.kind == "mount" and op.args[2] == "bind"}


def links(image: HostImage) -> dict[str, str]:
    return {op.args[1]: op.args[0] for op in image.root_plan() if op.kind == "symlink"}


def test_the_plan_follows_the_hosts_layout(tmp_path: Path) -> None:
    (tmp_path / "usr" / "lib").mkdir(parents=True)
    (tmp_path / "etc").mkdir()
    for d in (tmp_path, tmp_path / "etc"):
        os.utime(d, (1e9, 1e9))  # settled long ago
    image = HostImage(str(tmp_path))
    assert binds(image) == {"/usr"}
    first, again = image.root_plan(), image.root_plan()
    assert first == again and all(a is b for a, b in zip(first, again, strict=True))  # the cache's
    first.clear()  # a list of the caller's own
    assert binds(image) == {"/usr"}

    os.symlink("usr/lib", tmp_path / "lib")  # a new top-level entry
    assert links(image) == {"/lib": "usr/lib"}
    (tmp_path / "etc" / "ld.so.cache").write_bytes(b"")  # a new file of /etc
    assert binds(image) == {"/usr", "/etc/ld.so.cache"}
    (tmp_path / "etc" / "ssl").mkdir()
    (tmp_path / "etc" / "ssl" / "openssl.cnf").write_text("")  # one level down
    assert "/etc/ssl/openssl.cnf" in binds(image)
    os.unlink(tmp_path / "lib")
    os.symlink("usr/lib64", tmp_path / "lib")  # replaced: another target
    assert links(image) == {"/lib": "usr/lib64"}
    (tmp_path / "opt" / "pypy3").mkdir(parents=True)
    assert "/opt/pypy3" in binds(image)
