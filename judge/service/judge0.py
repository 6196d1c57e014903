"""What the Judge0-compatible API needs of the domain: ids, statuses, comparison, documents.

Judge0 1.13.1 is the reference (the judges survey's section 2, docs/references.md, and its own code:
app/models/submission.rb, app/jobs/isolate_job.rb, app/serializers/, db/languages/active.rb).
Language ids are Judge0's, from one table (LANGUAGES) that maps each id to the language that
runs it here: its own (50 C, 54 C++, 62 Java, 71 Python, ...), the other versions of one
compiler that Judge0 numbers apart (48 and 49 run as 50's GCC, 52 and 53 as 54's G++; the name
says so), and Judge0's two languages that are not languages: Plain Text (43) and Executable
(44), run by a small Bash script with the source as its data file. Issue 22 added a row for
every Judge0 language Debian 12 packages (45 Assembly ... 88 Groovy); UNAVAILABLE names the
five it lacks (FreeBASIC, Python 2, Swift, VB.NET, F#), listed as archived by /languages/all.
Statuses are Judge0's 1 to 14; our verdicts map onto them without
a new one: a memory limit is Judge0's "Runtime Error (Other)" with the message saying so (Judge0
has no memory status), output over the limit is "Runtime Error (SIGXFSZ)", as Judge0's file
size limit gives. Our own verdict stays available as the extra field `judge_verdict`, sent only
when asked for in `fields`.

Output comparison is Judge0's: both sides split into lines, each stripped of trailing white
space, joined, stripped of trailing white space, then compared exactly (case-sensitive). It is
chosen per submission (`options["compare"] == "judge0"`), so our own API keeps Kattis's rule.
Units: times in seconds, sent as strings the way Rails renders a decimal ("0.001", "5.0"),
memory in KB. Text that is empty is null, as Judge0 stores it.

`additional_files` (a base64 zip) join the program's files in its box before compiling, as
Judge0 unzips them there; a file whose name the program's own files already take (its source,
what compiling makes, Plain Text's and Executable's data file) is refused up front (`clash`):
the API answers 422, and a stored submission that has one is CE, never a box failure.
"""

from __future__ import annotations

import base64
import json
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from judge import languages as langs
from judge.errors import JudgeError
from judge.languages.recipe import expand
from judge.problems.archive import CheckedZip
from judge.problems.files import PackageError
from judge.storage.models import Submission, SubmissionState
from judge.verdict import Verdict
from sandbox import MiB

VERSION = "1.13.1"
MAX_EXTRA_BYTES = 10 * MiB  # Judge0's MAX_EXTRACT_SIZE (10240 KB)


@dataclass(frozen=True, slots=True, kw_only=True)
class Judge0Language:
    """One of Judge0's language ids and what runs it here."""

    id: int
    name: str  # as /languages shows it: what runs here, and what Judge0 ran under this id if another
    ours: str  # our language's id (judge/languages)
    compiled: bool = False  # Judge0's has a compile_cmd: compiler_options are taken, compile_cmd shown
    data_file: str | None = None  # Plain Text and Executable: the source is this file in the box ...
    data_mode: int = 0o644
    runner: bytes = b""  # ... and this script (in `ours`, Bash) runs it


_CAT = b"exec /bin/cat text.txt\n"
_EXEC = b'exec ./a.out "$@"\n'  # Judge0: /bin/chmod +x a.out && ./a.out; a.out is put in with mode 755

