"""An npm layer unpacks on a Python without tarfile's filters (Debian 12's 3.11.2), refusing what
filter="data" refuses. Found by the fresh-machine check: `judge images build --all` failed there."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
from pathlib import Path

import pytest

from sandbox import build
from sandbox.store import ImageStore


def tarball(tmp_path: Path, entries: list[tarfile.TarInfo]) -> tuple[ImageStore, build.Npm]:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for info in entries:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isfile() else None)
    data = raw.getvalue()
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    store = ImageStore(str(tmp_path / "store"))
    os.makedirs(os.path.join(store.cache_dir, "npm"))
    Path(store.cache_dir, "npm", "tool@1.0.0.tgz").write_bytes(data)
    return store, build.Npm("tool@1.0.0", integrity, "/opt/tool")


def build_layer(store: ImageStore, step: build.Npm) -> Path:
    """The npm layer of `step` over a base layer, from the tarball in the store's cache; its tree."""
    with store.locked():
        digest = build.build_layer(store, step, ["sha256:" + "b" * 64], lambda _: None)
    return Path(store.layer_path(digest))


def entry(name: str, kind: bytes = tarfile.REGTYPE, mode: int = 0o4755) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size = kind, mode, 1 if kind == tarfile.REGTYPE else 0
    return info


def test_without_tarfile_filters_the_package_is_unpacked_without_setuid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(tarfile, "data_filter", raising=False)
    store, step = tarball(tmp_path, [entry("package", tarfile.DIRTYPE, 0o700), entry("package/bin/tool")])
    tree = build_layer(store, step)
    tool = tree / "opt" / "tool" / "bin" / "tool"
    assert tool.read_bytes() == b"x"
    assert tool.stat().st_mode & 0o7777 == 0o755


@pytest.mark.parametrize(
    "bad", [entry("package/../../etc/x"), entry("/etc/x"), entry("package/dev", tarfile.CHRTYPE)]
)
def test_without_tarfile_filters_escapes_and_devices_are_refused(
    bad: tarfile.TarInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(tarfile, "data_filter", raising=False)
    store, step = tarball(tmp_path, [entry("package", tarfile.DIRTYPE, 0o755), bad])
    with pytest.raises(build.BuildFailed, match="not a plain file or folder inside it"):
        build_layer(store, step)
    assert not any(Path(store.root).rglob("x")), "the entry was unpacked somewhere in the store"
