"""One fresh box: prepared ahead, used for one run, then gone.

Runs as root. Three processes, as in isolate: the keeper (this process) owns the cgroup, the
clock and the pipes; boxinit's outer half unshares the namespaces; boxinit's init is pid 1 of
the box and execs the program (sandbox/boxinit.c tells the story from inside).

A box goes through:
  prepare()  spawn boxinit (posix_spawn, so it is safe in a threaded process), create the
             cgroup, send the plan; init builds the root, joins the cgroup and says READY.
             This is the slow part (namespaces, mounts, the cgroup v1 attach that can wait a
             whole RCU grace period), and the pool (sandbox/pool.py) does it ahead of time.
  put()      files into the working directory, through a descriptor boxinit handed back.
  run()      limits into the cgroup, counters reset, GO with argv, env and stdio; then the
             keeper's loop: pipes drained under a cap, CPU time checked against the cgroup
             at the latest moment the limit could be reached, the wall clock; a limit
             reached means SIGKILL to init through its pidfd, which kills the whole pid
             namespace at once. From GO until run() returns the box is listed in the
             registry (sandbox/registry.py) for `judge ps`, `judge stop` and `judge kill`.
             The loop's parts: `_Capture` (the pipes and their cap), `_Clock` (the
             deadlines), `KillReason` (why the keeper killed the box); `RunFacts` is what it
             saw, which `_judge_facts` names.
  get()      outputs, read without following anything the program planted.
  close()    descriptors closed; boxinit reaped and the cgroup removed by the janitor.

Facts only: the result says what happened (sandbox/result.py). The keeper's own failures
raise SandboxError.
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import selectors
import signal
import socket
import stat
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum

from . import files, mounts, protocol, registry, seccomp, uids
from .cgroup import BoxCgroup, Cgroups
from .errors import ExecFailed, SandboxError
from .image import Image, etc_files
from .limits import Limits
from .result import RunResult, RunStatus

RLIMIT = {"cpu": 0, "fsize": 1, "stack": 3, "core": 4, "nofile": 7, "memlock": 8, "as": 9, "msgqueue": 12}
DEFAULT_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/box", "LANG": "C.UTF-8"}
KEEP_OUTPUT = 64 * 1024 * 1024  # never hold more than this of one stream in memory
EXIT_WAIT_S = 5.0  # after init's exit report, how long its own exit may take before we wait for boxinit


@dataclass(frozen=True, slots=True)
class BoxSpec:
    """What a prepared box was made for; a box is reused only for the same spec (never twice)."""

    image: Image
    uid: int | None = None  # None: a uid of its own for each box (sandbox/uids.py)
    tmp_bytes: int = Limits().tmp_bytes
    tmp_inodes: int = Limits().tmp_inodes

    @property
    def key(self) -> tuple[object, ...]:
        return (self.image.key, self.uid, self.tmp_bytes, self.tmp_inodes)


class Box:
    """A prepared box. Not thread-safe; one run per box."""

    def __init__(self, spec: BoxSpec, *, helper: str, cgroups: Cgroups, staging: str, name: str) -> None:
        self.spec = spec
        self.name = name
        self.id = registry.new_id()  # public, for `judge ps`; may be set before run() (the tests do)
        self.cgroup: BoxCgroup | None = None
        self.pid = 0  # boxinit's outer half, our child
        self.init_pid = 0  # pid 1 of the box, as the host sees it
        self.pidfd = -1
        self.workdir_fd = -1
        self.used = False
        self._reported = False  # init said how the program ended: nothing of it is left
        self.default_cpus: str | None = None  # the CPUs a run uses when it names none (Sandbox.cpus)
        self.closed = False
        self._ctl: socket.socket | None = None
        self._registry: registry.Registry | None = None  # where this box's run is listed
        # the box's user and group: its own while it exists, unless the spec pins one
        self._uid_lease: uids.UidLease | None = None
        if spec.uid is None:
            self._uid_lease = uids.take()
            self.uid = self._uid_lease.uid
        else:
            self.uid = spec.uid
        try:
            self._prepare(helper, cgroups, staging)
        except BaseException:
            self.close()
            self.reap(block=True)
            raise

    # -- prepare ---------------------------------------------------------------------------

    def _prepare(self, helper: str, cgroups: Cgroups, staging: str) -> None:
        self.cgroup = cgroups.create(self.name)
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.pid = os.posix_spawn(
                helper,
                [helper],
                {},
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, child.fileno(), 3),
                    (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
                    (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0),
                ],
            )
        except OSError as e:
            parent.close()
            raise SandboxError(f"cannot start the sandbox helper {helper}: {e.strerror}") from e
        finally:
            child.close()
        self._ctl = parent
        spec = self.spec
        plan = [
            *spec.image.root_plan(),
            mounts.mkdir("/etc"),
            *etc_files(self.uid),
            *mounts.box_mounts(uid=self.uid, tmp_bytes=spec.tmp_bytes, tmp_inodes=spec.tmp_inodes),
        ]
        tokens = [
            "prep",
            "root",
            staging,
            "hostname",
            "box",
            "workdir",
            mounts.WORKDIR,
            "hidepid",
            "2",
            "seccomp",
            seccomp.policy_bpf().hex(),
        ]
        for procs in self.cgroup.procs:
            tokens += ["cgroup", procs]
        for op in plan:
            tokens += list(op.tokens())
        protocol.send(parent, tokens)

    def wait_ready(self) -> None:
        """Block until init has built the box; raises SandboxError if it could not."""
        while self.workdir_fd < 0 or self.pidfd < 0:
            msg = self._recv()
            if msg is None:
                raise SandboxError("the sandbox helper exited before the box was ready")
            tokens, fds = msg
            if tokens[0] == "pid":
                self.init_pid, self.pidfd = int(tokens[1]), fds[0]
            elif tokens[0] == "ready":
                self.workdir_fd = fds[0]
            else:
                self._fail(tokens, fds)

    def _recv(self) -> tuple[list[str], list[int]] | None:
        assert self._ctl is not None
        return protocol.recv(self._ctl)

    def _fail(self, tokens: list[str], fds: list[int]) -> None:
        for fd in fds:
            os.close(fd)
        if tokens[0] == "error" and len(tokens) >= 3 and tokens[-1].isdigit():
            err, stage = int(tokens[-1]), " ".join(tokens[1:-1])  # stage names may hold spaces
            raise SandboxError(f"box setup failed at {stage}: {os.strerror(err)} (errno {err})")
        raise SandboxError(f"unexpected message from the sandbox helper: {tokens!r}")

    # -- files -----------------------------------------------------------------------------

    def put(self, rel: str, data: bytes, mode: int = 0o644) -> None:
        """Create a file in the working directory (/box), before the run."""
        self.wait_ready()
        files.write_file(self.workdir_fd, rel, data, mode, dir_owner=self.uid)

    def get(self, rel: str, max_bytes: int = 256 * 1024 * 1024) -> bytes:
        """Read a regular file from the working directory, before or after the run."""
        self.wait_ready()
        return files.read_file(self.workdir_fd, rel, max_bytes)

    def listdir(self, recursive: bool = False) -> list[str]:
        """The working directory's names; with `recursive`, every regular file below it."""
        self.wait_ready()
        return files.list_files(self.workdir_fd, recursive=recursive)

    # -- run -------------------------------------------------------------------------------

    def run(
        self,
        argv: Sequence[str],
        limits: Limits,
        *,
        stdin: bytes | int | None = None,
        stdout: int | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str = mounts.WORKDIR,
        cpus: str | None = None,
    ) -> RunResult:
        """Run argv once in this box. stdin: bytes, a readable descriptor, or None (/dev/null).

        stdout: a descriptor to write to instead of a capturing pipe (interactive problems);
        the caller then owns the output and its cap.
        """
        if self.used:
            raise SandboxError("a box runs one program only; prepare a fresh one")
        if not argv:
            raise ValueError("argv is empty")
        self.used = True
        self.wait_ready()
        assert self.cgroup is not None and self._ctl is not None
        cg = self.cgroup
        # +1: the box's init is a task of the cgroup too; the program gets what it asked for
        cpus = cpus if cpus is not None else self.default_cpus
        cg.set_limits(memory_bytes=limits.memory_bytes, processes=limits.processes + 1, cpus=cpus)
        ncpus = len(_parse_cpus(cpus)) if cpus else (os.cpu_count() or 1)

        in_fd = _stdin_fd(stdin)
        out_r, out_w = os.pipe2(os.O_CLOEXEC) if stdout is None else (-1, stdout)
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        cpu_fd = cg.open_cpu()
        go = _go_message(argv, limits, env=DEFAULT_ENV if env is None else env, cwd=cwd, uid=self.uid)
        try:
            baseline = cg.reset_counters()
            t0 = time.monotonic()
            protocol.send(self._ctl, go, [in_fd, out_w, err_w])
        finally:
            os.close(in_fd)
            if stdout is None:
                os.close(out_w)
            os.close(err_w)
        # listed after GO, so the program does not wait for it; unlisted once nothing of it is left
        board = registry.Registry()
        if board.add_run(
            self.id,
            image=self.spec.image.name,
            argv=list(argv),
            init_pid=self.init_pid,
            cgroup=cg,
            cpu_baseline_ns=baseline,
            uid=self.uid,
        ):
            self._registry = board
        try:
            clock = _Clock(
                cg,
                cpu_fd,
                baseline,
                t0,
                cpu_limit_ns=limits.cpu_time_ms * 1_000_000,
                wall_deadline=t0 + limits.wall_time_ms / 1000,
                ncpus=ncpus,
            )
            capture = _Capture(out_r, err_r, limits)
            try:
                result = self._watch(limits, clock, capture, argv[0])
            finally:
                capture.close()
                os.close(cpu_fd)
            # nothing of the box may outlive the run. Init reports "exit" only after wait4 said
            # ECHILD, with every other process of its pid namespace (orphans are its children)
            # gone; then init's own exit is awaited through its pidfd. boxinit's outer half is
            # not in the box's pid namespace but holds its mount and network namespaces: its
            # exit tears them down (unmounting the root), which is left to the janitor (issue 23:
            # a good part of a short run's time). Without that report (the keeper killed init,
            # or init failed) we wait for boxinit here: it exits once it has reaped init, which
            # the kernel lets go only after every process of the pid namespace is gone.
            if not (self._reported and self._wait_init(EXIT_WAIT_S)):
                self._wait_helper()
        finally:
            action = board.withdraw(self.id) if self._registry is not None else None
            self._registry = None
        return result if action is None else _ended_by_operator(result, action)

    def _watch(self, limits: Limits, clock: _Clock, capture: _Capture, command: str) -> RunResult:
        """The keeper's loop, from GO until init's report and the end of both pipes."""
        assert self._ctl is not None
        sel = selectors.DefaultSelector()
        capture.watch(sel)
        sel.register(self._ctl, selectors.EVENT_READ)
        heard = _Heard()
        killed: KillReason | None = None
        try:
            while heard.listening or len(sel.get_map()) > 0:
                now = time.monotonic()
                timeout = 1.0
                if killed is None and heard.listening:
                    cpu_ns = clock.cpu_ns()
                    killed = clock.reached(cpu_ns, now)
                    if killed is not None:
                        self._kill()
                    else:
                        timeout = clock.next_check_s(cpu_ns, now)
                events = sel.select(timeout)
                if not events and not heard.listening and time.monotonic() - now >= 1.0:
                    break  # output still open after the box is gone: a descriptor escaped? never wait forever
                for key, _ in events:
                    if key.fileobj is self._ctl:
                        self._hear(sel, heard)
                    elif capture.drain(int(key.fd)) and killed is None:
                        killed = KillReason.OUTPUT
                        self._kill()
        finally:
            sel.close()
        return self._facts(limits, clock, capture, heard, killed, command)

    def _hear(self, sel: selectors.BaseSelector, heard: _Heard) -> None:
        """One message of init during the run."""
        ctl = self._ctl
        assert ctl is not None
        msg = self._recv()
        if msg is None:  # init and boxinit are gone without a last word
            heard.listening = False
            sel.unregister(ctl)
            return
        tokens, fds = msg
        if tokens[0] == "exit":
            heard.exit = tokens
            # init's last word: the program and all it started are gone (run())
            self._reported = True
            heard.listening = False
            sel.unregister(ctl)
        elif tokens[0] == "execfail":
            heard.exec_error = tokens
        elif tokens[0] == "error":
            self._kill()
            self._fail(tokens, fds)

    def _facts(
        self,
        limits: Limits,
        clock: _Clock,
        capture: _Capture,
        heard: _Heard,
        killed: KillReason | None,
        command: str,
    ) -> RunResult:
        """The run is over: its figures from the cgroup, and what they mean (_judge_facts)."""
        wall_ms = (time.monotonic() - clock.t0) * 1000
        cpu_ns = clock.cpu_ns()
        cg = clock.cgroup
        peak = cg.memory_peak()
        ooms = cg.oom_kills()
        if heard.exec_error is not None:
            tokens = heard.exec_error
            err = int(tokens[2]) if len(tokens) > 2 and tokens[2].lstrip("-").isdigit() else 0
            stage = tokens[1] if len(tokens) > 1 else "?"
            raise ExecFailed(f"cannot run {command} in the box: {os.strerror(err)} (errno {err}, at {stage})")
        if heard.exit is None and killed is None:
            if self._operator_action() is None:
                raise SandboxError("the box ended without reporting how its program exited")
            killed = KillReason.OPERATOR  # `judge kill` (or `judge stop` after its grace) SIGKILLed init
        return _judge_facts(
            limits,
            RunFacts(
                killed=killed,
                exit=None if heard.exit is None else ExitReport.parse(heard.exit),
                cpu_ms=cpu_ns / 1e6,
                wall_ms=wall_ms,
                memory_peak=peak,
                oom_kills=ooms,
                stdout=capture.output(capture.out_r),
                stderr=capture.output(capture.err_r),
                stdout_over=capture.over.get(capture.out_r, False),
                stderr_over=capture.over[capture.err_r],
            ),
        )

    def processes(self) -> set[int]:
        """Host pids of the box's processes, init included; empty once the box is over."""
        return set() if self.cgroup is None else self.cgroup.processes()

    def kill_program(self) -> None:
        """SIGKILL every process of the box but its init, which then reports the program's death.

        For a caller that watches the run from another thread (judge/interactive.py). Killing
        init instead would leave the run without a report (a SandboxError); a limit the keeper
        enforces kills init, and then the keeper knows why.
        """
        if self.cgroup is not None:
            registry.signal_box(self.cgroup, self.init_pid, signal.SIGKILL)

    def _operator_action(self) -> str | None:
        return self._registry.operator_action(self.id) if self._registry is not None else None

    def _kill(self) -> None:
        if self.pidfd >= 0:
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass

    # -- teardown --------------------------------------------------------------------------

    def close(self) -> None:
        """Release the box: kill anything left, close descriptors. Reaping is the janitor's."""
        if self.closed:
            return
        self.closed = True
        self._kill()
        for fd in (self.pidfd, self.workdir_fd):
            if fd >= 0:
                os.close(fd)
        self.pidfd = self.workdir_fd = -1
        if self._ctl is not None:
            self._ctl.close()
            self._ctl = None

    def forget(self) -> None:
        """In a forked child: close this process's copies of the descriptors, touch nothing else."""
        for fd in (self.pidfd, self.workdir_fd):
            if fd >= 0:
                os.close(fd)
        if self._ctl is not None:
            self._ctl.close()
        self.pidfd = self.workdir_fd = -1
        self._ctl = None
        self.closed = True
        self.pid = 0
        self.cgroup = None
        if self._uid_lease is not None:
            self._uid_lease.forget()
            self._uid_lease = None

    def _wait_init(self, timeout_s: float) -> bool:
        """Wait until the box's init has exited (its pidfd turns readable); False on timeout."""
        if self.pidfd < 0:
            return False
        poller = select.poll()
        poller.register(self.pidfd, select.POLLIN)
        return bool(poller.poll(timeout_s * 1000))

    def _wait_helper(self) -> None:
        if self.pid:
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            self.pid = 0

    def reap(self, block: bool) -> bool:
        """Wait for boxinit and remove the cgroup; False if boxinit is still exiting."""
        if self.pid:
            try:
                pid, _ = os.waitpid(self.pid, 0 if block else os.WNOHANG)
            except ChildProcessError:
                pid = self.pid
            if pid == 0:
                return False
            self.pid = 0
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
        # boxinit is gone, so is every process of the box: its uid may go to another box
        if self._uid_lease is not None:
            self._uid_lease.release()
            self._uid_lease = None
        return True

    def __enter__(self) -> Box:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
        self.reap(block=True)