# Judge0 1.13.1's ids (db/languages/active.rb) for what we run. Ordered by name, as Judge0 lists them.
# `compiled` is Judge0's: whether its entry has a compile_cmd (SBCL, Elixir and Erlang have none
# there, whatever we check here).
LANGUAGES: dict[int, Judge0Language] = {
    lang.id: lang
    for lang in (
        Judge0Language(id=45, name="Assembly (NASM 2.16.01)", ours="nasm", compiled=True),
        Judge0Language(id=46, name="Bash (5.2)", ours="bash"),
        Judge0Language(id=48, name="C (GCC 12.2.0, for Judge0's GCC 7.4.0)", ours="c", compiled=True),
        Judge0Language(id=49, name="C (GCC 12.2.0, for Judge0's GCC 8.3.0)", ours="c", compiled=True),
        Judge0Language(id=50, name="C (GCC 12.2.0)", ours="c", compiled=True),
        Judge0Language(id=51, name="C# (Mono 6.8.0)", ours="csharp", compiled=True),
        Judge0Language(id=52, name="C++ (GCC 12.2.0, for Judge0's GCC 7.4.0)", ours="cpp", compiled=True),
        Judge0Language(id=53, name="C++ (GCC 12.2.0, for Judge0's GCC 8.3.0)", ours="cpp", compiled=True),
        Judge0Language(id=54, name="C++ (GCC 12.2.0)", ours="cpp", compiled=True),
        Judge0Language(id=75, name="C (Clang 14.0.6)", ours="c-clang", compiled=True),
        Judge0Language(id=76, name="C++ (Clang 14.0.6)", ours="cpp-clang", compiled=True),
        Judge0Language(id=86, name="Clojure (1.11.1)", ours="clojure"),
        Judge0Language(id=77, name="COBOL (GnuCOBOL 3.1.2)", ours="cobol", compiled=True),
        Judge0Language(id=55, name="Common Lisp (SBCL 2.2.9)", ours="common-lisp"),
        Judge0Language(id=56, name="D (GDC 12.2.0, for Judge0's DMD 2.089.1)", ours="d", compiled=True),
        Judge0Language(id=57, name="Elixir (1.14.0)", ours="elixir"),
        Judge0Language(id=58, name="Erlang (OTP 25)", ours="erlang"),
        Judge0Language(
            id=44,
            name="Executable (x86-64 Linux, Debian 12 libraries)",
            ours="bash",
            data_file="a.out",
            data_mode=0o755,
            runner=_EXEC,
        ),
        Judge0Language(id=59, name="Fortran (GFortran 12.2.0)", ours="fortran", compiled=True),
        Judge0Language(id=60, name="Go (1.19)", ours="go", compiled=True),
        Judge0Language(id=88, name="Groovy (2.4.21)", ours="groovy", compiled=True),
        Judge0Language(id=61, name="Haskell (GHC 9.0.2)", ours="haskell", compiled=True),
        Judge0Language(id=62, name="Java (OpenJDK 17)", ours="java", compiled=True),
        Judge0Language(id=63, name="JavaScript (Node.js 18)", ours="javascript"),
        Judge0Language(id=78, name="Kotlin (2.4)", ours="kotlin", compiled=True),
        Judge0Language(id=64, name="Lua (5.4)", ours="lua"),
        Judge0Language(
            id=79,
            name="Objective-C (GCC 12.2.0, no GNUstep; for Judge0's Clang 7.0.1)",
            ours="objective-c",
            compiled=True,
        ),
        Judge0Language(id=65, name="OCaml (4.13.1)", ours="ocaml", compiled=True),
        Judge0Language(id=66, name="Octave (7.3.0)", ours="octave"),
        Judge0Language(id=67, name="Pascal (FPC 3.2.2)", ours="pascal", compiled=True),
        Judge0Language(id=85, name="Perl (5.36.0)", ours="perl"),
        Judge0Language(id=68, name="PHP (8.2)", ours="php"),
        Judge0Language(id=43, name="Plain Text", ours="bash", data_file="text.txt", runner=_CAT),
        Judge0Language(id=69, name="Prolog (GNU Prolog 1.4.5)", ours="gprolog", compiled=True),
        Judge0Language(id=71, name="Python (3.11)", ours="python3"),
        Judge0Language(id=80, name="R (4.2.2)", ours="r"),
        Judge0Language(id=72, name="Ruby (3.1)", ours="ruby"),
        Judge0Language(id=73, name="Rust (1.63)", ours="rust", compiled=True),
        Judge0Language(id=81, name="Scala (2.11.12)", ours="scala", compiled=True),
        Judge0Language(id=82, name="SQL (SQLite 3.40.1)", ours="sql"),
        Judge0Language(id=74, name="TypeScript (4.8.4)", ours="typescript", compiled=True),
    )
}
# Judge0 1.13.1's languages whose toolchain Debian 12 does not package: /languages/all lists them as
# archived, saying so, and a submission to one is refused as an archived one is. An operator adds
# one as a recipe on an imported image (README, Languages) and a row in LANGUAGES above.
UNAVAILABLE: dict[int, str] = {
    47: "Basic (FBC 1.07.1): not available here, Debian 12 has no FreeBASIC",
    70: "Python (2.7.17): not available here, Debian 12 has no Python 2",
    83: "Swift (5.2.3): not available here, Debian 12 has no Swift",
    84: "Visual Basic.Net (vbnc 0.0.0.5943): not available here, Debian 12 has no vbnc",
    87: "F# (.NET Core SDK 3.1.202): not available here, Debian 12 has no .NET",
}
ARCHIVED = range(1, 43)  # Judge0 1.13.1's archived languages (db/languages/archived.rb): refused as there
# the id a submission of ours shows when it was not sent with one (Judge0's own for that language)
BY_LANGUAGE = {
    "bash": 46,
    "c": 50,
    "csharp": 51,
    "cpp": 54,
    "go": 60,
    "haskell": 61,
    "java": 62,
    "javascript": 63,
    "kotlin": 78,
    "lua": 64,
    "pascal": 67,
    "php": 68,
    "python3": 71,
    "ruby": 72,
    "rust": 73,
    "nasm": 45,
    "c-clang": 75,
    "cpp-clang": 76,
    "clojure": 86,
    "cobol": 77,
    "common-lisp": 55,
    "d": 56,
    "elixir": 57,
    "erlang": 58,
    "fortran": 59,
    "groovy": 88,
    "objective-c": 79,
    "ocaml": 65,
    "octave": 66,
    "perl": 85,
    "gprolog": 69,
    "r": 80,
    "scala": 81,
    "sql": 82,
    "typescript": 74,
}
COMPILED = frozenset(j for j, lang in LANGUAGES.items() if lang.compiled)


