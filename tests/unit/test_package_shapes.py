"""How the loader reads submissions the way the reference judges do: links, extensions, reasons.

No boxes: tests/e2e/test_reference_shapes.py judges the same shapes for real.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from judge.problems import package
from judge.problems.files import PackageError
from judge.problems.programs import no_language_reason
from judge.submission import BadSubmission, load


def make(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


BASE = {"problem.yaml": "name: X\n", "data/sample/1.in": "1\n", "data/sample/1.ans": "1\n"}


def test_a_link_inside_the_package_is_its_target_under_the_links_name(tmp_path: Path) -> None:
    root = make(tmp_path / "p", {**BASE, "submissions/accepted/a.py3": "print(1)\n"})
    os.symlink("../accepted/a.py3", root / "submissions/accepted/b.py")
    (root / "submissions/wrong_answer").mkdir()
    os.symlink("../accepted/a.py3", root / "submissions/wrong_answer/c.cpp")  # the name decides
    with package.opened(root) as problem:
        subs = {s.rel: s for s in problem.submissions}
    assert subs["submissions/accepted/a.py3"].language == "python3"
    linked = subs["submissions/accepted/b.py"]
    assert linked.path == (root / "submissions/accepted/a.py3").resolve() and linked.language == "python3"
    assert subs["submissions/wrong_answer/c.cpp"].language == "cpp"


def test_a_link_leaving_the_package_refuses_it(tmp_path: Path) -> None:
    root = make(tmp_path / "p", {**BASE, "submissions/accepted/a.py": "print(1)\n"})
    (tmp_path / "secret.py").write_text("print(2)\n")
    os.symlink("../../../secret.py", root / "submissions/accepted/b.py")
    with pytest.raises(PackageError, match="b.py.*leaves the package"):
        with package.opened(root):
            pass


def test_loading_follows_links_only_within_the_folder_given(tmp_path: Path) -> None:
    root = make(tmp_path / "p", {"sub/main.py": "print(1)\n", "lib/util.py": "X = 1\n"})
    os.symlink("../lib/util.py", root / "sub/util.py")
    with pytest.raises(BadSubmission, match="is not a regular file"):
        load(root / "sub")  # an upload: links are refused
    assert load(root / "sub", within=root).names == ["main.py", "util.py"]
    with pytest.raises(BadSubmission, match="leaves"):
        load(root / "sub", within=root / "sub")
    os.symlink("..", root / "sub/loop")
    with pytest.raises(BadSubmission, match="folders deep"):
        load(root / "sub", within=root)


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("a.swift", "print(1)", "a.swift: Swift (by its extension)"),
        ("a.py2", "print 1", "Python 2 (by its .py2 extension)"),
        ("a.py", "#!/usr/bin/env python2\nprint 1\n", "Python 2 (by its #! line)"),
        ("a.xyz", "?", "extension '.xyz', which no language here (or in problemtools' and DOMjudge's"),
    ],
)
def test_a_file_without_a_language_here_says_what_it_is(
    tmp_path: Path, name: str, text: str, says: str
) -> None:
    (tmp_path / name).write_text(text)
    assert says in no_language_reason(tmp_path / name)


def test_unjudged_submissions_carry_their_reason_and_a_fifo_does_not_block(tmp_path: Path) -> None:
    root = make(
        tmp_path / "p",
        {**BASE, "submissions/accepted/a.swift": "print(1)\n", "submissions/accepted/fs/main.fs": "x\n"},
    )
    os.mkfifo(root / "submissions/accepted/pipe.py")
    with package.opened(root) as problem:
        subs = {s.rel: s for s in problem.submissions}
    assert subs["submissions/accepted/a.swift"].language is None
    assert "Swift" in subs["submissions/accepted/a.swift"].not_judged
    assert "F# (main.fs)" in subs["submissions/accepted/fs/"].not_judged
    assert subs["submissions/accepted/pipe.py"].language == "python3"  # by name; reading it fails later
