"""Starting a worker: the language self-tests, then Celery on the queues of the languages that pass.

1. The database schema is brought up to date (a no-op when it is).
2. Every language (or those of `--languages`) whose image is here (built or imported) runs
   its self-test in real boxes (judge/selftest.py, as `judge languages` shows). A language
   without its image, or that fails, is refused: its queue is not consumed here, and the
   reason is printed and announced.
3. Celery's prefork pool starts with one process per CPU of this machine's allowed set (or
   `--concurrency`); each pool process boxes on its own CPU (worker/tasks.py), so two runs never
   share a core and timings do not fight. The worker consumes `judge.lang.<id>` for each
   accepted language and `judge.service`.
4. A heartbeat announces the worker in Redis (judge/service/workers.py) until it stops, and a
   reaper puts back the submissions whose grading lost its holder, on any machine
   (judge/service/leases.py): every worker runs one, and they never both put one back. A
   refiler does the same for what a lost worker took from the fair queue but never claimed
   (judge/service/queue.py).

Ctrl-C (SIGINT) or SIGTERM is Celery's warm shutdown: running gradings finish, nothing new is
taken; a second Ctrl-C stops at once, and those tasks, never acknowledged, are delivered again.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
import warnings

import click
import redis
from celery import Celery
from sqlalchemy.orm import Session, configure_mappers, sessionmaker

import sandbox
from judge import languages, selftest
from judge.errors import JudgeError
from judge.service import leases, queue, workers
from judge.service.settings import Settings
from judge.storage import connect, migrate, session_factory
from judge.storage.models import Submission, SubmissionState

log = logging.getLogger(__name__)


def _cpus(spec: str | None) -> list[int]:
    if not spec:
        return sorted(os.sched_getaffinity(0))
    found: list[int] = []
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        found += range(int(lo), int(hi or lo) + 1)
    return found


@click.command()
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(1, 256),
    default=None,
    help="Pool processes (boxes at a time); default: one per allowed CPU.",
)
@click.option("--cpus", default=None, help="CPUs to pin boxes to, e.g. 0-3 or 0,2; default: all allowed.")
@click.option(
    "--languages",
    "only",
    default=None,
    help="Comma-separated language ids to offer (default: all that pass their self-test).",
)
@click.option("--name", default=None, help="This worker's name (default: judge-<host>-<pid>).")
@click.option("--loglevel", default="INFO", show_default=True)
def main(
    concurrency: int | None, cpus: str | None, only: str | None, name: str | None, loglevel: str
) -> None:
    """Run a judge worker: grade submissions from the queue in boxes."""
    settings = Settings.from_env()
    try:
        cpu_list = _cpus(cpus)
        wanted = (
            [languages.by_id(x.strip()) for x in only.split(",") if x.strip()]
            if only
            else list(languages.LANGUAGES)
        )
    except (ValueError, JudgeError) as e:
        raise click.UsageError(str(e)) from None
    migrate(settings.database_url)
    t0 = time.monotonic()
    unbuilt = selftest.without_images(wanted)  # not offered, and no self-test spent on them
    reports = selftest.check_all(sandbox.default(), [lang for lang in wanted if lang.id not in unbuilt])
    accepted = [r.language.id for r in reports if r.ok]
    refused = {r.language.id: r.self_test for r in reports if not r.ok}
    if unbuilt:
        click.echo(
            f"judge worker: not offering {len(unbuilt)} languages whose image is not here: "
            f"{', '.join(unbuilt)} (`judge images build --languages ...` builds them)",
            err=True,
        )
    click.echo(
        f"judge worker: self-tests in {time.monotonic() - t0:.1f} s: {len(accepted)} languages ok"
        + (f" ({', '.join(accepted)})" if accepted else ""),
        err=True,
    )
    for lang, why in refused.items():
        click.echo(f"judge worker: refusing {lang}: its self-test failed: {why}", err=True)
    if not accepted:
        click.echo("judge worker: no language passed its self-test; nothing to do", err=True)
        sys.exit(1)
    n = concurrency or len(cpu_list)
    os.environ["JUDGE_WORKER_CPUS"] = ",".join(str(c) for c in cpu_list)
    name = name or f"judge-{socket.gethostname()}-{os.getpid()}"
    queues = [queue.language_queue(x) for x in accepted] + [queue.SERVICE_QUEUE]
    info = {
        "name": name,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "concurrency": n,
        "cores": os.cpu_count() or len(cpu_list),
        "cpus": cpu_list,
        "queues": queues,
        "languages": accepted,
        "refused": {**unbuilt, **refused},
        "versions": {r.language.id: r.version for r in reports if r.ok},
        "started_at": time.time(),
    }
    os.environ["JUDGE_WORKER_NAME"] = name  # pool processes hold leases as <name>/<pid>
    stop = threading.Event()
    client = queue.redis_client(settings.redis_url, socket_timeout=10, socket_connect_timeout=5)
    beat = workers.heartbeat(client, info, stop)
    sender = queue.client(settings.redis_url)
    sessions = session_factory(connect(settings.database_url))
    # Mappers configured here, once, before any thread queries: the reaper's first query would
    # configure them under SQLAlchemy's module lock, and a pool process forked at that moment
    # inherits the lock held and hangs at its first query until the soft time limit (seen in
    # tests/service/test_faults.py, where the lease is 2 s).
    configure_mappers()
    reaper = leases.reaper(
        sessions,
        client,  # a reaped grading waited already: first in line
        lambda sid, lang, gen: queue.enqueue_grade(sender, sid, lang, gen, kind="retry"),
        stop,
    )
    refiler = _refiler(sessions, client, sender, stop)
    from celery.exceptions import SecurityWarning

    from worker.app import app  # after the environment is set: its pool processes inherit it

    # Celery warns against root; the sandbox needs it (cgroups, namespaces), and what runs in a
    # box runs as an unprivileged uid of its own (sandbox/uids.py), not as root.
    warnings.filterwarnings("ignore", category=SecurityWarning)

    try:
        app.worker_main(
            [
                "worker",
                "-Q",
                ",".join(queues),
                "-c",
                str(n),
                "-n",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "-l",
                loglevel,
                "-P",
                "prefork",
            ]
        )
    finally:
        stop.set()
        beat.join(timeout=2)
        reaper.join(timeout=2)
        refiler.join(timeout=2)


def _refiler(
    sessions: sessionmaker[Session], client: redis.Redis, sender: Celery, stop: threading.Event
) -> threading.Thread:
    """A daemon thread that files again, every lease period, what a lost worker took from the
    fair queue but never claimed (judge/service/queue.py `refile_lost`)."""

    def still_queued(submission_id: int, generation: int) -> bool:
        with sessions() as session:
            row = session.get(Submission, submission_id)
            return row is not None and row.state is SubmissionState.QUEUED and row.generation == generation

    def loop() -> None:
        while not stop.wait(leases.lease_s()):
            try:
                again = queue.refile_lost(
                    client, still_queued, lambda sid, lang, gen: queue.send_ticket(sender, sid, lang, gen)
                )
                for sid in again:
                    log.warning(
                        "submission %s: taken from the fair queue by a grading that never claimed "
                        "it; filed again",
                        sid,
                    )
            except Exception as e:  # away or broken: said in a line, tried again later
                log.warning("refiling waits: %s", str(e).splitlines()[0] if str(e) else type(e).__name__)

    thread = threading.Thread(target=loop, name="judge-refiler", daemon=True)
    thread.start()
    return thread