def language_doc(jid: int, *, full: bool) -> dict[str, Any]:
    """/languages' entry ({id, name}), or /languages/{id}'s whole one in Judge0's shape: `compile_cmd`
    with `%s` where compiler_options go and null for a language Judge0 does not compile (clients
    read "has a compile command" as "is compiled"), `source_file` and `run_cmd` as run here."""
    j0 = LANGUAGES[jid]
    doc: dict[str, Any] = {"id": jid, "name": j0.name}
    if not full:
        return doc
    lang = langs.by_id(j0.ours)
    source = j0.data_file or lang.source_name
    compile_cmd = None
    if j0.compiled and lang.compile is not None:
        argv = expand(lang.compile, source_name=source, memory_bytes=256 * MiB, sources=[source])
        at = next((i for i, arg in enumerate(argv) if i > 0 and arg == source), len(argv))
        compile_cmd = " ".join([shlex.join(argv[:at]), "%s", shlex.join(argv[at:])]).strip()
    if j0.data_file is not None:
        run_cmd = _CAT.decode().strip().removeprefix("exec ") if j0.data_file == "text.txt" else "./a.out"
    else:
        run_cmd = shlex.join(expand(lang.run, source_name=source, memory_bytes=256 * MiB))
    return doc | {"is_archived": False, "source_file": source, "compile_cmd": compile_cmd, "run_cmd": run_cmd}


# -- the program's files -------------------------------------------------------------------------


class FilesRefused(JudgeError):
    """`additional_files` cannot join the program's files; the contestant's fault (422, or CE)."""


