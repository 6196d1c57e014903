"""An image layer unpacked from an npm tarball (Kotlin's): integrity first, then a safe unpack.

The registry here is a folder served by file:// URLs (JUDGE_NPM_REGISTRY), laid out as the
npm registry's tarball addresses are (`NAME/-/NAME-VERSION.tgz`), so nothing is fetched.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from judge import images
from sandbox.build import BuildFailed, Npm, build_layer
from sandbox.store import ImageStore

BASE_DIGEST = "sha256:" + "b" * 64


def tarball(
    registry: Path,
    name: str,
    version: str,
    members: dict[str, tuple[bytes, int]],
    links: dict[str, str] | None = None,
) -> str:
    """Write NAME-VERSION.tgz into the registry folder; return its npm integrity string."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path, (data, mode) in members.items():
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
        for path, target in (links or {}).items():
            info = tarfile.TarInfo(path)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    where = registry / name / "-"
    where.mkdir(parents=True, exist_ok=True)
    (where / f"{name}-{version}.tgz").write_bytes(buf.getvalue())
    return "sha512-" + base64.b64encode(hashlib.sha512(buf.getvalue()).digest()).decode()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ImageStore:
    monkeypatch.setenv("JUDGE_NPM_REGISTRY", (tmp_path / "registry").as_uri())
    return ImageStore(str(tmp_path / "store"))


def build(st: ImageStore, step: Npm) -> str:
    with st.locked():
        return build_layer(st, step, [BASE_DIGEST], lambda line: None)


def test_the_package_folder_lands_where_into_says_readable_by_all(tmp_path: Path, store: ImageStore) -> None:
    integrity = tarball(
        tmp_path / "registry",
        "kc",
        "2.4.20",
        {
            "package/bin/kotlinc": (b"#!/bin/sh\necho hi\n", 0o755),
            "package/lib/x.jar": (b"jar", 0o600),
        },
    )
    digest = build(store, Npm("kc@2.4.20", integrity, "/opt/kotlinc"))
    root = Path(store.layer_path(digest))
    assert (root / "opt/kotlinc/bin/kotlinc").read_bytes().startswith(b"#!/bin/sh")
    assert os.stat(root / "opt/kotlinc/bin/kotlinc").st_mode & 0o111
    assert stat.S_IMODE(os.stat(root / "opt/kotlinc/lib").st_mode) == 0o755
    assert not (root / ".npm-unpack").exists()


def test_a_tarball_not_matching_its_integrity_is_not_unpacked(tmp_path: Path, store: ImageStore) -> None:
    tarball(tmp_path / "registry", "kc", "2.4.20", {"package/bin/kotlinc": (b"evil", 0o755)})
    wrong = "sha512-" + base64.b64encode(hashlib.sha512(b"the real one").digest()).decode()
    step = Npm("kc@2.4.20", wrong, "/opt/kotlinc")
    with pytest.raises(BuildFailed, match="does not match the integrity"):
        build(store, step)
    assert os.listdir(store.layers_dir) == []


def test_a_link_out_of_the_layer_is_refused(tmp_path: Path, store: ImageStore) -> None:
    integrity = tarball(
        tmp_path / "registry",
        "kc",
        "1.0.0",
        {"package/a": (b"a", 0o644)},
        links={"package/etc": "../../../../etc"},
    )
    with pytest.raises(BuildFailed, match="nothing was unpacked"):  # with or without tarfile's filters
        build(store, Npm("kc@1.0.0", integrity, "/opt/kc"))
    assert os.listdir(store.layers_dir) == []


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ('npm = "kotlin-compiler"\nintegrity = "sha512-x"\ninto = "/opt/k"', "exact version"),
        ('npm = "kotlin-compiler@2.4.20"\nintegrity = "sha1-x"\ninto = "/opt/k"', "sha512"),
        ('npm = "kotlin-compiler@2.4.20"\nintegrity = "sha512-x"\ninto = "opt/k"', "plain absolute path"),
        (
            'npm = "kotlin-compiler@2.4.20"\nintegrity = "sha512-x"\ninto = "/opt/../etc"',
            "plain absolute path",
        ),
        ('npm = "k@1.0.0"\nintegrity = "sha512-x"\ninto = "/opt/k"\npackages = ["x"]', "not both"),
    ],
)
def test_a_bad_npm_definition_is_refused(tmp_path: Path, fields: str, complaint: str) -> None:
    path = tmp_path / "images.toml"
    path.write_text(f'[base]\ndebootstrap = "bookworm"\n[k]\nfrom = "base"\n{fields}\n')
    with pytest.raises(images.ImageDefinitionError, match=complaint):
        images.definitions(path)


def test_the_kotlin_image_is_jetbrains_compiler_over_java() -> None:
    step = images.definitions()["kotlin"].step
    assert isinstance(step, Npm) and step.package.startswith("kotlin-compiler@2.")
    assert step.into == "/opt/kotlinc" and images.definitions()["kotlin"].parent == "java"
