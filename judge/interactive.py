"""Interactive and multi-pass problems: a submission and the package's output validator, run together.

Imports sandbox/ and judge.execution's Compiled (a compiled program: the submission, or the
validator compiled once by judge/checkers/validator.py); knows nothing of packages or
grading. The verdict it implies is a Verdict (judge/verdict.py), which judge/grading.py
records as the test's.

The protocol is the Kattis problem package format's (legacy and 2025-09): the validator runs
as `validator input answer feedback_dir/ [args]`; its stdout is the submission's stdin and
the submission's stdout its stdin; it exits 42 to accept, 43 to reject, anything else is a
judge error. The format does not say which of the two programs wins when both fail;
problemtools' support/interactive/interactive.cc does, and we follow it: a rejection that
comes first wins over a later crash or timeout of the submission, and a submission killed by
SIGPIPE is not blamed for it ("in case of broken pipes, let validator decide").

Theory of operation, in the order it happens:

1. Two boxes, each on its program's image and under its own limits plus its language's
   allowance. The validator's box holds its program and, under .judge/, the test's input and
   answer and a feedback directory (seeded with the previous pass's files, mode 0666 so that
   the validator may append to them). Both boxes are ready before either program starts.
2. Two pipes: validator -> submission and submission -> validator (1 MiB each, as
   problemtools makes them). Box.run blocks until its program has ended, so each box runs in
   a thread of its own, and this thread watches both.
3. Which of our copies of the pipe ends we keep, and for how long; the verdict depends on it:
   - the validator's ends (its stdin's read end, its stdout's write end) are closed as soon
     as its program is running (its cgroup holds more than its init). A validator that
     closes its stdout early gives the submission EOF at once (bapctools/pseudointeraction
     relies on it); a submission that writes to a validator that has gone dies of SIGPIPE.
   - the submission's stdout write end is kept until the submission's box is over, as
     problemtools keeps it (problemtools keeps the validator's too, which would break the
     case above): the validator sees EOF only after we have noted that the
     submission ended, so "the submission ended first" never races with the validator's
     reaction to that EOF. A submission that closes its stdout early is judged by how it
     then ends (bapctools/guess guess_close_stdout*: RTE, or TLE).
   - the submission's stdin read end is kept to the end, and drained once the submission's
     box is over: a validator that writes its last line after the submission has left (a
     submission may stop reading once it knows the answer) neither dies of SIGPIPE nor
     blocks on a full pipe.
4. Which side ended first. The submission ended when its box's init exited (its pidfd). The
   validator ended at the first of: closing its stdin (the write end we keep reports POLLERR
   once it has no reader), its box's init exiting. Both are seen by one poll(); a tie counts
   as the validator first, as a submission ending in the same instant is nearly always
   reacting to the validator.
5. A validator that has ended with anything but 42 while the submission still runs has
   settled the verdict (WA, or IE), so the submission is killed (every process of its box
   but init, SIGKILL; init then reports signal 9) instead of running into its time limit.
   After a 42 the submission runs on: how it ends still counts. The other way round, a
   submission that failed first (a limit, a crash) has its verdict unless the validator then
   crashes, so the validator gets VALIDATOR_GRACE_S to end by itself and is then stopped: a
   validator still answering a backlog of queries (domjudge/boolfind's boolfind-test-loop)
   must not run into its own limit and turn a TLE into IE.
6. The verdict, in problemtools' order:
   a. the validator did not exit 42 or 43 (another code, a signal, its own limit): IE,
      unless we stopped it after the submission had failed (step 5): the submission's failure;
   b. it exited 43 and ended first: WA;
   c. the submission failed (TLE, MLE, OLE, RTE): that, unless it died of SIGPIPE;
   d. 43: WA; 42: AC.
   A score.txt that is not a number is IE; the feedback files, judgemessage.txt and
   teammessage.txt are read back from the validator's box before it is discarded.

Multi-pass (2025-09 `multi-pass`, DOMjudge's `validation: custom multi-pass`): the
validator accepts a pass and asks for another by exiting 42 with feedback_dir/nextpass.in,
which becomes the next pass's input: the validator's input file and, for a problem that is not
interactive, the submission's stdin (as BAPCtools does; the answer file stays). Every other
feedback file persists into the next pass.
A multi-pass problem may be non-interactive: then each pass runs the submission on the input,
then the validator on its output, one after the other. The result is the first pass that is
not AC, or the last one. The spec makes two things judge errors, IE here: a nextpass.in with
an exit code other than 42, and a validator asking for more passes than `validation_passes`.

The sandbox's own failures (SandboxError, including ExecFailed) are raised, never turned
into a verdict here: the caller records IE.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import stat
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sandbox import DEFAULT_ENV, Box, FileRefused, Image, Limits, RunResult, RunStatus
from sandbox import files as box_files

from .cores import Boxes
from .execution import Compiled
from .languages.recipe import expand
from .verdict import Verdict, verdict_of_run

JUDGE_DIR = ".judge"  # in the validator's /box: the test's files and the feedback directory
INPUT_FILE = f"{JUDGE_DIR}/input.in"
ANSWER_FILE = f"{JUDGE_DIR}/answer.ans"
FEEDBACK_DIR = f"{JUDGE_DIR}/feedback"
PLACEHOLDER = ".placeholder"  # makes an empty feedback directory; never read back
WORKDIR = "/box"
NEXTPASS = "nextpass.in"
ACCEPT, REJECT = 42, 43
PIPE_BYTES = 1 << 20
STARTING_POLL_MS = 1  # while the validator's program has not started yet, or a kill is pending
IDLE_POLL_MS = 200  # otherwise: the events that matter wake the poll themselves
VALIDATOR_GRACE_S = 1.0  # after the submission failed first: time for the validator to end by itself


@dataclass(frozen=True, slots=True)
class InteractiveOutcome:
    """What one test did: both programs' facts, the validator's feedback, and the verdict it implies."""

    submission: RunResult
    validator: RunResult | None  # None: a non-interactive pass whose submission failed, never validated
    validator_exit: int | None  # its exit code; None when it did not exit (a signal, a limit, not run)
    verdict_hint: Verdict
    judge_message: str  # feedback_dir/judgemessage.txt
    team_message: str  # feedback_dir/teammessage.txt
    score: float | None  # feedback_dir/score.txt
    next_pass_input: bytes | None  # feedback_dir/nextpass.in, when the validator accepted this pass
    feedback: dict[str, bytes]  # every file left in the feedback directory, by name
    reason: str = ""  # why this verdict, for people: "the validator rejected first", ...
    passes: int = 1  # how many passes ran (multi-pass)


def run_interactive(
    sb: Boxes,
    submission: Compiled,
    validator: Compiled,
    *,
    input: Path | bytes,
    answer: Path | None,
    args: Sequence[str],
    limits: Limits,
    validator_limits: Limits,
    images: tuple[Image, Image],
    feedback: Mapping[str, bytes] | None = None,
    submission_input_file: bytes | None = None,
) -> InteractiveOutcome:
    """One pass: the submission and the validator on one test.

    `input` is the validator's input file (the test's .in, or a pass's nextpass.in); `limits`
    and `validator_limits` are before the languages' allowances; `images` are the submission's
    and the validator's. `feedback` seeds the feedback directory (the files a previous pass
    left). With `submission_input_file` the pass is not interactive: the submission reads those
    bytes on stdin, then the validator reads its output.
    """
    input_data = input if isinstance(input, bytes) else input.read_bytes()
    answer_data = answer.read_bytes() if answer is not None else b""
    test = _Test(input_data, answer_data, tuple(args), dict(feedback or {}))
    if submission_input_file is not None:
        return _batch_pass(
            sb, submission, validator, test, submission_input_file, limits, validator_limits, images
        )
    return _interactive_pass(sb, submission, validator, test, limits, validator_limits, images)


def run_multi_pass(
    sb: Boxes,
    submission: Compiled,
    validator: Compiled,
    *,
    input: Path,
    answer: Path | None,
    args: Sequence[str],
    limits: Limits,
    validator_limits: Limits,
    images: tuple[Image, Image],
    passes: int,
    interactive: bool,
) -> InteractiveOutcome:
    """Up to `passes` passes (the problem's `validation_passes`): the first one that is not AC, or the last.

    Pass 1 gets the test's input; each further pass gets the nextpass.in of the one before, and
    the feedback files the one before left, nextpass.in removed. Time and memory limits hold for
    each pass on its own, as the spec says.
    """
    if passes < 1:
        raise ValueError(f"passes must be at least 1, not {passes}")
    pass_input = input.read_bytes()
    feedback: dict[str, bytes] = {}
    n = 0
    while True:
        n += 1
        out = run_interactive(
            sb,
            submission,
            validator,
            input=pass_input,
            answer=answer,
            args=args,
            limits=limits,
            validator_limits=validator_limits,
            images=images,
            feedback=feedback,
            submission_input_file=None if interactive else pass_input,
        )
        out = replace(out, passes=n)
        if (
            NEXTPASS in out.feedback
            and out.validator_exit not in (None, ACCEPT)
            and out.verdict_hint is not Verdict.IE
        ):
            return replace(
                out,
                verdict_hint=Verdict.IE,
                next_pass_input=None,
                reason=f"pass {n}: the validator wrote {NEXTPASS} but exited "
                f"{out.validator_exit}, not 42 (a judge error in the spec)",
            )
        if out.verdict_hint is not Verdict.AC or out.next_pass_input is None:
            return out
        if n >= passes:
            return replace(
                out,
                verdict_hint=Verdict.IE,
                next_pass_input=None,
                reason=f"the validator asked for pass {n + 1}, over the problem's "
                f"validation_passes of {passes} (a judge error in the spec)",
            )
        pass_input = out.next_pass_input
        feedback = {name: data for name, data in out.feedback.items() if name != NEXTPASS}


# -- one pass -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Test:
    input: bytes
    answer: bytes
    args: tuple[str, ...]
    feedback: dict[str, bytes]


def _command(program: Compiled, user: Limits) -> tuple[list[str], Limits, dict[str, str]]:
    """(argv, the box's limits with the language's allowance, environment) for running a program."""
    lang = program.language
    argv = expand(
        lang.run, source_name=program.source_name, memory_bytes=user.memory_bytes, main=program.main
    )
    return argv, lang.run_limits(user), lang.environment(DEFAULT_ENV)


def _put_program(box: Box, program: Compiled) -> None:
    for name, data, mode in program.files:
        box.put(name, data, mode)


def _prepare_validator(
    box: Box, validator: Compiled, test: _Test, user: Limits
) -> tuple[list[str], Limits, dict[str, str]]:
    argv, lim, env = _command(validator, user)
    _put_program(box, validator)
    box.put(INPUT_FILE, test.input)
    box.put(ANSWER_FILE, test.answer)
    for name, data in test.feedback.items():
        box.put(f"{FEEDBACK_DIR}/{name}", data, 0o666)  # the validator appends to judgemessage.txt
    if not test.feedback:
        box.put(f"{FEEDBACK_DIR}/{PLACEHOLDER}", b"")  # Box.put makes the directory, owned by the box's user
    paths = [f"{WORKDIR}/{INPUT_FILE}", f"{WORKDIR}/{ANSWER_FILE}", f"{WORKDIR}/{FEEDBACK_DIR}/"]
    return [*argv, *paths, *test.args], lim, env


def _batch_pass(
    sb: Boxes,
    submission: Compiled,
    validator: Compiled,
    test: _Test,
    stdin: bytes,
    limits: Limits,
    validator_limits: Limits,
    images: tuple[Image, Image],
) -> InteractiveOutcome:
    """A non-interactive pass: the submission on `stdin`, then the validator on what it wrote."""
    argv, lim, env = _command(submission, limits)
    with sb.box(images[0], limits=lim) as box:
        _put_program(box, submission)
        sub = box.run(argv, lim, stdin=stdin, env=env)
    if sub.status is not RunStatus.OK:  # never validated: the feedback directory is as it was seeded
        return _outcome(
            sub,
            None,
            verdict_of_run(sub.status),
            f"the submission failed: {sub.message}",
            dict(test.feedback),
            None,
        )
    with sb.box(images[1], limits=validator_limits) as box:
        vargv, vlim, venv = _prepare_validator(box, validator, test, validator_limits)
        val = box.run(vargv, vlim, stdin=sub.stdout, env=venv)
        feedback, problem = _read_feedback(box, vlim.output_bytes)
    hint, reason = judge(sub, val, validator_first=False)
    return _outcome(sub, val, hint, reason, feedback, problem)


def _interactive_pass(
    sb: Boxes,
    submission: Compiled,
    validator: Compiled,
    test: _Test,
    limits: Limits,
    validator_limits: Limits,
    images: tuple[Image, Image],
) -> InteractiveOutcome:
    sargv, slim, senv = _command(submission, limits)
    with sb.box(images[0], limits=slim) as sbox, sb.box(images[1], limits=validator_limits) as vbox:
        _put_program(sbox, submission)
        vargv, vlim, venv = _prepare_validator(vbox, validator, test, validator_limits)
        sbox.wait_ready()
        vbox.wait_ready()
        pipes = _Pipes()
        started: list[_Run] = []
        try:
            val = _Run(
                vbox,
                vargv,
                vlim,
                stdin=pipes.to_val_r,
                stdout=pipes.to_sub_w,
                env=venv,
                wake=pipes.wake_w,
                name="validator",
            )
            sub = _Run(
                sbox,
                sargv,
                slim,
                stdin=pipes.to_sub_r,
                stdout=pipes.to_val_w,
                env=senv,
                wake=pipes.wake_w,
                name="submission",
            )
            watch = _Watch(sub, val, pipes)
            for side in (val, sub):
                side.start()
                started.append(side)
            watch.run()
        finally:
            for side in started:  # both over already, unless we failed: then end them, leave no thread behind
                while not side.done:
                    side.box.kill_program()
                    side.join(0.01)
                side.join()
            pipes.close_all()
        for side in (val, sub):
            if side.error is not None:
                raise side.error
        assert sub.result is not None and val.result is not None
        sres = sub.result
        if watch.killed and sres.status is RunStatus.RTE:
            sres = replace(
                sres,
                message="stopped by the judge: the validator had already ended "
                f"(exit code {val.result.exit_code})",
            )
        vres = val.result
        if watch.validator_stopped:
            vres = replace(
                vres,
                message=f"stopped by the judge: the submission had failed {VALIDATOR_GRACE_S:g} s before",
            )
        hint, reason = judge(
            sres, vres, validator_first=watch.validator_first, validator_stopped=watch.validator_stopped
        )
        feedback, problem = _read_feedback(vbox, vlim.output_bytes)
    return _outcome(sres, vres, hint, reason, feedback, problem)


def judge(
    submission: RunResult, validator: RunResult, *, validator_first: bool, validator_stopped: bool = False
) -> tuple[Verdict, str]:
    """(verdict hint, reason): the rule of this module's docstring, step 6, on the two runs' facts.

    `validator_stopped`: we stopped the validator, long after the submission had failed first.
    """
    if validator_stopped and submission.status is not RunStatus.OK:
        return verdict_of_run(submission.status), (
            f"the submission failed: {submission.message} "
            "(the validator, still running after that, was stopped)"
        )
    code = validator_exit(validator)
    if code not in (ACCEPT, REJECT):
        what = (
            f"exited with code {code}"
            if code is not None
            else f"did not exit normally ({validator.status.value}: {validator.message})"
        )
        return Verdict.IE, f"the validator {what}; it must exit 42 or 43"
    if code == REJECT and validator_first:
        return Verdict.WA, "the validator rejected before the submission ended"
    sigpipe = _sigpipe(submission)
    if submission.status is not RunStatus.OK and not sigpipe:
        return verdict_of_run(submission.status), f"the submission failed: {submission.message}"
    if code == REJECT:
        return Verdict.WA, "the validator rejected"
    if sigpipe:
        return Verdict.AC, (
            "the validator accepted (the submission then wrote to it after it had stopped reading)"
        )
    return Verdict.AC, "the validator accepted"


def _sigpipe(run: RunResult) -> bool:
    return run.status is RunStatus.RTE and run.signal == signal.SIGPIPE


def validator_exit(validator: RunResult) -> int | None:
    """The validator's exit code, or None if it did not exit by itself (a signal, a limit)."""
    if validator.signal is not None or validator.status in (RunStatus.TLE, RunStatus.MLE, RunStatus.OLE):
        return None
    return validator.exit_code


def _outcome(
    sub: RunResult,
    val: RunResult | None,
    hint: Verdict,
    reason: str,
    feedback: dict[str, bytes],
    problem: str | None,
) -> InteractiveOutcome:
    def text(name: str) -> str:
        return feedback.get(name, b"").decode("utf-8", errors="replace")

    score: float | None = None
    if problem is None and "score.txt" in feedback:
        try:
            score = float(text("score.txt").strip())
        except ValueError:
            problem = f"score.txt is not a number: {text('score.txt')[:80]!r}"
    if problem is not None and hint is not Verdict.IE:
        hint, reason = Verdict.IE, problem
    return InteractiveOutcome(
        submission=sub,
        validator=val,
        validator_exit=val.exit_code if val is not None else None,
        verdict_hint=hint,
        judge_message=text("judgemessage.txt"),
        team_message=text("teammessage.txt"),
        score=score,
        next_pass_input=feedback.get(NEXTPASS) if hint is Verdict.AC else None,
        feedback=feedback,
        reason=reason,
    )


def _read_feedback(box: Box, max_bytes: int) -> tuple[dict[str, bytes], str | None]:
    """Every regular file in the validator's feedback directory, and what was wrong with it (IE), if anything.

    Through the box's descriptor, never following what the validator left: an entry that is not
    a regular file is skipped; a file over `max_bytes` (the validator's output limit) is IE.
    """
    try:
        dfd = box_files.open_beneath(box.workdir_fd, FEEDBACK_DIR, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as e:
        return {}, f"the validator's feedback directory is gone or was replaced: {e.strerror}"
    out: dict[str, bytes] = {}
    try:
        for name in sorted(os.listdir(dfd)):
            if name == PLACEHOLDER:
                continue
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                continue
            try:
                out[name] = box.get(f"{FEEDBACK_DIR}/{name}", max_bytes)
            except FileRefused as e:
                return out, f"the validator's feedback file {name}: {e}"
    finally:
        os.close(dfd)
    return out, None


# -- running both at once -------------------------------------------------------------------------


class _Pipes:
    """validator -> submission, submission -> validator, and a pipe that wakes the watcher; our copies."""

    def __init__(self) -> None:
        self.to_sub_r, self.to_sub_w = os.pipe()  # non-inheritable (O_CLOEXEC): no other box gets them
        self.to_val_r, self.to_val_w = os.pipe()
        self.wake_r, self.wake_w = os.pipe()
        self.open = {self.to_sub_r, self.to_sub_w, self.to_val_r, self.to_val_w, self.wake_r, self.wake_w}
        for fd in (self.to_sub_w, self.to_val_w):
            try:
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
            except OSError:
                pass  # the default 64 KiB works too, only with more round trips

    def close(self, fd: int) -> None:
        if fd in self.open:
            self.open.discard(fd)
            os.close(fd)

    def close_all(self) -> None:
        for fd in list(self.open):
            self.close(fd)


class _Run(threading.Thread):
    """One box's run in a thread of its own (Box.run blocks until the program has ended)."""

    def __init__(
        self,
        box: Box,
        argv: list[str],
        limits: Limits,
        *,
        stdin: int,
        stdout: int,
        env: dict[str, str],
        wake: int,
        name: str,
    ) -> None:
        super().__init__(name=f"interactive-{name}", daemon=True)
        self.box = box
        self.argv = argv
        self.limits = limits
        self.stdin = stdin
        self.stdout = stdout
        self.env = env
        self.wake = wake
        self.result: RunResult | None = None
        self.error: BaseException | None = None
        self.done = False  # set before the wake-up; is_alive() turns False only a moment later

    def run(self) -> None:
        try:
            self.result = self.box.run(
                self.argv, self.limits, stdin=self.stdin, stdout=self.stdout, env=self.env
            )
        except BaseException as e:  # raised again by the caller, in its own thread
            self.error = e
        finally:
            self.done = True
            try:
                os.write(self.wake, b".")
            except OSError:
                pass


class _Watch:
    """The caller's side while both programs run: our pipe ends, who ended first, the kill."""

    def __init__(self, sub: _Run, val: _Run, pipes: _Pipes) -> None:
        self.sub, self.val, self.pipes = sub, val, pipes
        self.sub_end: float | None = None
        self.val_end: float | None = None
        self.val_started = False
        self.killed = False  # the submission, after the validator ended without accepting
        self.validator_stopped = False  # the validator, long after the submission had failed first
        self.grace_until: float | None = None
        self.poller = select.poll()
        self.role: dict[int, str] = {}
        self._watch(sub.box.pidfd, select.POLLIN, "sub-over")
        self._watch(val.box.pidfd, select.POLLIN, "val-over")
        self._watch(pipes.to_val_w, 0, "val-stopped-reading")  # POLLERR: the pipe has no reader left
        self._watch(pipes.wake_r, select.POLLIN, "wake")

    def _watch(self, fd: int, events: int, role: str) -> None:
        if fd >= 0:
            self.poller.register(fd, events)
            self.role[fd] = role

    def _unwatch(self, fd: int) -> None:
        if self.role.pop(fd, None) is not None:
            self.poller.unregister(fd)

    @property
    def validator_first(self) -> bool:
        return self.val_end is not None and (self.sub_end is None or self.val_end <= self.sub_end)

    def run(self) -> None:
        while not (self.sub.done and self.val.done):
            hurry = not self.val_started or self._must_kill() or self.validator_stopped or self._failed()
            timeout = STARTING_POLL_MS if hurry else IDLE_POLL_MS
            if self.grace_until is not None and not self.validator_stopped:
                timeout = min(timeout, max(1, round((self.grace_until - time.monotonic()) * 1000)))
            events = self.poller.poll(timeout)
            now = time.monotonic()  # one instant for the whole batch: a tie is a tie (validator_first)
            for fd, _ in events:
                self._event(fd, now)
            if self.sub_end is None and self.sub.done:
                self.sub_end = now
            if self.val_end is None and self.val.done:
                self.val_end = now
            if not self.val_started and (self.val.done or _started(self.val.box)):
                # its box holds its own copies now: its program closing or exiting is seen at once
                self.val_started = True
                self.pipes.close(self.pipes.to_sub_w)
                self.pipes.close(self.pipes.to_val_r)
            if self.sub_end is not None and self.pipes.to_val_w in self.pipes.open:
                self._unwatch(self.pipes.to_val_w)
                self.pipes.close(self.pipes.to_val_w)  # only now may the validator see EOF
                self._watch(self.pipes.to_sub_r, select.POLLIN, "drain")
            if self._must_kill():
                self.killed = True
                self.sub.box.kill_program()
            self._grace(now)
            if self._failed():  # the box could not run the submission: the caller raises; end the validator
                self.val.box.kill_program()

    def _failed(self) -> bool:
        return self.sub.error is not None and not self.val.done

    def _grace(self, now: float) -> None:
        """A submission that failed first has its verdict, whatever the validator says unless it crashes.

        The validator gets VALIDATOR_GRACE_S to end by itself (problemtools calls a crash then a
        judge error, and so do we); after that it is stopped, and its end no longer matters: a
        validator still answering a submission's backlog of queries (domjudge/boolfind's
        boolfind-test-loop) must not run into its own limit and turn a TLE into IE.
        """
        if self.val.done or not self.sub.done or self.val_end is not None:
            return
        if self.grace_until is None:
            res = self.sub.result
            if res is None or res.status is RunStatus.OK or _sigpipe(res):
                return  # it ended well, or the validator decides: the validator must finish
            self.grace_until = now + VALIDATOR_GRACE_S
        if now >= self.grace_until:
            self.validator_stopped = True
            self.val.box.kill_program()

    def _event(self, fd: int, now: float) -> None:
        role = self.role.get(fd)
        if role == "wake":
            os.read(fd, 64)
            return
        if role == "drain":  # the submission is gone; what the validator still writes goes nowhere
            if not os.read(fd, 1 << 16):
                self._unwatch(fd)
            return
        self._unwatch(fd)
        if role == "sub-over" and self.sub_end is None:
            self.sub_end = now
        elif role in ("val-over", "val-stopped-reading") and self.val_end is None:
            self.val_end = now

    def _must_kill(self) -> bool:
        """The validator has ended without accepting while the submission runs on: its verdict is settled."""
        if not self.val.done or self.sub.done:
            return False
        res = self.val.result
        return res is None or validator_exit(res) != ACCEPT


def _started(box: Box) -> bool:
    """GO has reached the box: init has forked the program (or the box is already over)."""
    return box.processes() != {box.init_pid}