def unpack_files(encoded: str) -> tuple[tuple[str, bytes, int], ...]:
    """Judge0's `additional_files`: a base64 zip whose files join the program's in its box.
    The web checked it whole (judge/problems/archive.py) before storing it; the same checks run
    again here, through the same CheckedZip, with Judge0's bound on what it unpacks."""
    try:
        data = base64.b64decode(encoded)
    except ValueError as e:
        raise FilesRefused(f"additional_files is not a base64 zip ({e})") from None
    found = []
    try:
        with CheckedZip(data, "additional_files", max_bytes=MAX_EXTRA_BYTES) as zf:
            for info in zf.infos:
                if info.is_dir():
                    continue
                mode = 0o755 if (info.external_attr >> 16) & 0o111 else 0o644
                found.append((info.filename, zf.read(info), mode))
    except PackageError as e:
        raise FilesRefused(str(e)) from None
    return tuple(found)


def own_names(jid: int | None, ours: str, source: bytes) -> set[str]:
    """The names the program's own files take in its box: its source (Java's after its public
    class), what compiling leaves under a fixed name, and Plain Text's or Executable's data file."""
    lang = langs.by_id(ours)
    names = {lang.source_file(source.decode("utf-8", errors="replace"))}
    names |= {pattern for pattern, _ in lang.artifacts if not any(c in pattern for c in "*?[")}
    j0 = LANGUAGES.get(jid) if jid is not None else None
    if j0 is not None and j0.data_file is not None:
        names = {lang.source_name, j0.data_file}
    return names


def clash(names: Iterable[str], taken: Iterable[str]) -> str | None:
    """Why files of these names cannot be put beside the program's own (`taken`), or None: one has
    a name already taken, or is under a name that is a file (`a` and `a/b`)."""
    files, dirs = set(taken), set()
    for name in sorted(names):
        parts = name.split("/")
        for i in range(1, len(parts)):
            prefix = "/".join(parts[:i])
            if prefix in files:
                return f"{name} cannot be made: {prefix} is a file of the program's"
            dirs.add(prefix)
        if name in files or name in dirs:
            return f"{name} has the name of a file the program already has; rename it"
        files.add(name)
    return None


Files = tuple[tuple[str, bytes, int], ...]  # (name in /box, content, mode)


def program(options: dict[str, Any], ours: str, source: bytes) -> tuple[bytes, Files]:
    """(the source to compile, the files to put beside it) for a Judge0 submission: Plain Text's
    and Executable's runner with the source as its data file, and `additional_files`.
    FilesRefused when the additional files cannot join (a name clash): the submission is CE."""
    jid = options.get("language_id")
    j0 = LANGUAGES.get(jid) if isinstance(jid, int) else None
    taken = own_names(jid if isinstance(jid, int) else None, ours, source)
    files: tuple[tuple[str, bytes, int], ...] = ()
    if j0 is not None and j0.data_file is not None:
        files, source = ((j0.data_file, source, j0.data_mode),), j0.runner
    if options.get("additional_files"):
        extra = unpack_files(str(options["additional_files"]))
        why = clash([name for name, _, _ in extra], taken)
        if why is not None:
            raise FilesRefused(f"additional_files: {why}")
        files += extra
    return source, files


# -- statuses and comparison ---------------------------------------------------------------------

STATUSES = {
    1: "In Queue",
    2: "Processing",
    3: "Accepted",
    4: "Wrong Answer",
    5: "Time Limit Exceeded",
    6: "Compilation Error",
    7: "Runtime Error (SIGSEGV)",
    8: "Runtime Error (SIGXFSZ)",
    9: "Runtime Error (SIGFPE)",
    10: "Runtime Error (SIGABRT)",
    11: "Runtime Error (NZEC)",
    12: "Runtime Error (Other)",
    13: "Internal Error",
    14: "Exec Format Error",
}
SIGNAL_STATUS = {11: 7, 25: 8, 8: 9, 6: 10}
VERDICT_STATUS = {
    Verdict.AC: 3,
    Verdict.WA: 4,
    Verdict.TLE: 5,
    Verdict.CE: 6,
    Verdict.OLE: 8,
    Verdict.MLE: 12,
    Verdict.IE: 13,
}


