"""Find, or build once, `boxinit`: the small static C program that sets up each box.

Why C: a Python process inside the box costs more than the whole box (about 12 ms to start,
see the sandbox survey's section 1.4, docs/references.md), and `os.fork` of a large Python supervisor costs
about 2.7 ms. The keeper starts boxinit with posix_spawn (vfork), which is also what makes
the keeper safe to use from a threaded process such as a Celery worker.

The binary is built from `boxinit.c` beside this file with the system's C compiler, statically
(no dynamic loader to run in every box), into `SANDBOX_HELPER_DIR` (default
/var/lib/judge-sandbox), named by the source's digest so that an edit rebuilds it.

Against musl when `musl-gcc` is there (Debian's musl-tools), else against glibc. Each box
execs boxinit once, and a static glibc program spends its start asking the CPU about its
caches (`init_cacheinfo`: dozens of CPUID instructions, each a trap to the hypervisor in a
VM): 0.65 ms of CPU and about 2 ms of wall time per exec on the 2-core VM of issue 23, where
musl's start costs 0.07 ms and 0.15 ms (`judge bench sandbox` shows the whole box). musl has no
kernel headers of its own, so the build borrows the system's <linux/...>, <asm/...> and
<asm-generic/...> (linux-libc-dev), which do not depend on the C library. A musl build that
fails falls back to the C compiler; the binary's name says which one made it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from .errors import HostSetupError

SOURCE = Path(__file__).with_name("boxinit.c")
KERNEL_HEADERS = Path("/usr/include")
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
        musl = shutil.which("musl-gcc")
        target = helper_dir() / f"boxinit-{digest}-musl"
        if musl is None or not (target.exists() or _build_musl(musl, target)):
            target = helper_dir() / f"boxinit-{digest}"
            if not target.exists():
                _build(target)
        _built = target
        return target


def _kernel_headers(musl: str, into: Path) -> bool:
    """Links to the system's kernel headers in `into`, for musl-gcc; False if they are missing.

    <asm/...> is per architecture: under the compiler's own multiarch triple on Debian and
    Ubuntu (never another architecture's, which a cross toolchain may have put beside it).
    """
    machine = subprocess.run([musl, "-dumpmachine"], capture_output=True, text=True, check=False)
    triple = machine.stdout.strip()
    places = [KERNEL_HEADERS / triple / "asm"] if triple else []
    asm = next((d for d in (*places, KERNEL_HEADERS / "asm") if d.is_dir()), None)
    linux, generic = KERNEL_HEADERS / "linux", KERNEL_HEADERS / "asm-generic"
    if asm is None or not (linux / "seccomp.h").exists() or not generic.is_dir():
        return False
    for name, path in (("linux", linux), ("asm", asm), ("asm-generic", generic)):
        (into / name).symlink_to(path)
    return True


def _build_musl(musl: str, target: Path) -> bool:
    """Build against musl; False (and nothing written) if that cannot be done here."""
    with tempfile.TemporaryDirectory(prefix="boxinit-headers-") as headers:
        if not _kernel_headers(musl, Path(headers)):
            return False
        return _compile([musl, "-idirafter", headers], target) is None


def _compile(cc: list[str], target: Path) -> str | None:
    """Compile SOURCE statically into target (atomically); None, or the compiler's complaint."""
    target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}")
    cmd = [*cc, "-O2", "-static", "-Wall", "-o", str(tmp), str(SOURCE)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        return f"cannot build the sandbox helper with `{' '.join(cmd)}`:\n{proc.stderr.strip()}"
    os.chmod(tmp, 0o755)
    os.replace(tmp, target)
    return None


def _build(target: Path) -> None:
    cc = compiler()
    if cc is None:
        raise HostSetupError(
            "no C compiler to build the sandbox helper boxinit. Install one: apt-get install gcc libc6-dev"
        )
    problem = _compile([cc], target)
    if problem is not None:
        raise HostSetupError(f"{problem}\nA static build needs libc6-dev (apt-get install gcc libc6-dev).")
