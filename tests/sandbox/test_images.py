"""Images in real boxes: one built from debootstrap and apt, one imported from a `docker save` archive.

Both go into a store of their own under tmp_path (JUDGE_IMAGE_DIR), through the `judge`
command as a user would run it. The build is the slow one (debootstrap downloads and unpacks
a Debian minbase, about half a minute here) and is marked `slow`; CI runs it.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from judge import cli

pytestmark = pytest.mark.sandbox

DEFINITIONS = """\
[tiny]
debootstrap = "bookworm"

[hello]
from = "tiny"
packages = ["hello"]

[broken]
from = "tiny"
packages = ["no-such-package-for-the-judge"]
"""


def judge(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "images"
    monkeypatch.setenv("JUDGE_IMAGE_DIR", str(path))
    return path


@pytest.mark.slow
def test_a_built_image_runs_its_package_and_rebuilding_it_does_nothing(store: Path, tmp_path: Path) -> None:
    defs = tmp_path / "images.toml"
    defs.write_text(DEFINITIONS)
    first = judge("images", "build", "hello", "--file", str(defs))
    assert first.exit_code == 0, first.output
    assert "built tiny, hello" in first.output

    ran = judge("exec", "--image", "hello", "--json", "--", "hello")
    assert ran.exit_code == 0, ran.output
    doc = json.loads(ran.stdout)
    assert (doc["status"], doc["stdout"]) == ("OK", "Hello, world!\n")
    os_release = json.loads(judge("exec", "--image", "tiny", "--json", "--", "cat", "/etc/os-release").stdout)
    assert "VERSION_CODENAME=bookworm" in os_release["stdout"]
    missing = json.loads(
        judge("exec", "--image", "tiny", "--json", "--", "sh", "-c", "command -v hello || echo absent").stdout
    )
    assert missing["stdout"] == "absent\n", "the package is in its own layer, not in the base"

    again = judge("images", "build", "hello", "--file", str(defs))
    assert again.exit_code == 0 and "hello: up to date" in again.output

    listing = {row["name"]: row for row in json.loads(judge("images", "ls", "--json").stdout)}
    assert listing["hello"]["layers"][0] == listing["tiny"]["layers"][0], "the base layer is shared"
    assert listing["hello"]["state"] == "ready"

    broken = judge("images", "build", "broken", "--file", str(defs))
    assert broken.exit_code == 1
    assert "apt-get failed" in broken.output and "no-such-package-for-the-judge" in broken.output
    rows = json.loads(judge("images", "ls", "--json", "--file", str(defs)).stdout)
    assert {row["name"]: row["state"] for row in rows}["broken"] == "not built"
    assert list((store / "tmp").iterdir()) == [], "a failed build leaves nothing behind"

    assert judge("images", "rm", "hello").exit_code == 0
    pruned = judge("images", "prune")
    assert pruned.exit_code == 0 and "removed 1 layers" in pruned.output
    assert judge("exec", "--image", "tiny", "--", "true").exit_code == 0


def _tar(entries: Sequence[tuple[str, bytes | None, int]]) -> bytes:
    """A layer tar: (name, content or None for a directory, mode)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data, mode in entries:
            info = tarfile.TarInfo(name)
            info.mode = mode
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def docker_save(path: Path, layers: Sequence[bytes], *, tag: str) -> None:
    """An archive laid out as `docker save` writes it: manifest.json, a config, one tar per layer."""
    diff_ids = ["sha256:" + hashlib.sha256(layer).hexdigest() for layer in layers]
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": ["PATH=/bin"], "Cmd": ["/bin/probe"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }
    ).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = [
        {"Config": config_name, "RepoTags": [tag], "Layers": [f"{d[7:]}/layer.tar" for d in diff_ids]}
    ]
    with tarfile.open(path, "w") as out:

        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))

        add(config_name, config)
        for d, layer in zip(diff_ids, layers, strict=True):
            add(f"{d[7:]}/layer.tar", layer)
        add("manifest.json", json.dumps(manifest).encode())


PROBE = r"""
int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        char buf[64] = "";
        int fd = open(argv[i], O_RDONLY);
        if (fd >= 0) { buf[read(fd, buf, sizeof buf - 1)] = 0; close(fd); }
        printf("%s=%s\n", argv[i], fd >= 0 ? buf : "absent");
    }
    return 0;
}
"""


def test_an_imported_image_honours_whiteouts_and_opaque_directories(
    store: Path, tmp_path: Path, cc: Callable[..., bytes]
) -> None:
    probe = cc(PROBE, flags=["-static"])
    lower = _tar(
        [
            ("bin", None, 0o755),
            ("bin/probe", probe, 0o755),
            ("etc", None, 0o755),
            ("etc/kept", b"kept", 0o644),
            ("etc/gone", b"gone", 0o644),
            ("data", None, 0o755),
            ("data/old", b"old", 0o644),
        ]
    )
    upper = _tar(
        [
            ("etc/.wh.gone", b"", 0o644),
            ("data", None, 0o755),
            ("data/.wh..wh..opq", b"", 0o644),
            ("data/new", b"new", 0o644),
        ]
    )
    archive = tmp_path / "probe.tar"
    docker_save(archive, [lower, upper], tag="probe:latest")

    imported = judge("images", "import", str(archive), "--name", "probe")
    assert imported.exit_code == 0, imported.output
    ran = judge(
        "exec",
        "--image",
        "probe",
        "--json",
        "--",
        "/bin/probe",
        "/etc/kept",
        "/etc/gone",
        "/data/old",
        "/data/new",
    )
    assert ran.exit_code == 0, ran.output
    doc = json.loads(ran.stdout)
    assert doc["status"] == "OK", doc
    assert doc["stdout"].splitlines() == [
        "/etc/kept=kept",
        "/etc/gone=absent",
        "/data/old=absent",
        "/data/new=new",
    ]

    again = judge("images", "import", str(archive), "--name", "probe2")
    assert again.exit_code == 0 and again.output.count("already in the store") == 2
    listing = {row["name"]: row for row in json.loads(judge("images", "ls", "--json").stdout)}
    assert listing["probe"]["layers"] == listing["probe2"]["layers"]
    assert listing["probe"]["source"] == "import"


def test_a_hostile_archive_is_refused_and_leaves_no_image(store: Path, tmp_path: Path) -> None:
    evil = _tar([("../../escaped", b"x", 0o644)])
    archive = tmp_path / "evil.tar"
    docker_save(archive, [evil], tag="evil:latest")
    result = judge("images", "import", str(archive), "--name", "evil")
    assert result.exit_code == 1
    assert "escaped" in result.output
    assert not (tmp_path.parent / "escaped").exists()
    assert "evil" not in [row["name"] for row in json.loads(judge("images", "ls", "--json").stdout)]
