"""One submission graded from its id: the body of the worker's `judge.grade` task.

Theory of operation. The task carries only the submission's id and the generation it was sent
for; everything else is read from the database. Several workers may be handed the same task
(late acknowledgement, a worker lost and its task delivered again, a reaped grading), so a
grading first takes the submission's lease in Redis and then claims it in the database
(judge/service/leases.py, repo.claim): a task for an old generation, for a submission already
graded, or one that another live grading holds, does nothing. Every later write names the
claim, and a grading that lost it (given up on by a reaper, or rejudged) stores nothing. Each
step commits before it is published, so an API client that hears an event and then reads the
submission finds at least that much:

1. state `compiling`, held by this grading (committed, published).
2. A problem's submission: the problem's package, unpacked under the data directory, is
   loaded once per worker process and kept with its Grader (whose output validator is then
   compiled once too). The Grader compiles the submission, then runs test after test (on
   several boxes at once while the worker's other cores are idle, `lanes`: judge/cores.py,
   with the same results in the same order); the first test flips the state to `running`,
   and each result is published as it comes, in test order.
   An ad hoc run (no problem): compile, run once on its stdin under its own limits (default
   2 s, 256 MiB, as `judge run`), and if an expected output was given, compare it with the
   default output validator (tokens, case-sensitive): AC or WA; without one, a run that ends
   well is AC. Its stdout, stderr, exit code and signal are kept.
3. The result is recorded (state `done`) and a `done` event carries the whole document.

Our failures make the submission IE with the reason in `message`: never the contestant's fault,
and a rejudge clears it. Verdicts are recorded, never raised. Two kinds of failure pass, so
they are tried again before anything is recorded (tests/service/test_faults.py plays both out):

* The host's (a box whose cgroup, mounts or tmpfs cannot be made: SandboxError, raised, or
  left by the Grader as an IE test; an OSError): the whole grading runs again, up to
  `attempts` times, `retry_s` apart and doubling, each failure logged; only the last one's
  IE is recorded, its cause in `message`. An IE the package causes (a validator that does
  not build) cannot be told from a box's once it is a test's verdict, so it is tried again
  too: IE asks for a rejudge, and this is one. Anything else raised (a package that no
  longer loads, a bug) is IE at once.
* The database's (locked by another writer past SQLite's busy timeout, or away): every write
  is tried again with backoff for `db_retry_s`. A write that still fails gives the grading
  up (StorageUnavailable) without a result: before the claim, the task tries again later
  (worker/tasks.py); after it, the lease is released and the reaper puts the submission
  back once the database answers. Nothing is marked wrongly for want of a database.
"""

from __future__ import annotations

import io
import json
import logging
import shlex
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import redis
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

import sandbox
from judge import cores, execution, images, languages
from judge.checkers import default as default_checker
from judge.errors import JudgeError
from judge.grading import GradedTest, Grader
from judge.problems import package
from judge.problems.model import ProblemPackage
from judge.service import judge0, leases, problems, progress
from judge.service.documents import submission_json
from judge.storage import repo
from judge.storage.models import Problem, Submission, SubmissionState
from judge.submission import Source
from judge.verdict import Status, Verdict, verdict_of_run
from sandbox import Limits, MiB, SandboxError

log = logging.getLogger(__name__)

AD_HOC_TIME_S = 2.0
AD_HOC_MEMORY_MIB = 256
AD_HOC_OUTPUT_BYTES = 64 * MiB
KEPT_OUTPUT_BYTES = 1 * MiB  # of an ad hoc run's stdout and stderr, each
GRADER_CACHE = 16  # problems a worker process keeps loaded
DATABASE_ERRORS = (OperationalError, InterfaceError)  # locked, gone, connection lost: not a bug
DB_FIRST_PAUSE_S = 0.5  # between tries of a refused write; doubles up to DB_MAX_PAUSE_S
DB_MAX_PAUSE_S = 5.0
T = TypeVar("T")