def _parse_cpus(spec: str) -> list[int]:
    out: list[int] = []
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        out += range(int(lo), int(hi or lo) + 1)
    return out


def _stdin_fd(stdin: bytes | int | None) -> int:
    """The descriptor the program reads as stdin; it never names a host path.

    Bytes, and a descriptor of a regular file (a test's input in the package), become a private,
    sealed copy in memory: /proc/self/fd/0 then reads "/memfd:stdin (deleted)", not the file's
    path, and nothing the program does (reopening it for writing, an inotify watch) reaches the
    package. Pipes and terminals (interactive problems, a shell) are passed as they are.
    """
    if stdin is None:
        return os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
    if isinstance(stdin, int):
        if not stat.S_ISREG(os.fstat(stdin).st_mode):
            return os.dup(stdin)
        return _sealed_copy(lambda fd: _copy_file(stdin, fd))

    def write(fd: int) -> None:
        view = memoryview(stdin)
        while view:
            view = view[os.write(fd, view) :]

    return _sealed_copy(write)


SEALS = fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE


def _sealed_copy(fill: Callable[[int], None]) -> int:
    """A read-only descriptor of a new memfd that `fill` wrote, sealed against any change."""
    fd = os.memfd_create("stdin", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    try:
        fill(fd)
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, SEALS)
        # the box gets a read-only descriptor of it, at offset 0
        return os.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        os.close(fd)


