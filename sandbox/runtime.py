"""The sandbox of one process: host checks done once, the helper, the cgroups, the pool.

    sb = sandbox.default()                 # one per process, re-made after fork
    with sb.box() as box:                   # a fresh box from the pool
        box.put("main.py", source)
        result = box.run(["/usr/bin/python3", "main.py"], Limits(cpu_time_ms=1000), stdin=b"1 2\n")
        data = box.get("out.txt")
    result = sb.run(["/bin/true"])         # the same, in one call

Every Box is used for one run. Leaving the `with` block hands it to the janitor.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence

from .box import Box, BoxSpec
from .cgroup import Cgroups
from .errors import HostSetupError
from .helper import helper_path
from .image import HOST, Image
from .limits import Limits
from .pool import Pool
from .result import RunResult

STAGING = "/run/judge-sandbox/root"


class Sandbox:
    def __init__(self, *, pool_depth: int = 2) -> None:
        if os.geteuid() != 0:
            raise HostSetupError(
                "the sandbox needs root (or a delegated cgroup subtree and "
                "CAP_SYS_ADMIN); `python -m sandbox.check` explains"
            )
        self.cgroups = Cgroups.detect()
        self.cgroups.sweep_stale()
        self.helper = str(helper_path())
        os.makedirs(STAGING, mode=0o700, exist_ok=True)
        self.pool = Pool(self._make, depth=pool_depth)
        # the CPUs every box of this process runs on unless a run names its own ("0", "2-3");
        # a judge worker pins each of its processes to one core, so timings do not fight
        self.cpus: str | None = None
        # called with how long each box() waited for a fresh, ready box (s): a judge worker's
        # box start latency metric; None: nobody asks
        self.on_box_start: Callable[[float], None] | None = None

    @property
    def cgroup_version(self) -> int:
        return self.cgroups.version

    def _make(self, spec: BoxSpec) -> Box:
        name = f"box-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        return Box(spec, helper=self.helper, cgroups=self.cgroups, staging=STAGING, name=name)

    def box(self, image: Image = HOST, *, uid: int | None = None, limits: Limits | None = None) -> ManagedBox:
        """A fresh box of this image; its /tmp and working directory are sized by `limits`.

        Each box runs as a user and group of its own (sandbox/uids.py); `uid` pins one instead.
        """
        lim = limits or Limits()
        spec = BoxSpec(image, uid, lim.tmp_bytes, lim.tmp_inodes)
        t0 = time.monotonic()
        box = self.pool.take(spec)
        if self.on_box_start is not None:
            self.on_box_start(time.monotonic() - t0)
        box.default_cpus = self.cpus
        return ManagedBox(self.pool, box)

    def prepare_now(self, image: Image = HOST) -> ManagedBox:
        """A box prepared now, in this thread, not taken from the pool: what a cold start costs."""
        box = self._make(BoxSpec(image))
        try:
            box.wait_ready()
        except BaseException:
            self.pool.discard(box)
            raise
        return ManagedBox(self.pool, box)

    def run(
        self,
        argv: Sequence[str],
        limits: Limits | None = None,
        *,
        image: Image = HOST,
        files: Mapping[str, bytes | tuple[bytes, int]] | None = None,
        stdin: bytes | int | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str = "/box",
        cpus: str | None = None,
    ) -> RunResult:
        """Run argv once in a fresh box, with files put in its working directory first.

        `files` maps a relative path to its bytes, or to (bytes, mode) for an executable.
        """
        lim = limits or Limits()
        with self.box(image, limits=lim) as box:
            for name, content in (files or {}).items():
                data, mode = content if isinstance(content, tuple) else (content, 0o644)
                box.put(name, data, mode)
            return box.run(argv, lim, stdin=stdin, env=env, cwd=cwd, cpus=cpus)

    def close(self) -> None:
        self.pool.close()


class ManagedBox:
    """A Box handed out by the pool; closing it gives it to the janitor."""

    def __init__(self, pool: Pool, box: Box) -> None:
        self._pool = pool
        self.box = box
        self.put = box.put
        self.get = box.get
        self.run = box.run
        self.listdir = box.listdir
        self.name = box.name
        self.uid = box.uid

    def close(self) -> None:
        self._pool.discard(self.box)

    def __enter__(self) -> Box:
        return self.box

    def __exit__(self, *exc: object) -> None:
        self.close()


_default: Sandbox | None = None
_lock = threading.Lock()


def default() -> Sandbox:
    """This process's sandbox, made on first use (and again in a forked child)."""
    global _default
    with _lock:
        if _default is None:
            _default = Sandbox()
            atexit.register(_default.close)
        return _default


def _after_fork_in_child() -> None:
    global _default, _lock
    _lock = threading.Lock()
    if _default is not None:
        _default.pool.forget_after_fork()
        _default = None


os.register_at_fork(after_in_child=_after_fork_in_child)