class StorageUnavailable(JudgeError):
    """The database refused a write for longer than the service's `db_retry_s`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What one grading found, as repo.record_result stores it: built once, where the grading ends."""

    verdict: Verdict
    score: float | None = None
    time_s: float | None = None  # CPU, the largest over the tests
    memory_bytes: int | None = None  # peak, the largest over the tests
    compile_output: str | None = None
    message: str | None = None
    tests: tuple[repo.TestOutcome, ...] = ()
    run: repo.RunOutput | None = None  # an ad hoc run's own output; a problem's submissions keep none


@dataclass(frozen=True, slots=True)
class Graded:
    """A finished grading: the submission's document, and where to post it (if anywhere)."""

    document: dict[str, Any]
    callback_url: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    """An ad hoc run's options, as the web stored them (Judge0's names, web/judge0.py), read once.

    Sizes in KiB and times in seconds where Judge0 gives them so; None where the option is unset
    and the run takes the service's default. `stored` is the whole stored mapping, for
    judge/service/judge0.program (`additional_files`, `language_id`)."""

    wall_time_limit_s: float | None = None
    max_file_size_kib: int | None = None
    stack_limit_kib: int | None = None
    max_processes: int | None = None
    compiler_options: str = ""
    command_line_arguments: str = ""
    number_of_runs: int = 1
    redirect_stderr_to_stdout: bool = False
    compare: str | None = None  # "judge0": line by line; else Kattis's default checker
    checker_args: tuple[str, ...] = ()
    stored: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, opts: dict[str, Any]) -> RunOptions:
        return cls(
            wall_time_limit_s=float(opts["wall_time_limit"]) if opts.get("wall_time_limit") else None,
            max_file_size_kib=int(opts["max_file_size"]) if opts.get("max_file_size") else None,
            stack_limit_kib=int(opts["stack_limit"]) if opts.get("stack_limit") else None,
            max_processes=int(opts["max_processes_and_or_threads"])
            if opts.get("max_processes_and_or_threads")
            else None,
            compiler_options=str(opts.get("compiler_options") or ""),
            command_line_arguments=str(opts.get("command_line_arguments") or ""),
            number_of_runs=max(1, int(opts.get("number_of_runs") or 1)),
            redirect_stderr_to_stdout=bool(opts.get("redirect_stderr_to_stdout")),
            compare=opts.get("compare"),
            checker_args=tuple(opts.get("checker_args") or ()),
            stored=opts,
        )


@dataclass(frozen=True, slots=True)
class _Job:
    """What grading needs of a submission, read in one short transaction: no database session
    stays open while boxes run (on SQLite an open reader would hold the WAL back)."""

    id: int
    language: str
    source: bytes
    stdin: bytes | None
    expected_output: bytes | None
    time_limit_s: float | None
    memory_mib: int | None
    problem_id: str | None
    problem_path: str | None
    problem_time_limit_s: float
    options: dict[str, Any]

    @classmethod
    def of(cls, session: Session, sub: Submission) -> _Job:
        row = session.get(Problem, sub.problem_id) if sub.problem_id is not None else None
        return cls(
            id=sub.id,
            language=sub.language,
            source=sub.source,
            stdin=sub.stdin,
            expected_output=sub.expected_output,
            time_limit_s=sub.time_limit_s,
            memory_mib=sub.memory_mib,
            problem_id=sub.problem_id,
            problem_path=row.path if row is not None else None,
            problem_time_limit_s=row.time_limit_s if row is not None else 0.0,
            options=json.loads(sub.options) if sub.options else {},
        )


@dataclass(slots=True)
class _Loaded:
    problem: ProblemPackage
    grader: Grader


