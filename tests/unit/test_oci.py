"""Image archives built here with tarfile and json, read and unpacked by sandbox/oci.py.

No docker, no network. Tests that give files other owners, set trusted.* xattrs or mount
overlayfs need root and are skipped without it; the refusals run as anyone, since every entry
they build belongs to the user running the tests.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import stat
import subprocess
import tarfile
from collections.abc import Iterable
from pathlib import Path

import pytest

from sandbox.errors import SandboxError
from sandbox.oci import ArchiveImage, ArchiveLayer, ImportRefused, read_archive, unpack_layer

MTIME = 1_700_000_000
ME = os.getuid(), os.getgid()
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="sets owners and trusted.* xattrs: needs root")

Entry = tuple[tarfile.TarInfo, bytes]


# ---- building layers and archives -----------------------------------------------------------


def _info(name: str, kind: bytes, mode: int, owner: tuple[int, int]) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.uid, info.gid = owner
    info.mtime = MTIME
    return info


def f(name: str, data: bytes = b"", mode: int = 0o644, owner: tuple[int, int] = ME) -> Entry:
    info = _info(name, tarfile.REGTYPE, mode, owner)
    info.size = len(data)
    return info, data


def d(name: str, mode: int = 0o755, owner: tuple[int, int] = ME) -> Entry:
    return _info(name, tarfile.DIRTYPE, mode, owner), b""


def sym(name: str, target: str, owner: tuple[int, int] = ME) -> Entry:
    info = _info(name, tarfile.SYMTYPE, 0o777, owner)
    info.linkname = target
    return info, b""


def hard(name: str, target: str) -> Entry:
    info = _info(name, tarfile.LNKTYPE, 0o644, ME)
    info.linkname = target
    return info, b""


def node(name: str, kind: bytes, major: int = 0, minor: int = 0) -> Entry:
    info = _info(name, kind, 0o644, ME)
    info.devmajor, info.devminor = major, minor
    return info, b""


def layer(*entries: Entry) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buf.getvalue()


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def pack(path: Path, files: Iterable[tuple[str, bytes]], links: Iterable[tuple[str, str]] = ()) -> Path:
    """The outer archive: plain files, and symlinks as old `docker save` made them."""
    with tarfile.open(path, "w") as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in links:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return path


def config(layers: list[bytes], *, diff_ids: bool = True) -> bytes:
    doc: dict[str, object] = {
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Env": ["PATH=/usr/bin", "LANG=C.UTF-8"],
            "Entrypoint": ["/bin/sh", "-c"],
            "Cmd": ["echo hi"],
            "WorkingDir": "/work",
        },
    }
    if diff_ids:
        doc["rootfs"] = {"type": "layers", "diff_ids": [sha(b) for b in layers]}
    return json.dumps(doc).encode()


def docker_archive(path: Path, layers: list[bytes], *, images: int = 1, diff_ids: bool = True) -> Path:
    cfg = config(layers, diff_ids=diff_ids)
    cfg_name = sha(cfg)[7:] + ".json"
    names = [f"{sha(b)[7:]}/layer.tar" for b in layers]
    manifest = [{"Config": cfg_name, "RepoTags": ["judge/py:3.12", "judge/py:latest"], "Layers": names}]
    return pack(
        path,
        [
            ("manifest.json", json.dumps(manifest * images).encode()),
            (cfg_name, cfg),
            *zip(names, layers, strict=True),
        ],
    )


def oci_archive(
    path: Path,
    layers: list[bytes],
    *,
    nested: bool = False,
    diff_ids: bool = True,
    media_type: str = "application/vnd.oci.image.layer.v1.tar+gzip",
    images: int = 1,
) -> Path:
    """An OCI layout packed as `tar -C layout .` packs it: every name starts with "./"."""
    blobs: dict[str, bytes] = {}

    def blob(data: bytes, media: str) -> dict[str, object]:
        blobs[f"./blobs/sha256/{sha(data)[7:]}"] = data
        return {"mediaType": media, "digest": sha(data), "size": len(data)}

    def image(arch_layers: list[bytes]) -> dict[str, object]:
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": blob(
                config(arch_layers, diff_ids=diff_ids), "application/vnd.oci.image.config.v1+json"
            ),
            "layers": [blob(gzip.compress(b, mtime=0), media_type) for b in arch_layers],
        }
        return blob(json.dumps(manifest).encode(), "application/vnd.oci.image.manifest.v1+json")

    top = image(layers)
    if nested:  # as buildx and skopeo write it: index.json -> index -> one manifest per platform
        arm = image([layer(f("arm", b"wrong platform"))])
        inner = {
            "schemaVersion": 2,
            "manifests": [
                {**arm, "platform": {"os": "linux", "architecture": "arm64"}},
                {**top, "platform": {"os": "linux", "architecture": "amd64"}},
            ],
        }
        top = blob(json.dumps(inner).encode(), "application/vnd.oci.image.index.v1+json")
    top["annotations"] = {"org.opencontainers.image.ref.name": "judge/py:3.12"}
    index = {"schemaVersion": 2, "manifests": [top] * images}
    return pack(
        path,
        [
            ("./oci-layout", b'{"imageLayoutVersion": "1.0.0"}'),
            ("./index.json", json.dumps(index).encode()),
            *blobs.items(),
        ],
    )


# ---- the image of the first tests -----------------------------------------------------------

ROOT = (0, 0)
USER = (1000, 1001)
LAYER1 = layer(
    d(".", 0o755, ROOT),
    d("etc", 0o755, ROOT),
    f("etc/a", b"alpha\n", 0o640, USER),
    f("etc/b", b"beta\n", 0o644, ROOT),
    d("dir", 0o755, ROOT),
    d("dir/x", 0o750, USER),
    f("dir/x/y", b"why\n", 0o600, USER),
    d("usr", 0o755, ROOT),
    d("usr/bin", 0o755, ROOT),
    f("usr/bin/tool", b"#!/bin/sh\n", 0o6755, ROOT),  # setuid and setgid: dropped
    hard("usr/bin/tool2", "usr/bin/tool"),
    sym("bin", "usr/bin", ROOT),
    sym("python", "/usr/bin/python3", USER),  # absolute: fine inside a box
    d("tmp", 0o1777, ROOT),  # sticky: kept
)
LAYER2 = layer(
    d("etc", 0o755, ROOT),
    f("etc/.wh.b"),
    d("dir", 0o755, ROOT),
    f("dir/.wh..wh..opq"),
    f("dir/new", b"new\n", 0o644, ROOT),
    f("etc/c", b"gamma\n", 0o644, ROOT),
)
FILE_BYTES = (len(b"alpha\nbeta\nwhy\n#!/bin/sh\n"), len(b"new\ngamma\n"))  # file data per layer


def check_image(image: ArchiveImage, members: tuple[str, str]) -> None:
    assert image.layers == (
        ArchiveLayer(digest=sha(LAYER1), member=members[0]),
        ArchiveLayer(digest=sha(LAYER2), member=members[1]),
    )
    assert image.env == ("PATH=/usr/bin", "LANG=C.UTF-8")
    assert image.cmd == ("/bin/sh", "-c", "echo hi")
    assert image.workdir == "/work"


def unpack_all(archive: Path, image: ArchiveImage, tmp_path: Path) -> list[Path]:
    dirs = []
    for i, lay in enumerate(image.layers):
        dest = tmp_path / f"layer{i + 1}"
        dest.mkdir()
        assert unpack_layer(str(archive), lay, str(dest)) == FILE_BYTES[i]
        dirs.append(dest)
    return dirs


def check_layers(l1: Path, l2: Path) -> None:
    a = os.lstat(l1 / "etc/a")
    assert (l1 / "etc/a").read_bytes() == b"alpha\n"
    assert (stat.S_IMODE(a.st_mode), a.st_uid, a.st_gid, a.st_mtime) == (0o640, 1000, 1001, MTIME)
    assert stat.S_IMODE(os.lstat(l1 / "usr/bin/tool").st_mode) == 0o755
    assert os.lstat(l1 / "usr/bin/tool2").st_ino == os.lstat(l1 / "usr/bin/tool").st_ino
    assert stat.S_IMODE(os.lstat(l1 / "tmp").st_mode) == 0o1777
    x = os.lstat(l1 / "dir/x")
    assert (stat.S_IMODE(x.st_mode), x.st_uid, x.st_mtime) == (0o750, 1000, MTIME)  # set after dir/x/y
    assert os.readlink(l1 / "bin") == "usr/bin"
    assert os.readlink(l1 / "python") == "/usr/bin/python3"
    assert os.lstat(l1 / "python").st_uid == 1000
    assert os.lstat(l1).st_mtime == MTIME

    wh = os.lstat(l2 / "etc/b")
    assert stat.S_ISCHR(wh.st_mode) and wh.st_rdev == os.makedev(0, 0)
    assert os.getxattr(l2 / "dir", "trusted.overlay.opaque") == b"y"
    assert sorted(os.listdir(l2 / "etc")) == ["b", "c"]
    assert sorted(os.listdir(l2 / "dir")) == ["new"]


# ---- reading and unpacking ------------------------------------------------------------------


@needs_root
def test_docker_save_archive(tmp_path: Path) -> None:
    archive = docker_archive(tmp_path / "img.tar", [LAYER1, LAYER2])
    image = read_archive(str(archive))
    check_image(image, (f"{sha(LAYER1)[7:]}/layer.tar", f"{sha(LAYER2)[7:]}/layer.tar"))
    assert image.tags == ("judge/py:3.12", "judge/py:latest")
    check_layers(*unpack_all(archive, image, tmp_path))


@needs_root
@pytest.mark.parametrize("nested", [False, True])
def test_oci_layout_with_gzip_layers(tmp_path: Path, nested: bool) -> None:
    archive = oci_archive(tmp_path / "img.tar", [LAYER1, LAYER2], nested=nested)
    image = read_archive(str(archive))
    gz = [f"blobs/sha256/{sha(gzip.compress(b, mtime=0))[7:]}" for b in (LAYER1, LAYER2)]
    check_image(image, (gz[0], gz[1]))  # the amd64 manifest, not the arm64 one
    assert image.tags == ("judge/py:3.12",)
    check_layers(*unpack_all(archive, image, tmp_path))


@needs_root
def test_overlayfs_reads_the_layers(tmp_path: Path) -> None:
    archive = oci_archive(tmp_path / "img.tar", [LAYER1, LAYER2])
    l1, l2 = unpack_all(archive, read_archive(str(archive)), tmp_path)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={l2}:{l1}", str(mnt)],
        check=True,
        capture_output=True,
    )
    try:
        assert (mnt / "etc/a").read_bytes() == b"alpha\n"
        assert (mnt / "etc/c").read_bytes() == b"gamma\n"
        assert not os.path.lexists(mnt / "etc/b")  # whiteout
        assert os.listdir(mnt / "dir") == ["new"]  # opaque: dir/x of layer 1 hidden
        assert (mnt / "bin/tool").read_bytes() == b"#!/bin/sh\n"
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_diff_ids_are_computed_when_the_config_lacks_them(tmp_path: Path) -> None:
    one = layer(f("a", b"1"))
    two = layer(f("b", b"2"))
    for archive in (
        docker_archive(tmp_path / "d.tar", [one, two], diff_ids=False),
        oci_archive(tmp_path / "o.tar", [one, two], diff_ids=False),
    ):
        assert [lay.digest for lay in read_archive(str(archive)).layers] == [sha(one), sha(two)]


def test_old_docker_save_links_a_layer_to_another(tmp_path: Path) -> None:
    one = layer(f("a", b"same"))
    cfg = config([one, one])
    manifest = [{"Config": "c.json", "RepoTags": None, "Layers": ["l1/layer.tar", "l2/layer.tar"]}]
    archive = pack(
        tmp_path / "img.tar",
        [("manifest.json", json.dumps(manifest).encode()), ("c.json", cfg), ("l1/layer.tar", one)],
        links=[("l2/layer.tar", "../l1/layer.tar")],
    )
    image = read_archive(str(archive))
    assert image.tags == ()
    dest = tmp_path / "l2"
    dest.mkdir()
    assert unpack_layer(str(archive), image.layers[1], str(dest)) == 4
    assert (dest / "a").read_bytes() == b"same"


def unpack(tmp_path: Path, *entries: Entry, max_bytes: int = 1 << 30) -> Path:
    """One layer of `entries`, through a docker save archive, into tmp_path/dest."""
    archive = docker_archive(tmp_path / "img.tar", [layer(*entries)])
    dest = tmp_path / "dest"
    dest.mkdir()
    unpack_layer(str(archive), read_archive(str(archive)).layers[0], str(dest), max_bytes=max_bytes)
    return dest


def test_later_entries_win(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = unpack(
        tmp_path,
        f("x", b"file"),
        d("x"),
        f("x/y", b"in"),  # a directory replaces a file
        d("z"),
        f("z/in", b"gone"),
        f("z", b"file"),  # a file replaces a tree
        sym("s", str(outside)),
        f("s", b"plain"),  # a file replaces a symlink
        f("w", b"old"),
        f(".wh.w"),  # a whiteout replaces a file
        f("m", b"1", 0o600),
        f("m", b"22", 0o644),
    )
    assert (dest / "x/y").read_bytes() == b"in"
    assert (dest / "z").read_bytes() == b"file"
    assert (dest / "s").read_bytes() == b"plain" and not (dest / "s").is_symlink()
    assert stat.S_ISCHR(os.lstat(dest / "w").st_mode)
    assert (dest / "m").read_bytes() == b"22" and stat.S_IMODE(os.lstat(dest / "m").st_mode) == 0o644
    assert os.listdir(outside) == []


def test_xattrs_in_the_tar_are_dropped(tmp_path: Path) -> None:
    info, data = f("cap", b"x", 0o755)
    info.pax_headers = {"SCHILY.xattr.user.note": "hi", "SCHILY.xattr.security.capability": "\x01"}
    dest = unpack(tmp_path, (info, data))
    assert (dest / "cap").read_bytes() == b"x"
    assert os.listxattr(dest / "cap") == []


# ---- refusals -------------------------------------------------------------------------------


def refused(tmp_path: Path, *entries: Entry) -> str:
    with pytest.raises(ImportRefused) as e:
        unpack(tmp_path, *entries)
    return str(e.value)


@pytest.mark.parametrize(
    ("entries", "name", "why"),
    [
        ([f("../evil", b"x")], "../evil", "'..'"),
        ([d("a"), f("a/../../evil", b"x")], "a/../../evil", "'..'"),
        ([f("/etc/evil", b"x")], "/etc/evil", "absolute"),
        ([d("a"), sym("a/b", "../../../etc")], "a/b", "climbs above the image root"),
        ([sym("up", "..")], "up", "climbs above the image root"),
        ([hard("h", "missing")], "h", "not a file made earlier in this layer"),
        ([hard("h", "../outside/victim")], "h", "'..'"),
        ([hard("h", "/etc/passwd")], "h", "absolute"),
        ([d("dir"), hard("h", "dir")], "h", "not a file or symlink"),
        ([node("null", tarfile.CHRTYPE, 1, 3)], "null", "device nodes are refused"),
        ([node("whiteout", tarfile.CHRTYPE, 0, 0)], "whiteout", "device nodes are refused"),
        ([node("sda", tarfile.BLKTYPE, 8, 0)], "sda", "device nodes are refused"),
        ([node("pipe", tarfile.FIFOTYPE)], "pipe", "FIFOs are refused"),
        ([f(".wh..", b"")], ".wh..", "whiteout of nothing"),
    ],
    ids=[
        "dotdot",
        "dotdot-inside",
        "absolute",
        "symlink-climbs",
        "symlink-dotdot",
        "hardlink-missing",
        "hardlink-dotdot",
        "hardlink-absolute",
        "hardlink-dir",
        "chardev",
        "chardev-0-0",
        "blockdev",
        "fifo",
        "whiteout-dotdot",
    ],
)
def test_refused(tmp_path: Path, entries: list[Entry], name: str, why: str) -> None:
    message = refused(tmp_path, *entries)
    assert f"entry {name!r}" in message and why in message and "/layer.tar" in message
    assert not os.path.lexists(tmp_path / "evil") and not os.path.lexists(tmp_path.parent / "evil")


@pytest.mark.parametrize(
    ("entries", "name"),
    [
        ([f("lnk/evil", b"pwned")], "lnk/evil"),
        ([d("lnk/sub")], "lnk/sub"),
        ([sym("lnk/sym", "/etc")], "lnk/sym"),
        ([hard("h", "lnk/victim")], "h"),
        ([f("lnk/.wh.victim")], "lnk/.wh.victim"),
        ([f("lnk/.wh..wh..opq")], "lnk/.wh..wh..opq"),
        ([f("lnk/a/b/c", b"pwned")], "lnk/a/b/c"),
    ],
    ids=["file", "dir", "symlink", "hardlink", "whiteout", "opaque", "deep"],
)
@pytest.mark.parametrize("plant", ["symlink", "dir-then-symlink", "relative-symlink"])
def test_a_planted_symlink_never_redirects_a_write(
    tmp_path: Path, entries: list[Entry], name: str, plant: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim").write_bytes(b"safe")
    planted = {
        "symlink": [sym("lnk", str(outside))],
        "dir-then-symlink": [d("lnk"), sym("lnk", str(outside))],
        # inside the layer, yet still never written through
        "relative-symlink": [d("real"), sym("lnk", "real")],
    }[plant]
    message = refused(tmp_path, *planted, *entries)
    assert f"entry {name!r}" in message and "not a directory" in message
    assert sorted(os.listdir(outside)) == ["victim"]
    victim = os.lstat(outside / "victim")
    assert stat.S_ISREG(victim.st_mode) and victim.st_nlink == 1
    assert (outside / "victim").read_bytes() == b"safe"
    assert os.listxattr(outside) == [] and not os.path.lexists(tmp_path / "dest/real/evil")


def test_digest_mismatch_is_refused(tmp_path: Path) -> None:
    archive = docker_archive(tmp_path / "img.tar", [layer(f("a", b"x"))])
    lay = read_archive(str(archive)).layers[0]
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(ImportRefused, match="content has digest .* but the image says sha256:0{64}"):
        unpack_layer(str(archive), ArchiveLayer(digest="sha256:" + "0" * 64, member=lay.member), str(dest))


def test_layer_over_max_bytes_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportRefused, match="over 4096 bytes uncompressed"):
        unpack(tmp_path, f("big", b"x" * 10_000), max_bytes=4096)


def test_zstd_is_refused(tmp_path: Path) -> None:
    zstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    with pytest.raises(ImportRefused, match=r"blobs/sha256/[0-9a-f]{64}: layer is .*\+zstd"):
        read_archive(str(oci_archive(tmp_path / "o.tar", [layer(f("a"))], media_type=zstd)))
    fake = b"\x28\xb5\x2f\xfd" + b"\0" * 100  # a zstd frame's magic in a docker save archive
    archive = docker_archive(tmp_path / "d.tar", [fake])
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(ImportRefused, match=r"/layer.tar: layer is zstd-compressed \(media type .*\+zstd\)"):
        unpack_layer(str(archive), read_archive(str(archive)).layers[0], str(dest))


def test_not_a_tar(tmp_path: Path) -> None:
    path = tmp_path / "img.tar"
    path.write_bytes(b"this is not an archive\n" * 100)
    with pytest.raises(ImportRefused, match="is not a tar archive"):
        read_archive(str(path))


def test_neither_format(tmp_path: Path) -> None:
    path = pack(tmp_path / "img.tar", [("hello.txt", b"hi")])
    with pytest.raises(ImportRefused, match="neither a `docker save` archive .* nor an OCI image layout"):
        read_archive(str(path))


def test_two_images_are_refused(tmp_path: Path) -> None:
    one = [layer(f("a"))]
    exactly_one = "lists {} images, but an archive must hold exactly one"
    with pytest.raises(ImportRefused, match="manifest.json: " + exactly_one.format(2)):
        read_archive(str(docker_archive(tmp_path / "d.tar", one, images=2)))
    with pytest.raises(ImportRefused, match="index.json: " + exactly_one.format(3)):
        read_archive(str(oci_archive(tmp_path / "o.tar", one, images=3)))


def test_missing_blob_is_refused(tmp_path: Path) -> None:
    one = layer(f("a"))
    manifest = [{"Config": "c.json", "Layers": ["gone/layer.tar"]}]
    path = pack(
        tmp_path / "img.tar", [("manifest.json", json.dumps(manifest).encode()), ("c.json", config([one]))]
    )
    with pytest.raises(ImportRefused, match="gone/layer.tar: missing from the archive"):
        read_archive(str(path))


def test_altered_config_is_refused(tmp_path: Path) -> None:
    one = layer(f("a"))
    name = sha(config([one]))[7:] + ".json"  # named by the digest of another document
    manifest = [{"Config": name, "Layers": ["l/layer.tar"]}]
    path = pack(
        tmp_path / "img.tar",
        [("manifest.json", json.dumps(manifest).encode()), (name, config([one, one])), ("l/layer.tar", one)],
    )
    with pytest.raises(ImportRefused, match=f"{name}: content has digest"):
        read_archive(str(path))


def test_dest_must_be_empty(tmp_path: Path) -> None:
    archive = docker_archive(tmp_path / "img.tar", [layer(f("a"))])
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "left-over").write_bytes(b"")
    with pytest.raises(SandboxError, match="is not empty") as e:
        unpack_layer(str(archive), read_archive(str(archive)).layers[0], str(dest))
    assert not isinstance(e.value, ImportRefused)  # the caller's mistake, not the archive's
