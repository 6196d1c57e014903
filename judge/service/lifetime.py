"""Children that do not outlive `judge serve`: a parent-death signal, set in the child.

`judge serve` starts Redis, the worker and the web server in sessions of their own (so the
terminal's Ctrl-C reaches only it) and stops them in order. If it is itself killed with
SIGKILL it cannot; then the kernel sends each child SIGTERM (prctl PR_SET_PDEATHSIG), which
each takes as a clean stop. Linux only, like the sandbox.
"""

from __future__ import annotations

import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def terminate_with_parent() -> None:
    """For `preexec_fn`: SIGTERM this process when the thread that started it ends."""
    if _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