def _copy_file(src: int, dst: int) -> None:
    """From src's current offset to its end, in the kernel; src's offset is left as it was."""
    offset = os.lseek(src, 0, os.SEEK_CUR)
    try:
        while n := os.sendfile(dst, src, offset, 1 << 30):
            offset += n
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOSYS):
            raise
        while chunk := os.pread(src, 1 << 20, offset):
            os.write(dst, chunk)
            offset += len(chunk)


def _go_message(
    argv: Sequence[str], limits: Limits, *, env: Mapping[str, str], cwd: str, uid: int
) -> list[str]:
    """GO: what init runs, where, as whom, with which environment and rlimits."""
    go = ["go", "cwd", cwd, "uid", str(uid), "gid", str(uid)]
    for a in argv:
        go += ["arg", a]
    for k, v in env.items():
        go += ["env", f"{k}={v}"]
    for res, soft in _rlimits(limits).items():
        go += ["rlimit", str(RLIMIT[res]), str(soft), str(soft)]
    return go


def _ended_by_operator(result: RunResult, action: str) -> RunResult:
    """`judge stop` or `judge kill` ended this run: say so (RunResult.extra["operator"])."""
    result = replace(result, extra={**result.extra, "operator": action})
    if result.status is RunStatus.RTE and result.syscall is None:
        # the program died of the operator's signal (or of how it handled it), not of its own fault
        result = replace(result, message=registry.OPERATOR_MESSAGES[action])
    return result


