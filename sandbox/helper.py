"""Find, or build once, `boxinit`: the small static C program that sets up each box.

Why C: a Python process inside the box costs more than the whole box (about 12 ms to start,
see the sandbox survey's section 1.4, docs/references.md), and `os.fork` of a large Python supervisor costs
about 2.7 ms. The keeper starts boxinit with posix_spawn (vfork), which is also what makes
the keeper safe to use from a threaded process such as a Celery worker.

The binary is built from `boxinit.c` beside this file with the system's C compiler, statically
(no dynamic loader to run in every box), into `SANDBOX_HELPER_DIR` (default
/var/lib/judge-sandbox), named by the source's digest so that an edit rebuilds it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import threading
from pathlib import Path

from .errors import HostSetupError

SOURCE = Path(__file__).with_name("boxinit.c")
_lock = threading.Lock()
_built: Path | None = None


def helper_dir() -> Path:
    return Path(os.environ.get("SANDBOX_HELPER_DIR", "/var/lib/judge-sandbox"))


def compiler() -> str | None:
    for name in ("cc", "gcc", "clang"):
        found = shutil.which(name)
        if found:
            return found
    return None


def helper_path() -> Path:
    """Return the path of the built helper, building it first if this source is new."""
    global _built
    if _built is not None:
        return _built
    with _lock:
        if _built is not None:
            return _built
        digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]
        target = helper_dir() / f"boxinit-{digest}"
        if not target.exists():
            _build(target)
        _built = target
        return target


def _build(target: Path) -> None:
    cc = compiler()
    if cc is None:
        raise HostSetupError(
            "no C compiler to build the sandbox helper boxinit. "
            "Install one: apt-get install gcc libc6-dev"
        )
    target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}")
    cmd = [cc, "-O2", "-static", "-Wall", "-o", str(tmp), str(SOURCE)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise HostSetupError(
            f"cannot build the sandbox helper with `{' '.join(cmd)}`:\n{proc.stderr.strip()}\n"
            "A static build needs libc6-dev (apt-get install gcc libc6-dev)."
        )
    os.chmod(tmp, 0o755)
    os.replace(tmp, target)
