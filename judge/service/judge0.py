"""What the Judge0-compatible API needs of the domain: ids, statuses, comparison, documents.

Judge0 1.13.1 is the reference (../shared/reference/judges.md section 2, from its code, not its
docs). Language ids are Judge0's own for the languages we have, so clients that hardcode them
(50 C, 54 C++, 62 Java, 63 JavaScript, 71 Python, ...) keep working. Statuses are Judge0's 1 to
14; our verdicts map onto them without a new one: a memory limit is Judge0's "Runtime Error
(Other)" with the message saying so (Judge0 has no memory status), output over the limit is
"Runtime Error (SIGXFSZ)", as Judge0's file size limit gives. Our own verdict stays available
as the extra field `judge_verdict`, sent only when asked for in `fields`.

Output comparison is Judge0's: both sides split into lines, each stripped of trailing white
space, joined, stripped of trailing white space, then compared exactly (case-sensitive). It is
chosen per submission (`options["compare"] == "judge0"`), so our own API keeps Kattis's rule.
Units: times in seconds (Judge0 sends `time` as a string such as "0.001"), memory in KB.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from judge.problems.model import Verdict
from judge.storage.models import Submission, SubmissionState

VERSION = "1.13.1"
# Judge0's ids for the languages we run (judge0 1.13 `db/languages/active.rb`); ours on the right
LANGUAGES: dict[int, tuple[str, str]] = {
    46: ("bash", "Bash (5.2)"),
    50: ("c", "C (GCC 12.2.0)"),
    51: ("csharp", "C# (Mono 6.8.0)"),
    54: ("cpp", "C++ (GCC 12.2.0)"),
    60: ("go", "Go (1.19)"),
    61: ("haskell", "Haskell (GHC 9.0.2)"),
    62: ("java", "Java (OpenJDK 17)"),
    63: ("javascript", "JavaScript (Node.js 18)"),
    64: ("lua", "Lua (5.4)"),
    67: ("pascal", "Pascal (FPC 3.2.2)"),
    68: ("php", "PHP (8.2)"),
    71: ("python3", "Python (3.11)"),
    72: ("ruby", "Ruby (3.1)"),
    73: ("rust", "Rust (1.63)"),
    78: ("kotlin", "Kotlin (1.3)"),
}
COMPILED = frozenset({50, 51, 54, 60, 61, 62, 67, 73, 78})  # Judge0's languages with a compile_cmd
BY_LANGUAGE = {ours: jid for jid, (ours, _) in LANGUAGES.items()}
STATUSES = {1: "In Queue", 2: "Processing", 3: "Accepted", 4: "Wrong Answer", 5: "Time Limit Exceeded",
            6: "Compilation Error", 7: "Runtime Error (SIGSEGV)", 8: "Runtime Error (SIGXFSZ)",
            9: "Runtime Error (SIGFPE)", 10: "Runtime Error (SIGABRT)", 11: "Runtime Error (NZEC)",
            12: "Runtime Error (Other)", 13: "Internal Error", 14: "Exec Format Error"}
SIGNAL_STATUS = {11: 7, 25: 8, 8: 9, 6: 10}
VERDICT_STATUS = {Verdict.AC: 3, Verdict.WA: 4, Verdict.TLE: 5, Verdict.CE: 6, Verdict.OLE: 8,
                  Verdict.MLE: 12, Verdict.IE: 13}
DEFAULT_FIELDS = ("token", "time", "memory", "stdout", "stderr", "compile_output", "message", "status")
TEXT_FIELDS = ("source_code", "stdin", "expected_output", "stdout", "stderr", "compile_output", "message")
INPUT_OPTIONS = ("compiler_options", "command_line_arguments", "cpu_time_limit", "cpu_extra_time",
                 "wall_time_limit", "memory_limit", "stack_limit", "max_processes_and_or_threads",
                 "enable_per_process_and_thread_time_limit", "enable_per_process_and_thread_memory_limit",
                 "max_file_size", "redirect_stderr_to_stdout", "enable_network", "number_of_runs",
                 "additional_files", "callback_url")
# what `fields=*` gives: Judge0's serialiser (which its own Python SDK's model mirrors field for field)
STAR_FIELDS = ("token", "source_code", "language_id", "stdin", "expected_output", *INPUT_OPTIONS,
               "stdout", "stderr", "compile_output", "message", "exit_code", "exit_signal", "status",
               "status_id", "language", "created_at", "finished_at", "time", "wall_time", "memory")
# every field a client may name in `fields`: also the timestamps, hosts and our own verdict
ALL_FIELDS = ("token", "source_code", "language_id", "stdin", "expected_output", *INPUT_OPTIONS,
              "stdout", "stderr", "compile_output", "message", "exit_code", "exit_signal", "status",
              "status_id", "language", "created_at", "started_at", "finished_at", "queued_at", "updated_at",
              "queue_host", "execution_host", "time", "wall_time", "memory", "judge_verdict")


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


UTF8_ERROR = ("some attributes for this submission cannot be converted to UTF-8, "
              "use base64_encoded=true query parameter")


class NotUtf8(ValueError):
    """A text field is not UTF-8, so it can only be sent in base64 (Judge0 answers UTF8_ERROR)."""


def _text(data: bytes | str | None, b64: bool) -> str | None:
    if data is None:
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

    NotUtf8 when a text field is not UTF-8 and `b64` is false, as Judge0 refuses then.
    """
    opts = options(sub)
    sid = status_id(sub)
    runs = sub.tests
    wall = max((t.wall_s for t in runs), default=None)
    message = sub.message
    if sub.verdict is Verdict.MLE:
        message = "Memory limit exceeded"
    jid = BY_LANGUAGE.get(sub.language)
    full: dict[str, Any] = {
        "token": sub.token,
        "source_code": _text(sub.source, b64),
        "language_id": jid,
        "stdin": _text(sub.stdin, b64),
        "expected_output": _text(sub.expected_output, b64),
        **{k: opts.get(k) for k in INPUT_OPTIONS},
        "stdout": _text(sub.stdout, b64),
        "stderr": _text(sub.stderr, b64),
        "compile_output": _text(sub.compile_output, b64),
        "message": _text(message, b64),
        "exit_code": sub.exit_code,
        "exit_signal": sub.signal,
        "status": {"id": sid, "description": STATUSES[sid]},
        "status_id": sid,
        "language": {"id": jid, "name": LANGUAGES[jid][1] if jid in LANGUAGES else sub.language},
        "created_at": _iso(sub.created_at),
        "queued_at": _iso(sub.created_at),
        "started_at": _iso(sub.started_at),
        "finished_at": _iso(sub.finished_at),
        "updated_at": _iso(sub.finished_at or sub.started_at or sub.created_at),
        "queue_host": None,
        "execution_host": None,
        "time": f"{sub.time_s:.3f}" if sub.time_s is not None else None,
        "wall_time": f"{wall:.3f}" if wall is not None and sub.state is SubmissionState.DONE else None,
        "memory": (sub.memory_bytes + 1023) // 1024 if sub.memory_bytes is not None else None,
        "judge_verdict": sub.verdict.value if sub.verdict is not None else None,
    }
    return {k: full[k] for k in fields}