def _rlimits(limits: Limits) -> dict[str, int]:
    extra = {} if limits.address_space_bytes is None else {"as": limits.address_space_bytes}
    return {
        **extra,
        # a backstop only: the keeper enforces CPU time over the whole box, promptly
        "cpu": limits.cpu_time_ms // 1000 + 2,
        "fsize": limits.file_size_bytes,
        "stack": limits.effective_stack_bytes,
        "core": 0,
        "nofile": limits.open_files,
        "memlock": 0,
        "msgqueue": 0,
    }


# -- the parts of a run's watch ---------------------------------------------------------------


class KillReason(Enum):
    """Why a box was killed before its program ended by itself."""

    CPU = "cpu"  # the CPU time limit, over every process of the box
    WALL = "wall"  # the wall-time limit, from GO
    OUTPUT = "output"  # stdout or stderr over the cap, where the limit kills
    OPERATOR = "operator"  # `judge kill`, or `judge stop` after its grace (sandbox/registry.py)


@dataclass(frozen=True, slots=True)
class _Clock:
    """A run's deadlines: CPU time (the cgroup's counter since GO) and the wall clock from GO."""

    cgroup: BoxCgroup
    cpu_fd: int  # the cgroup's CPU counter, opened once for the whole run
    baseline_ns: int  # the counter at GO (0 where GO resets it)
    t0: float  # GO, time.monotonic()
    cpu_limit_ns: int
    wall_deadline: float
    ncpus: int  # how many CPUs the box may keep busy at once

    def cpu_ns(self) -> int:
        return self.cgroup.cpu_ns(self.cpu_fd) - self.baseline_ns

    def reached(self, cpu_ns: int, now: float) -> KillReason | None:
        if cpu_ns >= self.cpu_limit_ns:
            return KillReason.CPU
        if now >= self.wall_deadline:
            return KillReason.WALL
        return None

    def next_check_s(self, cpu_ns: int, now: float) -> float:
        """The soonest either limit can be reached, with every allowed CPU busy."""
        cpu_wait = (self.cpu_limit_ns - cpu_ns) / 1e9 / self.ncpus
        return max(0.0005, min(cpu_wait, self.wall_deadline - now))


