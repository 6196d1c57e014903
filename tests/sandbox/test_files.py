"""Files into and out of a box when the program plants traps (sandbox/README.md's attack list, item 7).

The keeper runs as root and reads outputs after the run. A symlink, fifo, device or directory
where it expects a regular file must raise FileRefused: never follow it to a host file, never
block on it. Each trap is planted by a real program in a real box, then read back with get().
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

import sandbox
from sandbox import FileRefused, Limits, RunStatus

pytestmark = pytest.mark.sandbox

PLANT = "/usr/bin/python3", "-S", "-c"


def within(seconds: float, call: Callable[[], object]) -> object:
    """Run call in a thread; fail if it has not finished in time (a fifo would block forever)."""
    outcome: list[object] = []

    def target() -> None:
        try:
            outcome.append(call())
        except BaseException as e:  # handed back to the test
            outcome.append(e)

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"the keeper blocked for over {seconds} s"
    return outcome[0]


def plant_and_get(sb: sandbox.Sandbox, code: str, name: str) -> object:
    with sb.box() as box:
        result = box.run([*PLANT, code], Limits())
        assert result.status == RunStatus.OK, result.stderr.decode()
        return within(5, lambda: box.get(name))


@pytest.mark.parametrize(
    "target",
    ["/etc/shadow", "/etc/passwd", "/proc/1/environ", "../../etc/hostname", "/proc/self/root/etc/hostname"],
)
def test_a_planted_symlink_is_refused(sb, target: str) -> None:
    got = plant_and_get(sb, f'import os; os.symlink("{target}", "/box/output.txt")', "output.txt")
    assert isinstance(got, FileRefused), f"get() followed a symlink to {target}: {got!r}"


def test_a_symlink_to_a_host_file_by_its_host_path_is_refused(sb, tmp_path: Path) -> None:
    """The target means nothing in the box, but the keeper would resolve it on the host."""
    secret = tmp_path / "secret"
    secret.write_text("host secret")
    got = plant_and_get(sb, f'import os; os.symlink("{secret}", "/box/output.txt")', "output.txt")
    assert isinstance(got, FileRefused)


def test_a_symlinked_directory_is_refused(sb, tmp_path: Path) -> None:
    (tmp_path / "out.txt").write_text("host secret")
    got = plant_and_get(sb, f'import os; os.symlink("{tmp_path}", "/box/d")', "d/out.txt")
    assert isinstance(got, FileRefused)


def test_a_planted_fifo_is_refused_without_blocking(sb) -> None:
    got = plant_and_get(sb, 'import os; os.mkfifo("/box/output.txt")', "output.txt")
    assert isinstance(got, FileRefused)


def test_a_device_cannot_be_planted(sb) -> None:
    """mknod needs a capability the box lacks, so a device in /box can only be a symlink to one."""
    with sb.box() as box:
        result = box.run(
            [
                *PLANT,
                """
import os
try:
    os.mknod("/box/zero", 0o666 | 0o020000, os.makedev(1, 5)); print("mknod ok")
except OSError as e:
    print("mknod", e.errno)
os.symlink("/dev/zero", "/box/output.txt")
""",
            ],
            Limits(),
        )
        assert result.stdout == b"mknod 1\n"  # EPERM
        assert isinstance(within(5, lambda: box.get("output.txt")), FileRefused)
        assert "zero" not in box.listdir()


def test_a_directory_is_refused(sb) -> None:
    got = plant_and_get(sb, 'import os; os.mkdir("/box/output.txt")', "output.txt")
    assert isinstance(got, FileRefused)


def test_a_hardlink_to_a_file_outside_the_box_cannot_be_made(run) -> None:
    result = run.py("""
import os
for src in ("/etc/passwd", "/usr/bin/python3", "/tmp/x"):
    if src == "/tmp/x":
        open(src, "w").close()
    try:
        os.link(src, "/box/out"); print(src, "linked")
    except OSError as e:
        print(src, e.errno)
