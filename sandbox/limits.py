"""Resource limits for one run. Units live in the names; values are frozen."""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """What one run may use. The sandbox enforces every field; callers never re-check them.

    `cpu_time_ms` is summed over every thread and process of the box (cgroup accounting).
    `stack_bytes` of None means "as large as the memory limit", as contest judges do.
    `processes` counts threads too (the cgroup pids controller counts tasks).
    """

    cpu_time_ms: int = 2000
    wall_time_ms: int = 6000
    memory_bytes: int = 256 * MiB
    output_bytes: int = 64 * MiB  # stdout and stderr, each; over it the run is OLE
    # True: the first byte over `output_bytes` kills the box (OLE at once). False: what is over
    # is read and thrown away and the program runs on (DOMjudge's "truncated at the limit"): it
    # ends TLE if it runs out of time, else OLE if stdout went over; stderr is only cut.
    output_limit_kills: bool = True
    file_size_bytes: int = 64 * MiB  # any one file the program writes (RLIMIT_FSIZE)
    stack_bytes: int | None = None
    # RLIMIT_AS, off by default: the cgroup counts memory used, this counts address space
    # reserved (DMOJ's model for native programs: an untouched 128 MB array fails at load)
    address_space_bytes: int | None = None
    processes: int = 64
    open_files: int = 256
    tmp_bytes: int = 64 * MiB  # /tmp, and the working directory, each a tmpfs of this size
    tmp_inodes: int = 4096

    def __post_init__(self) -> None:
        for name in (
            "cpu_time_ms",
            "wall_time_ms",
            "memory_bytes",
            "output_bytes",
            "file_size_bytes",
            "processes",
            "open_files",
            "tmp_bytes",
            "tmp_inodes",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"Limits.{name} must be a positive integer, not {value!r}")
        if self.memory_bytes < 4 * MiB:
            raise ValueError(f"Limits.memory_bytes must be at least 4 MiB, not {self.memory_bytes}")

    @property
    def effective_stack_bytes(self) -> int:
        return self.memory_bytes if self.stack_bytes is None else self.stack_bytes