class _Capture:
    """The program's stdout (unless the caller took it) and stderr, drained under the output cap."""

    def __init__(self, out_r: int, err_r: int, limits: Limits) -> None:
        self.out_r, self.err_r = out_r, err_r  # out_r is -1 when the caller owns stdout
        self.fds = [fd for fd in (out_r, err_r) if fd >= 0]
        self.cap = limits.output_bytes
        self.cap_kills = limits.output_limit_kills
        self.bufs = {fd: bytearray() for fd in self.fds}
        self.over = {fd: False for fd in self.fds}
        self._sel: selectors.BaseSelector | None = None

    def watch(self, sel: selectors.BaseSelector) -> None:
        self._sel = sel
        for fd in self.fds:
            os.set_blocking(fd, False)
            sel.register(fd, selectors.EVENT_READ)

    def drain(self, fd: int) -> bool:
        """Read what fd has; True when that took its stream over a cap that kills the box."""
        assert self._sel is not None
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            return False
        if not chunk:
            self._sel.unregister(fd)
            return False
        buf = self.bufs[fd]
        room = self.cap - len(buf)
        if len(chunk) <= room:
            buf += chunk
            return False
        self.over[fd] = True
        buf += chunk[: max(room, 0)]
        if not self.cap_kills:
            return False  # read on to the end, keeping nothing more
        self._sel.unregister(fd)
        return True

    def output(self, fd: int) -> bytes:
        return bytes(self.bufs.get(fd, b""))

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds = []


