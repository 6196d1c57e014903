"""Loading submissions: a file, a directory, a zip; and what each refuses."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from judge import submission
from judge.submission import BadSubmission, load


def _zip(path: Path, entries: dict[str, bytes], *, modes: dict[str, int] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            if modes and name in modes:
                info.external_attr = modes[name] << 16
            z.writestr(info, data)
    return path


def test_a_single_file_is_one_file(tmp_path: Path) -> None:
    src = tmp_path / "sol.py"
    src.write_text("print(1)\n")
    sub = load(src)
    assert sub.files == (("sol.py", b"print(1)\n"),)


def test_a_directory_keeps_its_tree_and_skips_hidden_files(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "main.py").write_text("import pkg.util\n")
    (tmp_path / "pkg" / "util.py").write_text("X = 1\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref\n")
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    assert load(tmp_path).names == ["main.py", "pkg/util.py"]


def test_a_zip_is_read_in_memory_and_its_directories_and_junk_skipped(tmp_path: Path) -> None:
    z = _zip(
        tmp_path / "s.zip",
        {"src/": b"", "src/Main.java": b"class Main {}", "__MACOSX/src/._Main.java": b"junk"},
    )
    assert load(z).files == (("src/Main.java", b"class Main {}"),)


@pytest.mark.parametrize("name", ["../evil.c", "/etc/passwd", "a/../../b.c", "a\\b.c"])
def test_zip_names_that_climb_or_are_absolute_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(BadSubmission, match="plain relative paths"):
        load(_zip(tmp_path / "s.zip", {name: b"x"}))


def test_links_are_refused_in_a_zip_and_in_a_directory(tmp_path: Path) -> None:
    z = _zip(tmp_path / "s.zip", {"link": b"/etc/passwd"}, modes={"link": stat.S_IFLNK | 0o777})
    with pytest.raises(BadSubmission, match="link"):
        load(z)
    d = tmp_path / "d"
    d.mkdir()
    os.symlink("/etc/passwd", d / "passwd")
    with pytest.raises(BadSubmission, match="not a regular file"):
        load(d)


def test_a_zip_bomb_stops_at_the_limit_whatever_its_headers_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(submission, "MAX_BYTES", 1 << 20)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.txt", b"\0" * (4 << 20))
    (tmp_path / "bomb.zip").write_bytes(buf.getvalue())
    assert len(buf.getvalue()) < 64 * 1024
    with pytest.raises(BadSubmission, match="1 MiB in all"):
        load(tmp_path / "bomb.zip")


def test_too_many_files_and_empty_submissions_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(submission, "MAX_FILES", 3)
    for i in range(4):
        (tmp_path / f"f{i}.c").write_text("")
    with pytest.raises(BadSubmission, match="more than 3 files"):
        load(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BadSubmission, match="no files"):
        load(empty)
    with pytest.raises(BadSubmission, match="not a zip"):
        (tmp_path / "x.zip").write_text("not a zip")
        load(tmp_path / "x.zip")