def compare(expected: bytes, actual: bytes) -> bool:
    """Judge0's rule: per-line trailing white space and trailing empty lines do not count."""

    def norm(data: bytes) -> str:
        lines = data.decode("utf-8", errors="replace").split("\n")
        return "\n".join(line.rstrip() for line in lines).rstrip()

    return norm(expected) == norm(actual)


def status_id(sub: Submission) -> int:
    if sub.state is SubmissionState.QUEUED:
        return 1
    if sub.state is not SubmissionState.DONE or sub.verdict is None:
        return 2
    if sub.verdict in VERDICT_STATUS:
        return VERDICT_STATUS[sub.verdict]
    if sub.signal is not None:  # RTE: by the signal, as Judge0 tells them apart
        return SIGNAL_STATUS.get(sub.signal, 12)
    return 11


def options(sub: Submission) -> dict[str, Any]:
    return dict(json.loads(sub.options)) if sub.options else {}


def language_id(sub: Submission) -> int | None:
    """The Judge0 id the submission was sent with (48 stays 48), else its language's own."""
    jid = options(sub).get("language_id")
    return jid if isinstance(jid, int) and jid in LANGUAGES else BY_LANGUAGE.get(sub.language)


# -- documents -----------------------------------------------------------------------------------

DEFAULT_FIELDS = ("token", "time", "memory", "stdout", "stderr", "compile_output", "message", "status")
DECIMAL_OPTIONS = ("cpu_time_limit", "cpu_extra_time", "wall_time_limit")  # Rails renders them "5.0"
BOOLEAN_OPTIONS = (
    "enable_per_process_and_thread_time_limit",
    "enable_per_process_and_thread_memory_limit",
    "redirect_stderr_to_stdout",
    "enable_network",
)  # Judge0's defaults: false
INPUT_OPTIONS = (
    "compiler_options",
    "command_line_arguments",
    "cpu_time_limit",
    "cpu_extra_time",
    "wall_time_limit",
    "memory_limit",
    "stack_limit",
    "max_processes_and_or_threads",
    "enable_per_process_and_thread_time_limit",
    "enable_per_process_and_thread_memory_limit",
    "max_file_size",
    "redirect_stderr_to_stdout",
    "enable_network",
    "number_of_runs",
    "additional_files",
    "callback_url",
)
# what `fields=*` gives: Judge0's serialiser (which its own Python SDK's model mirrors field for field)
STAR_FIELDS = (
    "token",
    "source_code",
    "language_id",
    "stdin",
    "expected_output",
    *INPUT_OPTIONS,
    "stdout",
    "stderr",
    "compile_output",
    "message",
    "exit_code",
    "exit_signal",
    "status",
    "status_id",
    "language",
    "created_at",
    "finished_at",
    "time",
    "wall_time",
    "memory",
)
# every field a client may name in `fields`: also the timestamps, hosts and our own verdict
ALL_FIELDS = (
    "token",
    "source_code",
    "language_id",
    "stdin",
    "expected_output",
    *INPUT_OPTIONS,
    "stdout",
    "stderr",
    "compile_output",
    "message",
    "exit_code",
    "exit_signal",
    "status",
    "status_id",
    "language",
    "created_at",
    "started_at",
    "finished_at",
    "queued_at",
    "updated_at",
    "queue_host",
    "execution_host",
    "time",
    "wall_time",
    "memory",
    "judge_verdict",
)
UTF8_ERROR = (
    "some attributes for this submission cannot be converted to UTF-8, "
    "use base64_encoded=true query parameter"
)


class NotUtf8(ValueError):
    """A text field is not UTF-8, so it can only be sent in base64 (Judge0 answers UTF8_ERROR)."""