""")
    # (a run that ends TLE loses what print() buffered: the status first, so that says why)
    assert result.status == RunStatus.OK, (result.message, result.stderr[-300:])
    assert result.stdout == b"/etc/passwd 18\n/usr/bin/python3 18\n/tmp/x 18\n"  # EXDEV


def test_an_oversized_output_is_refused(sb) -> None:
    with sb.box() as box:
        box.run([*PLANT, 'open("/box/out", "wb").write(b"x" * 100000)'], Limits())
        with pytest.raises(FileRefused):
            box.get("out", max_bytes=1000)
        assert box.get("out") == b"x" * 100000


@pytest.mark.parametrize("name", ["../etc/passwd", "/etc/passwd", "a/../../x", "", "."])
def test_paths_that_leave_the_box_are_refused(sb, name: str) -> None:
    with sb.box() as box, pytest.raises(FileRefused):
        box.get(name)


def test_put_through_a_planted_symlink_is_refused(sb, tmp_path: Path) -> None:
    """After a run the box's /box is the program's: a second put() must not follow its links."""
    with sb.box() as box:
        box.run(
            [
                *PLANT,
                f"""
import os
os.symlink("{tmp_path}", "/box/d")
os.symlink("{tmp_path}/new", "/box/input.txt")
""",
            ],
            Limits(),
        )
        with pytest.raises(FileRefused):
            box.put("d/new", b"written through a link")
        with pytest.raises(FileRefused):
            box.put("input.txt", b"written through a link")
    assert list(tmp_path.iterdir()) == [], "put() wrote a host file through a planted symlink"


def test_nosymfollow_stops_the_program_following_its_own_links(run) -> None:
    """/box and /tmp are mounted nosymfollow, so a link planted there leads nowhere even inside."""
    result = run.py("""
import os
os.symlink("/etc/hostname", "/tmp/l")
try:
    open("/tmp/l").read(); print("followed")
except OSError as e:
    print(e.errno)
""")
    assert result.stdout == b"40\n"  # ELOOP


def test_files_put_in_are_seen_with_their_modes_and_outputs_come_back(sb) -> None:
    with sb.box() as box:
        box.put("in.txt", b"21\n")
        box.put("sub/run.sh", b'#!/bin/sh\nexec /usr/bin/python3 -S -c "$@"\n', 0o755)
        result = box.run(
            [
                "/box/sub/run.sh",
                "import os; n = int(open('in.txt').read()); open('out.txt', 'w').write(str(2 * n));"
                "print(oct(os.stat('in.txt').st_mode & 0o777), os.access('in.txt', os.W_OK))",
            ],
            Limits(),
        )
        assert result.status == RunStatus.OK, result.stderr.decode()
        assert result.stdout == b"0o644 False\n"  # the keeper's files are the keeper's: read-only
        assert box.get("out.txt") == b"42"
        assert set(box.listdir()) == {"in.txt", "sub", "out.txt"}


def test_a_file_the_program_made_unreadable_is_still_collected(sb) -> None:
    with sb.box() as box:
        box.run([*PLANT, 'import os; open("/box/out", "w").write("data"); os.chmod("/box/out", 0)'], Limits())
        assert box.get("out") == b"data"


DEEP = """
import os
os.chdir("/box")
for i in range({depth}):
    os.mkdir("d")
    os.chdir("d")
open("Deep.class", "w").close()
"""


def test_a_tree_1100_directories_deep_is_refused_not_a_keeper_crash(sb) -> None:
    """The walk that collects compiled files is a bounded loop: no RecursionError, a clear refusal."""
    with sb.box() as box:
        result = box.run([*PLANT, DEEP.format(depth=1100)], Limits())
        assert result.status == RunStatus.OK, result.stderr.decode()
        got = within(10, lambda: box.listdir(recursive=True))
    assert isinstance(got, FileRefused), f"the walk did not refuse the tree: {got!r}"
    assert f"nested more than {sandbox.files.MAX_DEPTH} deep" in str(got)


def test_a_tree_as_deep_as_allowed_is_walked_whole(sb) -> None:
    with sb.box() as box:
        result = box.run([*PLANT, DEEP.format(depth=sandbox.files.MAX_DEPTH)], Limits())
        assert result.status == RunStatus.OK, result.stderr.decode()
        names = box.listdir(recursive=True)
    assert names == ["d/" * sandbox.files.MAX_DEPTH + "Deep.class"]


def test_a_java_package_1100_directories_deep_is_ce_not_ie(sb) -> None:
    """The issue's reproduction through `judge run`'s path: javac makes the tree, the keeper walks it."""
    from judge import execution, languages
    from judge.verdict import Status

    package = ".".join(["a"] * 1100)
    source = f"package {package};\npublic class Main {{ public static void main(String[] a) {{ }} }}\n"
    result = execution.run_source(sb, languages.by_id("java"), source.encode(), Limits())
    assert result.status == Status.CE, result.message
    assert f"nested more than {sandbox.files.MAX_DEPTH} deep" in result.message