@dataclass(slots=True)
class _Heard:
    """What init said during the run."""

    listening: bool = True  # the control socket is open and init has not given its report
    exit: list[str] | None = None  # "exit HAVE STATUS UTIME STIME SYSNR"
    exec_error: list[str] | None = None  # "execfail STAGE ERRNO"


@dataclass(frozen=True, slots=True)
class ExitReport:
    """Init's last word: how the program ended, and the system call the filter denied (-1: none)."""

    have_status: bool  # False: init reaped everything but never the program's own status
    status: int  # a wait status (os.WIFSIGNALED and friends)
    denied_syscall: int

    @classmethod
    def parse(cls, tokens: list[str]) -> ExitReport:
        have, status, _utime, _stime, sysnr = (int(x) for x in tokens[1:6])
        return cls(bool(have), status, sysnr)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunFacts:
    """What the keeper saw of one run, before _judge_facts names it."""

    killed: KillReason | None
    exit: ExitReport | None  # None when init was killed (a limit, an operator)
    cpu_ms: float
    wall_ms: float
    memory_peak: int
    oom_kills: int
    stdout: bytes
    stderr: bytes
    stdout_over: bool
    stderr_over: bool


def _judge_facts(limits: Limits, facts: RunFacts) -> RunResult:
    """Name what happened, in order of precedence: our kill, OOM, the filter, the program."""
    exit_code: int | None = None
    sig: int | None = None
    syscall: str | None = None
    killed, report = facts.killed, facts.exit
    if report is not None:
        if report.denied_syscall >= 0:
            sig = signal.SIGSYS
            syscall = seccomp.syscall_name(report.denied_syscall)
        elif report.have_status:
            if os.WIFSIGNALED(report.status):
                sig = os.WTERMSIG(report.status)
            else:
                exit_code = os.WEXITSTATUS(report.status)
    elif killed is not None:
        sig = signal.SIGKILL
    cpu_s, wall_s = limits.cpu_time_ms / 1000, limits.wall_time_ms / 1000

    over_cpu = killed is None and facts.cpu_ms > limits.cpu_time_ms
    if killed is KillReason.CPU or sig == signal.SIGXCPU or over_cpu:
        status_, msg = RunStatus.TLE, f"CPU time limit of {cpu_s:g} s exceeded"
    elif killed is KillReason.WALL or (killed is None and facts.wall_ms > limits.wall_time_ms):
        status_, msg = RunStatus.TLE, f"wall time limit of {wall_s:g} s exceeded"
    elif killed is KillReason.OUTPUT or (facts.stdout_over and not limits.output_limit_kills):
        status_, msg = RunStatus.OLE, f"output over the limit of {limits.output_bytes} bytes"
    elif facts.oom_kills > 0 or (exit_code != 0 and facts.memory_peak >= limits.memory_bytes - 4096):
        status_, msg = RunStatus.MLE, f"memory limit of {limits.memory_bytes // (1 << 20)} MiB exceeded"
    elif syscall is not None:
        assert report is not None
        status_, msg = RunStatus.RTE, seccomp.describe(report.denied_syscall)
    elif sig == signal.SIGXFSZ:
        status_, msg = RunStatus.OLE, f"a file over the limit of {limits.file_size_bytes} bytes"
    elif sig is not None:
        name = signal.Signals(sig).name if sig in signal.valid_signals() else str(sig)
        status_, msg = RunStatus.RTE, f"killed by {name}"
    elif exit_code:
        status_, msg = RunStatus.RTE, f"exited with code {exit_code}"
    else:
        status_, msg = RunStatus.OK, ""
    return RunResult(
        status=status_,
        exit_code=exit_code,
        signal=sig,
        cpu_time_ms=round(facts.cpu_ms, 3),
        wall_time_ms=round(facts.wall_ms, 3),
        memory_bytes=facts.memory_peak,
        stdout=facts.stdout,
        stderr=facts.stderr,
        stdout_truncated=facts.stdout_over,
        stderr_truncated=facts.stderr_over,
        message=msg,
        syscall=syscall,
    )
