"""judge/execution.py against a fake sandbox: what goes into which box, and what comes out.

FakeSandbox plays sandbox.Sandbox's part (the SandboxLike protocol): each box it hands out
takes the next scripted step, a RunResult (or an exception to raise) and the files the
"program" leaves behind, and records what it was given. No root, no boxes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from judge import languages
from judge.execution import Execution, layout, run_command, run_source
from judge.submission import BadSubmission, Source
from judge.verdict import Status
from sandbox import HOST, ExecFailed, Image, Limits, MiB, RunResult, RunStatus

USER = Limits(cpu_time_ms=1000, wall_time_ms=3000, memory_bytes=256 * MiB, output_bytes=1 * MiB)


def result(
    status: RunStatus = RunStatus.OK,
    *,
    exit_code: int | None = 0,
    stdout: bytes = b"",
    stderr: bytes = b"",
    message: str = "",
    stdout_truncated: bool = False,
) -> RunResult:
    return RunResult(
        status=status,
        exit_code=exit_code,
        signal=None,
        cpu_time_ms=12.5,
        wall_time_ms=20.0,
        memory_bytes=3 * MiB,
        stdout=stdout,
        stderr=stderr,
        message=message,
        stdout_truncated=stdout_truncated,
    )


@dataclass
class FakeBox:
    outcome: RunResult | Exception
    leaves: Mapping[str, bytes]
    image: Image
    limits: Limits | None
    files: dict[str, tuple[bytes, int]] = field(default_factory=dict)
    argv: list[str] = field(default_factory=list)
    run_limits: Limits | None = None
    stdin: bytes | int | None = None
    env: Mapping[str, str] | None = None

    def put(self, rel: str, data: bytes, mode: int = 0o644) -> None:
        assert rel not in self.files
        self.files[rel] = (data, mode)

    def get(self, rel: str, max_bytes: int = 0) -> bytes:
        return self.files[rel][0]

    def listdir(self, recursive: bool = False) -> list[str]:
        return sorted(self.files)

    def run(
        self,
        argv: Sequence[str],
        limits: Limits,
        *,
        stdin: bytes | int | None = None,
        env: Mapping[str, str] | None = None,
    ) -> RunResult:
        assert not self.argv, "a box runs one program"
        self.argv, self.run_limits, self.stdin, self.env = list(argv), limits, stdin, env
        self.files.update({name: (data, 0o644) for name, data in self.leaves.items()})
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


class FakeSandbox:
    def __init__(self, *steps: tuple[RunResult | Exception, Mapping[str, bytes]]) -> None:
        self.steps = list(steps)
        self.boxes: list[FakeBox] = []

    @contextmanager
    def box(
        self, image: Image = HOST, *, uid: int | None = None, limits: Limits | None = None
    ) -> Iterator[FakeBox]:
        outcome, leaves = self.steps.pop(0)
        box = FakeBox(outcome, leaves, image, limits)
        self.boxes.append(box)
        yield box


def test_c_is_compiled_in_one_box_and_run_in_another() -> None:
    c = languages.by_id("c")
    sb = FakeSandbox((result(stderr=b"warning: x\n"), {"main": b"ELF"}), (result(stdout=b"5\n"), {}))
    r = run_source(sb, c, b"int main(){}", USER, stdin=b"2 3\n", args=["-v"])
    compile_box, run_box = sb.boxes
    assert compile_box.files["main.c"] == (b"int main(){}", 0o644)
    assert compile_box.argv == [arg if arg != "{sources}" else "main.c" for arg in c.compile or ()]
    assert compile_box.limits == compile_box.run_limits == c.compile_limits
    assert compile_box.stdin is None
    assert run_box.files == {"main.c": (b"int main(){}", 0o644), "main": (b"ELF", 0o755)}
    assert run_box.argv == ["./main", "-v"]
    assert run_box.limits == run_box.run_limits == USER
    assert run_box.stdin == b"2 3\n"
    assert (r.status, r.stdout, r.compile_output, r.language) == (Status.OK, b"5\n", "warning: x\n", "c")


def test_a_failed_compile_is_ce_and_nothing_runs() -> None:
    sb = FakeSandbox(
        (
            result(
                RunStatus.RTE, exit_code=1, stderr=b"main.cpp:1: error: x\n", message="exited with code 1"
            ),
            {},
        )
    )
    r = run_source(sb, languages.by_id("cpp"), b"int main( {", USER)
    assert len(sb.boxes) == 1
    assert r.status is Status.CE
    assert r.compile_output == "main.cpp:1: error: x\n"
    assert r.message == "compiling failed: exited with code 1"
    assert (r.exit_code, r.cpu_time_ms, r.memory_bytes, r.stdout) == (None, 0.0, 0, b"")


def test_a_compiler_that_hits_its_limits_is_ce_with_the_reason() -> None:
    sb = FakeSandbox(
        (
            result(
                RunStatus.OLE,
                exit_code=None,
                stderr=b"error " * 10,
                stdout_truncated=True,
                message="output over the limit of 262144 bytes",
            ),
            {},
        )
    )
    r = run_source(sb, languages.by_id("cpp"), b"bomb", USER)
    assert r.status is Status.CE and "output over the limit" in r.message
    assert r.compile_output is not None and "[compiler output cut at 262144 bytes]" in r.compile_output


def test_java_runs_its_public_class_with_every_class_file_and_the_allowance() -> None:
    java = languages.by_id("java")
    source = b"public class Hello { class Inner {} public static void main(String[] a) {} }"
    sb = FakeSandbox((result(), {"Hello.class": b"CAFE", "Hello$Inner.class": b"BABE"}), (result(), {}))
    run_source(sb, java, source, USER)
    compile_box, run_box = sb.boxes
    assert compile_box.argv[-1] == "Hello.java"
    assert set(run_box.files) == {"Hello.java", "Hello.class", "Hello$Inner.class"}
    assert run_box.argv[-2:] == ["-Xmx256m", "Hello"]
    assert run_box.limits is not None and run_box.limits.memory_bytes == USER.memory_bytes + 64 * MiB
    assert run_box.limits.cpu_time_ms == USER.cpu_time_ms + java.extra_time_ms


def test_a_compile_that_leaves_no_artifact_is_ce() -> None:
    sb = FakeSandbox((result(), {}))
    r = run_source(sb, languages.by_id("c"), b"int main(void) { return 0; }", USER)
    assert r.status is Status.CE and "matching main" in r.message and len(sb.boxes) == 1


def test_java_without_a_main_method_is_ce_before_any_box() -> None:
    sb = FakeSandbox()
    r = run_source(sb, languages.by_id("java"), b"// no class", USER)
    assert r.status is Status.CE and "declares a main method" in r.message and not sb.boxes


def test_python_only_checks_and_runs_the_source() -> None:
    sb = FakeSandbox((result(), {"__pycache__": b""}), (result(RunStatus.RTE, exit_code=3), {}))
    r = run_source(sb, languages.by_id("python3"), b"exit(3)", USER)
    assert sb.boxes[1].files == {"main.py": (b"exit(3)", 0o644)}
    assert (r.status, r.exit_code) == (Status.RTE, 3)


def test_a_missing_compiler_is_our_failure_not_a_status() -> None:
    sb = FakeSandbox((ExecFailed("cannot run /usr/bin/gcc in the box"), {}))
    with pytest.raises(ExecFailed):
        run_source(sb, languages.by_id("c"), b"", USER)


def test_exec_runs_the_command_as_it_is() -> None:
    sb = FakeSandbox((result(stdout=b"hi\n"), {}))
    r = run_command(sb, ["echo", "hi"], USER, image=HOST, stdin=7)
    assert (sb.boxes[0].argv, sb.boxes[0].stdin, sb.boxes[0].image) == (["echo", "hi"], 7, HOST)
    doc = r.to_json()
    assert "compile_output" not in doc and doc["stdout"] == "hi\n"


def test_json_uses_seconds_bytes_and_text() -> None:
    e = Execution(
        status=Status.TLE,
        exit_code=None,
        signal=9,
        cpu_time_ms=1001.5,
        wall_time_ms=1500.0,
        memory_bytes=4096,
        stdout=b"\xff ok",
        stderr=b"",
        stdout_truncated=True,
        message="CPU time limit of 1 s exceeded",
        compile_output="",
    )
    assert e.to_json() == {
        "status": "TLE",
        "exit_code": None,
        "signal": 9,
        "cpu_time": 1.0015,
        "wall_time": 1.5,
        "memory": 4096,
        "stdout": "\ufffd ok",
        "stderr": "",
        "stdout_truncated": True,
        "stderr_truncated": False,
        "compile_output": "",
        "message": "CPU time limit of 1 s exceeded",
    }


def test_several_files_keep_their_names_and_the_compiler_gets_them_all() -> None:
    cpp = languages.by_id("cpp")
    sub = Source(
        (
            ("lib.cpp", b"int f() { return 1; }"),
            ("lib.h", b"int f();"),
            ("solve.cpp", b'#include "lib.h"\nint main() { return f(); }'),
        ),
        "dir",
    )
    sb = FakeSandbox((result(), {"main": b"ELF"}), (result(), {}))
    run_source(sb, cpp, sub, USER)
    compile_box, run_box = sb.boxes
    assert {"lib.cpp", "lib.h", "solve.cpp"} <= set(compile_box.files)
    i = compile_box.argv.index("main") + 1
    assert compile_box.argv[i : i + 2] == ["solve.cpp", "lib.cpp"], "the entry point first, then the rest"
    assert run_box.argv == ["./main"]


def test_java_runs_the_class_that_has_main_whatever_the_file_is_called() -> None:
    java = languages.by_id("java")
    sub = Source(
        (
            ("Helper.java", b"class Helper { static int one() { return 1; } }"),
            ("Solution.java", b"class Solution { public static void main(String[] a) {} }"),
        ),
        "zip",
    )
    sb = FakeSandbox((result(), {"Helper.class": b"x", "Solution.class": b"y"}), (result(), {}))
    run_source(sb, java, sub, USER)
    compile_box, run_box = sb.boxes
    assert compile_box.argv[-2:] == ["Solution.java", "Helper.java"]
    assert run_box.argv[-1] == "Solution"
    single = FakeSandbox((result(), {"Main.class": b"x", "Solver.class": b"y"}), (result(), {}))
    run_source(single, java, b"class Solver { public static void main(String[] a) {} }", USER)
    assert single.boxes[0].argv[-1] == "Main.java" and single.boxes[1].argv[-1] == "Solver"


@pytest.mark.parametrize(
    ("files", "main", "entry"),
    [
        ({"a.py": "import b", "b.py": "X = 1"}, "a.py", "a.py"),
        ({"main.py": "import util", "util.py": "X = 1"}, None, "main.py"),
        ({"run.py": "if __name__ == '__main__':\n    pass", "util.py": "X = 1"}, None, "run.py"),
        ({"solution.py": "print(1)", "notes.txt": "hi"}, None, "solution.py"),
    ],
)
def test_the_entry_point_rule(files: dict[str, str], main: str | None, entry: str) -> None:
    sub = Source(tuple((k, v.encode()) for k, v in files.items()), "dir")
    _, found, _, _ = layout(languages.by_id("python3"), sub, main)
    assert found == entry


def test_an_entry_point_that_cannot_be_told_is_refused_naming_the_candidates() -> None:
    sub = Source((("a.py", b"print(1)"), ("b.py", b"print(2)")), "dir")
    with pytest.raises(BadSubmission, match="cannot tell which of a.py, b.py.*--main"):
        layout(languages.by_id("python3"), sub)
    with pytest.raises(BadSubmission, match="no such file"):
        layout(languages.by_id("python3"), sub, "c.py")
    with pytest.raises(BadSubmission, match=r"no C\+\+ \(G\+\+\) file"):
        layout(languages.by_id("cpp"), sub)