def decimal(value: Any) -> str | None:
    """A number as Rails renders a decimal column: "5.0", "0.5", "0.001" (never "1e-05")."""
    if value is None:
        return None
    try:
        text = format(Decimal(str(value)), "f")
    except InvalidOperation:
        return None
    return text if "." in text else f"{text}.0"


def _text(data: bytes | str | None, b64: bool) -> str | None:
    """Judge0 stores empty text as null, and sends the rest as UTF-8 or in base64."""
    if not data:
        return None
    raw = data.encode() if isinstance(data, str) else data
    if b64:
        return base64.b64encode(raw).decode("ascii")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NotUtf8(UTF8_ERROR) from None


def _iso(moment: Any) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def document(sub: Submission, *, b64: bool, fields: tuple[str, ...] = DEFAULT_FIELDS) -> dict[str, Any]:
    """The submission as Judge0 shows it, with only `fields` (Judge0's default set unless asked).

    Only the fields asked for are rendered, as Judge0's serialiser does: NotUtf8 when one of them
    is text that is not UTF-8 and `b64` is false, so `fields=status` answers whatever the output.
    """
    opts = options(sub)
    jid = language_id(sub)

    def option(name: str) -> Callable[[], Any]:
        if name in DECIMAL_OPTIONS:
            return lambda: decimal(opts.get(name))
        if name in BOOLEAN_OPTIONS:
            return lambda: bool(opts.get(name, False))
        return lambda: opts.get(name)  # as sent: the IDE's blank compiler_options stays ""

    def message() -> str | None:
        return _text("Memory limit exceeded" if sub.verdict is Verdict.MLE else sub.message, b64)

    def compile_output() -> str | None:
        """What compiling said; for a language Judge0 does not compile, only why it is CE (our syntax
        check's "Syntax OK" is not Judge0's to show)."""
        j0 = LANGUAGES.get(jid) if jid is not None else None
        if j0 is not None and not j0.compiled and sub.verdict is not Verdict.CE:
            return None
        return _text(sub.compile_output, b64)

    def wall() -> str | None:
        walls = [t.wall_s for t in sub.tests if t.wall_s is not None]
        return decimal(round(max(walls), 3)) if walls and sub.state is SubmissionState.DONE else None

    render: dict[str, Callable[[], Any]] = {
        "token": lambda: sub.token,
        "source_code": lambda: _text(sub.source, b64),
        "language_id": lambda: jid,
        "stdin": lambda: None if opts.get("no_stdin") else (_text(sub.stdin, b64) or ""),
        "expected_output": lambda: _text(sub.expected_output, b64),
        **{k: option(k) for k in INPUT_OPTIONS},
        "stdout": lambda: _text(sub.stdout, b64),
        "stderr": lambda: _text(sub.stderr, b64),
        "compile_output": compile_output,
        "message": message,
        "exit_code": lambda: sub.exit_code,
        "exit_signal": lambda: sub.signal,
        "status": lambda: {"id": status_id(sub), "description": STATUSES[status_id(sub)]},
        "status_id": lambda: status_id(sub),
        "language": lambda: {"id": jid, "name": LANGUAGES[jid].name if jid in LANGUAGES else sub.language},
        "created_at": lambda: _iso(sub.created_at),
        "queued_at": lambda: _iso(sub.created_at),
        "started_at": lambda: _iso(sub.started_at),
        "finished_at": lambda: _iso(sub.finished_at),
        "updated_at": lambda: _iso(sub.finished_at or sub.started_at or sub.created_at),
        "queue_host": lambda: None,
        "execution_host": lambda: None,
        "time": lambda: f"{sub.time_s:.3f}" if sub.time_s is not None else None,
        "wall_time": wall,
        "memory": lambda: (sub.memory_bytes + 1023) // 1024 if sub.memory_bytes is not None else None,
        "judge_verdict": lambda: sub.verdict.value if sub.verdict is not None else None,
    }
    return {k: render[k]() for k in fields}
