"""What one run did: facts the box observed, no judgement.

Grading turns a RunResult into a verdict; the sandbox never does. Statuses are the names of
docs/contracts.md ("Run statuses"): OK, TLE, MLE, OLE, RTE. There is no status for a
broken sandbox: that raises SandboxError instead.
"""

from __future__ import annotations

import signal as _signal
from dataclasses import dataclass, field
from enum import StrEnum


class RunStatus(StrEnum):
    OK = "OK"  # exited with code 0
    TLE = "TLE"  # CPU or wall time; cpu_time_ms and wall_time_ms say which
    MLE = "MLE"  # the cgroup's OOM killer fired (or the peak reached the limit)
    OLE = "OLE"  # stdout or stderr over the cap, or a file over the size limit (SIGXFSZ)
    RTE = "RTE"  # non-zero exit, a signal, or a denied system call (signal 31)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    """What the box observed. `memory_bytes` is the cgroup's peak, never ru_maxrss."""

    status: RunStatus
    exit_code: int | None
    signal: int | None
    cpu_time_ms: float
    wall_time_ms: float
    memory_bytes: int
    stdout: bytes
    stderr: bytes
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    message: str = ""
    syscall: str | None = None  # the denied call, when the filter killed the program
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def signal_name(self) -> str | None:
        if self.signal is None:
            return None
        try:
            return _signal.Signals(self.signal).name
        except ValueError:
            return f"signal {self.signal}"
