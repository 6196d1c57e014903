"""Which C library boxinit is built against (sandbox/helper.py): musl when musl-gcc can, else glibc.

Each test builds into a helper directory of its own, so the machine's built helpers are left
alone. A static glibc binary holds the names of its tunables ("glibc.rtld.nns"); musl's does not.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from sandbox import helper


@pytest.fixture
def helper_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SANDBOX_HELPER_DIR", str(tmp_path))
    monkeypatch.setattr(helper, "_built", None)
    return tmp_path


def built_with_glibc(path: Path) -> bool:
    return b"glibc.rtld." in path.read_bytes()  # the names of its tunables


def test_boxinit_is_built_against_musl_when_musl_gcc_is_there(helper_dir: Path) -> None:
    if shutil.which("musl-gcc") is None and os.environ.get("CI") != "true":
        pytest.skip("musl-gcc is not installed here (apt-get install musl-tools; .ci/setup does)")
    path = helper.helper_path()
    assert path.parent == helper_dir
    assert path.name.endswith("-musl")
    assert not built_with_glibc(path)
    assert [p.name for p in helper_dir.iterdir()] == [path.name]  # no temporary file left behind


def test_without_musl_gcc_boxinit_is_built_against_glibc(
    helper_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    which = shutil.which
    monkeypatch.setattr(helper.shutil, "which", lambda name: None if name == "musl-gcc" else which(name))
    path = helper.helper_path()
    assert not path.name.endswith("-musl")
    assert built_with_glibc(path)


def test_without_kernel_headers_for_musl_boxinit_falls_back_to_glibc(
    helper_dir: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """musl brings no <linux/seccomp.h>: without the system's, the build is glibc's, not a failure."""
    if shutil.which("musl-gcc") is None and os.environ.get("CI") != "true":
        pytest.skip("musl-gcc is not installed here")
    empty = tmp_path_factory.mktemp("no-headers")
    monkeypatch.setattr(helper, "KERNEL_HEADERS", empty)
    path = helper.helper_path()
    assert not path.name.endswith("-musl")
    assert built_with_glibc(path)