class GradingService:
    """Grades submissions by id in one worker process; thread-safe, and keeps packages loaded."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        data_dir: Path,
        redis_client: redis.Redis,
        sb: sandbox.Sandbox,
        attempts: int = 3,
        retry_s: float = 2.0,
        db_retry_s: float = 60.0,
        step_sessions: sessionmaker[Session] | None = None,
    ) -> None:
        self.sessions = sessions
        # the claim and `running`, which need not wait for the disk: the result's durable commit
        # syncs them too (judge/storage/db.py, durable=False); default: `sessions`
        self.step_sessions = step_sessions or sessions
        self.data_dir = data_dir
        self.redis = redis_client
        self.sb = sb
        self.attempts = max(1, attempts)  # gradings of one task while boxes fail (module docstring)
        self.retry_s = retry_s  # the first pause between them; doubles
        self.db_retry_s = db_retry_s  # how long a refused database write is tried again
        self._graders: dict[tuple[str, str, float], _Loaded] = {}
        self._lock = threading.Lock()
        # called with a first grading's latency (created to finished, s): the worker's metrics
        self.on_judged: Callable[[float], None] | None = None
        # the idle cores a problem's tests may borrow (judge/cores.py), set by a judge worker's
        # pool process; None: one test at a time
        self.lanes: cores.Lanes | None = None

    def publish(self, submission_id: int, event: dict[str, Any]) -> None:
        progress.publish(self.redis, submission_id, event)

    def _set_state(self, submission_id: int, state: SubmissionState, claim: repo.Claim) -> None:
        def write() -> None:
            with self.step_sessions.begin() as session:
                repo.set_state(session, submission_id, state, claim=claim)

        self._stored(f"submission {submission_id}: set its state to {state.value}", write)
        self.publish(submission_id, {"event": "state", "state": state.value})

    def _stored(self, what: str, transaction: Callable[[], T]) -> T:
        """`transaction()` (one whole transaction), tried again with backoff while the database
        refuses it (locked past the busy timeout, or away), for `db_retry_s`; then
        StorageUnavailable. Anything else it raises (LostClaim) passes at once."""
        deadline = time.monotonic() + self.db_retry_s
        pause, tries = DB_FIRST_PAUSE_S, 1
        while True:
            try:
                return transaction()
            except DATABASE_ERRORS as e:
                cause = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StorageUnavailable(
                        f"{what}: the database refused it {tries} times in "
                        f"{self.db_retry_s:g} s (JUDGE_DB_RETRY_S); the last: "
                        f"{cause}"
                    ) from e
                log.warning(
                    "%s: the database refused it (%s); trying again in %.1f s (try %d)",
                    what,
                    cause,
                    min(pause, left),
                    tries,
                )
                time.sleep(min(pause, left))
                pause, tries = min(pause * 2, DB_MAX_PAUSE_S), tries + 1

    def grade(
        self, submission_id: int, generation: int | None = None, *, on_claim: Callable[[], None] | None = None
    ) -> Graded | None:
        """Grade and record; the finished document, or None when there was nothing for this task
        to do (no such submission, an old generation, already graded, or held by another) or
        the database refused the result (the reaper puts the submission back). `on_claim` is
        called once the claim is taken, before anything is graded (the fair queue's release).

        StorageUnavailable when the database refuses the claim: the submission is still
        queued, so the task must be tried again (worker/tasks.py)."""
        if generation is None:  # a task from before generations: whatever is current

            def current() -> int:
                with self.sessions() as session:
                    row = session.get(Submission, submission_id)
                    return row.generation if row is not None else 0

            generation = self._stored(f"submission {submission_id}: read its generation", current)
        holder = leases.holder_name()
        lease = leases.acquire(self.redis, submission_id, generation, holder)
        if lease is None:
            log.info("submission %s generation %s is being graded elsewhere", submission_id, generation)
            return None
        with lease:

            def take() -> tuple[repo.Claim | None, _Job | None]:
                with self.step_sessions.begin() as session:
                    claim = repo.claim(session, submission_id, generation, holder)
                    row = session.get(Submission, submission_id) if claim else None
                    return claim, (_Job.of(session, row) if row is not None else None)

            try:
                claim, job = self._stored(f"submission {submission_id}: claim it", take)
            except repo.StorageError:
                log.warning("submission %s is gone; nothing to grade", submission_id)
                return None
            if claim is None or job is None:
                log.info(
                    "submission %s generation %s: already graded or queued again; nothing to do",
                    submission_id,
                    generation,
                )
                return None
            if on_claim is not None:
                on_claim()
            self.publish(submission_id, {"event": "state", "state": SubmissionState.COMPILING.value})
            try:
                try:
                    outcome = self._attempts(job, claim)
                except repo.LostClaim as e:
                    log.warning("%s; dropping this grading", e)
                    return None
                try:
                    graded, latency = self._stored(
                        f"submission {submission_id}: store its result",
                        lambda: self._record(submission_id, claim, outcome),
                    )
                except repo.LostClaim as e:
                    log.warning("%s; its result is dropped", e)
                    return None
            except StorageUnavailable as e:
                log.error(
                    "%s. Submission %s is left to the reaper: it is queued again once its lease "
                    "is gone and the database answers",
                    e,
                    submission_id,
                )
                return None
            # the metrics before `done` (a client that heard it finds the grading counted), and
            # both before the lease's release, a thread's join and a round trip that can wait
            if self.on_judged is not None and latency is not None:
                self.on_judged(latency)
            self.publish(submission_id, {"event": "done", "submission": graded.document})
        return graded

    def _attempts(self, job: _Job, claim: repo.Claim) -> Outcome:
        """The outcome to record: graded up to `attempts` times while the host fails, then IE
        (module docstring). LostClaim and StorageUnavailable pass: there is nothing to record."""
        pause = self.retry_s
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                self._set_state(job.id, SubmissionState.COMPILING, claim)  # its tests come again
            try:
                outcome = self._ad_hoc(job, claim) if job.problem_id is None else self._problem(job, claim)
                failure = _host_failure(outcome)
            except (repo.LostClaim, StorageUnavailable):
                raise
            except (SandboxError, OSError) as e:
                outcome, failure = Outcome(verdict=Verdict.IE), f"{type(e).__name__}: {e}"
            except Exception as e:  # whatever failed is ours: IE, never the contestant's
                log.exception("grading submission %s failed", job.id)
                return Outcome(verdict=Verdict.IE, message=f"internal error: {e}")
            if failure is None:
                if attempt > 1:
                    log.warning("submission %s: attempt %d of %d succeeded", job.id, attempt, self.attempts)
                return outcome
            if attempt == self.attempts:
                log.error(
                    "submission %s: attempt %d of %d failed (%s); it is IE",
                    job.id,
                    attempt,
                    self.attempts,
                    failure,
                )
                message = f"internal error after {self.attempts} attempts: {failure}"
                return replace(outcome, message=outcome.message or message)
            log.warning(
                "submission %s: attempt %d of %d failed (%s); grading it again in %.1f s",
                job.id,
                attempt,
                self.attempts,
                failure,
                pause,
            )
            time.sleep(pause)
            pause *= 2
        raise AssertionError("unreachable: the last attempt returns")

    def _record(self, submission_id: int, claim: repo.Claim, outcome: Outcome) -> tuple[Graded, float | None]:
        with self.sessions.begin() as session:
            done = repo.record_result(
                session,
                submission_id,
                claim=claim,
                verdict=outcome.verdict,
                score=outcome.score,
                time_s=outcome.time_s,
                memory_bytes=outcome.memory_bytes,
                compile_output=outcome.compile_output,
                tests=outcome.tests,
                message=outcome.message,
                run=outcome.run,
            )
            graded = Graded(submission_json(done), done.callback_url)
            finished = done.finished_at or done.created_at
            # from submitting to the verdict; a rejudge has no submitting moment of its own
            latency = (finished - done.created_at).total_seconds() if claim.generation == 0 else None
        return graded, latency

    # -- a problem's submission ----------------------------------------------------------------

    def _loaded(self, problem_id: str, path: str, time_limit_s: float) -> _Loaded:
        key = (problem_id, path, time_limit_s)
        with self._lock:
            if key not in self._graders:
                if len(self._graders) >= GRADER_CACHE:
                    self._graders.pop(next(iter(self._graders)))
                problem = package.load(problems.ensure_local(self.sessions, self.data_dir, path))
                self._graders[key] = _Loaded(problem, Grader(problem, time_limit_s=time_limit_s, sb=self.sb))
            return self._graders[key]

    def _problem(self, sub: _Job, claim: repo.Claim) -> Outcome:
        if sub.problem_path is None:
            raise JudgeError(f"problem {sub.problem_id!r} is gone")
        if sub.problem_time_limit_s <= 0:
            raise JudgeError(f"problem {sub.problem_id!r} states no time limit and has not been verified yet")
        assert sub.problem_id is not None
        loaded = self._loaded(sub.problem_id, sub.problem_path, sub.problem_time_limit_s)
        submission_id = sub.id
        started = [False]

        def before(_name: str) -> None:
            if not started[0]:
                started[0] = True
                self._set_state(submission_id, SubmissionState.RUNNING, claim)

        def after(index: int, t: GradedTest) -> None:
            self.publish(
                submission_id,
                {
                    "event": "test",
                    "index": index,
                    "name": t.name,
                    "verdict": t.verdict.value,
                    "time": round(t.time_s, 3),
                    "memory": t.memory,
                },
            )

        source = Source.single(languages.by_id(sub.language).source_name, sub.source)
        result = loaded.grader.grade(source, sub.language, progress=before, on_test=after, lanes=self.lanes)
        tests = tuple(
            repo.TestOutcome(
                index=i,
                name=t.name,
                verdict=t.verdict,
                time_s=t.time_s,
                wall_s=t.wall_s,
                memory_bytes=t.memory,
                message=t.message or None,
                score=t.score,
            )
            for i, t in enumerate(result.tests)
        )
        return Outcome(
            verdict=result.verdict,
            score=result.score,
            time_s=result.max_time if result.tests else None,
            memory_bytes=result.max_memory if result.tests else None,
            compile_output=result.compile_output or None,
            message=result.message or None,
            tests=tests,
        )

    # -- an ad hoc run -------------------------------------------------------------------------

    def _ad_hoc(self, sub: _Job, claim: repo.Claim) -> Outcome:
        """One program on one stdin; `sub.options` may ask for Judge0's settings (judge0.py)."""
        opts = RunOptions.of(sub.options)
        lang = languages.by_id(sub.language)
        time_s = sub.time_limit_s or AD_HOC_TIME_S
        cpu_ms = max(1, round(time_s * 1000))
        wall_ms = round(opts.wall_time_limit_s * 1000) if opts.wall_time_limit_s is not None else 3 * cpu_ms
        file_bytes = opts.max_file_size_kib * 1024 if opts.max_file_size_kib is not None else None
        limits = Limits(
            cpu_time_ms=cpu_ms,
            wall_time_ms=wall_ms,  # Judge0's may be under the CPU limit
            memory_bytes=(sub.memory_mib or AD_HOC_MEMORY_MIB) * MiB,
            output_bytes=file_bytes or AD_HOC_OUTPUT_BYTES,
            file_size_bytes=file_bytes or Limits().file_size_bytes,
            stack_bytes=opts.stack_limit_kib * 1024 if opts.stack_limit_kib is not None else None,
            processes=Limits().processes if opts.max_processes is None else opts.max_processes,
        )
        image = images.get(lang.image)
        flags = shlex.split(opts.compiler_options)
        try:  # Judge0's additional_files (and Plain Text's and Executable's file): in the compile box too
            source, extra = judge0.program(opts.stored, lang.id, sub.source)
        except judge0.FilesRefused as e:  # a name the program's own files take: the submitter's fault
            return Outcome(verdict=Verdict.CE, message=str(e))
        entry = lang.source_file(source.decode("utf-8", errors="replace"))
        files = Source(((entry, source), *((n, d) for n, d, _ in extra)), "judge0") if extra else source
        compiled = execution.compile_source(
            self.sb, lang, files, image=image, flags=flags, main=entry if extra else None
        )
        if isinstance(compiled, execution.CompileFailure):
            return Outcome(
                verdict=Verdict.CE, compile_output=compiled.output, message=compiled.message or None
            )
        modes = {name: mode for name, _, mode in extra}
        compiled = replace(compiled, files=tuple((n, d, modes.get(n, m)) for n, d, m in compiled.files))
        args = shlex.split(opts.command_line_arguments)
        self._set_state(sub.id, SubmissionState.RUNNING, claim)
        runs = []
        for _ in range(opts.number_of_runs):  # Judge0: stop at the first failure
            with tempfile.TemporaryFile(prefix="judge-output-") as spool:  # never the whole output in memory
                run = execution.run_program(
                    self.sb, compiled, limits, image=image, stdin=sub.stdin or b"", args=args, stdout_to=spool
                )
                spool.seek(0)
                verdict, message = self._ad_hoc_verdict(sub, opts, run, spool)
                spool.seek(0)
                run = replace(run, stdout=spool.read(KEPT_OUTPUT_BYTES))
            runs.append((run, verdict, message))
            if verdict is not Verdict.AC:
                break
        run, verdict, message = runs[-1]
        time_avg = sum(r.cpu_time_ms for r, _, _ in runs) / len(runs) / 1000
        wall_avg = sum(r.wall_time_ms for r, _, _ in runs) / len(runs) / 1000
        memory_avg = round(sum(r.memory_bytes for r, _, _ in runs) / len(runs))
        test = repo.TestOutcome(
            index=0,
            name="stdin",
            verdict=verdict,
            time_s=time_avg,
            wall_s=wall_avg,
            memory_bytes=memory_avg,
            message=message,
        )
        self.publish(
            sub.id,
            {
                "event": "test",
                "index": 0,
                "name": "stdin",
                "verdict": verdict.value,
                "time": round(test.time_s, 3),
                "memory": test.memory_bytes,
            },
        )
        stdout, stderr = run.stdout, run.stderr
        if opts.redirect_stderr_to_stdout:
            stdout, stderr = stdout + stderr, b""
        return Outcome(
            verdict=verdict,
            time_s=test.time_s,
            memory_bytes=test.memory_bytes,
            compile_output=compiled.compile_output or None,
            message=message,
            tests=(test,),
            run=repo.RunOutput(
                stdout=stdout[:KEPT_OUTPUT_BYTES],
                stderr=stderr[:KEPT_OUTPUT_BYTES],
                exit_code=run.exit_code,
                signal=run.signal,
            ),
        )

    @staticmethod
    def _ad_hoc_verdict(
        sub: _Job, opts: RunOptions, run: execution.Execution, stdout: BinaryIO
    ) -> tuple[Verdict, str | None]:
        """The run's verdict; `stdout` is its output, spooled to a file (at its start)."""
        message = run.message or None
        if run.status is not Status.OK:
            return verdict_of_run(run.status), message
        if sub.expected_output is None:
            return Verdict.AC, message
        if opts.compare == "judge0":  # line by line: read whole, up to the output limit
            return (Verdict.AC if judge0.compare(sub.expected_output, stdout.read()) else Verdict.WA), message
        check = default_checker.check_streams(io.BytesIO(sub.expected_output), stdout, opts.checker_args)
        return (Verdict.AC if check.accepted else Verdict.WA), check.message or message


def _host_failure(outcome: Outcome) -> str | None:
    """Why a finished grading is IE (its first IE test's message), or None when it is not."""
    if outcome.verdict is not Verdict.IE:
        return None
    found = next((t.message for t in outcome.tests if t.verdict is Verdict.IE and t.message), None)
    return str(found or outcome.message or "internal error").removeprefix("internal error: ")


__all__ = ["Graded", "GradingService", "Outcome", "RunOptions", "SandboxError", "StorageUnavailable"]
