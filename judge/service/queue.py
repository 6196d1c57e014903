"""The Celery side that the web and the workers share: configuration, task names and queues.

The web never imports the worker's code: it sends tasks by name through `client(url)`, a Celery
app with the same configuration and no tasks of its own. Queues:

* `judge.lang.<id>`, one per language: a submission goes to its language's queue, and a worker
  consumes only the queues of the languages whose self-tests passed when it started, so a
  broken toolchain is never handed work (it waits until a worker that has it comes).
* `judge.service`: webhook deliveries and problem verification, taken by every worker.

Delivery: late acknowledgement (a task is acknowledged after it ran, so one lost with its worker
is delivered again) and a prefetch of one (a worker holds no queue of its own that others could
have taken). Redis redelivers unacknowledged tasks after the visibility timeout, which is sized
to the longest job: `JUDGE_MAX_JOB_S` (default 1200 s) bounds one grading (a soft time limit
makes a grading that runs longer IE, a hard one kills it 30 s later), and the visibility timeout
is that plus 5 minutes, so a task is never handed out again while its first grading can still
be running. Losing a worker does not wait that long: the reaper (judge/service/leases.py) puts
its submissions back within seconds, and a grade task carries the submission's generation, so a
late second delivery finds its generation graded and does nothing.

Fair shares (issue 17, finding 6). A language's queue alone is first come, first served: one
user's 200 slow runs would hold everyone else's submission behind them. So a grade task is a
ticket, not an order: sending one also files the submission in Redis under its language, its
class and its user, and a worker that receives a ticket grades whichever filed submission is
due (`take`), not necessarily the ticket's own. Due means:

* by class, strictly: `retry` (a grading the reaper took back from a lost worker: it waited
  already), then `contest` (submissions to problems), then `adhoc` (ad hoc runs and the Judge0
  API), then `rejudge` (organisers' rejudges). Contest submissions never wait behind ad hoc
  traffic, however much of it there is.
* within a class, by user, round robin: the user served longest ago goes first, a newcomer
  before the one just served. So a user's backlog delays another user's submission by at most
  the gradings already running when it came, one per pool process.

There is one ticket per filed submission, so every filed one is taken by some ticket. The
steps that could lose one are covered: `take` moves the entry, in one Lua script, into
`judge:fair:taken` with a deadline; the grading that claims it (or finds it graded, or held by
another) removes it (`release`); and the reaper files a taken entry whose deadline passed
again, with a new ticket, if the submission is still queued in that generation (the worker
died between taking and claiming). A ticket that finds nothing filed grades its own
submission, as before; a stale entry (a generation rejudged since, a submission graded by its
own ticket's fallback) is claimed by nobody and skipped. Leases and generations (leases.py)
still make sure nothing is graded twice.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import redis
from celery import Celery

from judge.service.settings import Settings

GRADE_TASK = "judge.grade"
WEBHOOK_TASK = "judge.deliver_webhook"
VERIFY_TASK = "judge.verify_problem"
LANGUAGE_QUEUE_PREFIX = "judge.lang."
SERVICE_QUEUE = "judge.service"
VISIBILITY_MARGIN_S = 300.0
HARD_LIMIT_MARGIN_S = 30.0


def max_job_s() -> float:
    """`JUDGE_MAX_JOB_S`: the longest one grading may take (default 1200 s)."""
    return Settings.from_env().max_job_s


def visibility_timeout_s() -> float:
    return max_job_s() + VISIBILITY_MARGIN_S


def language_queue(language: str) -> str:
    return f"{LANGUAGE_QUEUE_PREFIX}{language}"


def configure(app: Celery, redis_url: str) -> None:
    app.conf.update(
        broker_url=redis_url,
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=SERVICE_QUEUE,
        task_serializer="json",
        accept_content=["json"],
        broker_transport_options={"visibility_timeout": visibility_timeout_s()},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        # a lost broker connection leaves running gradings alone (Celery 6 would cancel them):
        # their leases and the reaper decide what happens to them
        worker_cancel_long_running_tasks_on_connection_loss=False,
        enable_utc=True,
    )


@functools.cache
def client(redis_url: str) -> Celery:
    """A send-only Celery app for `redis_url` (one per process and URL). No send waits for a
    result (ignore_result), and its (disabled) result backend is made once for the process:
    Celery keeps one per thread, and under the web's gevent (web/server.py) every request is a
    thread of its own, so each send looked the backend up again by scanning every installed
    package's entry points (about 15 ms of a POST's 40)."""
    app = Celery("judge-client", set_as_current=False)
    configure(app, redis_url)
    app._backend_cache = app.backend  # what Celery does itself for a backend it calls thread-safe
    return app


FAIR_PREFIX = "judge:fair:"
TAKEN_KEY = f"{FAIR_PREFIX}taken"
CLASSES = ("retry", "contest", "adhoc", "rejudge")  # most urgent first (module docstring)
TAKE_DEADLINE_S = 120.0  # a taken entry whose grading has not claimed it by then is filed again

# KEYS: the class's user set, the class's turn counter, the user's list. ARGV: user, entry,
# "front" to file it first (an entry the reaper files again). A newcomer goes before the user
# served last (score turn - 0.5), after everyone else already waiting.
_FILE = """
if ARGV[3] == 'front' then redis.call('lpush', KEYS[3], ARGV[2])
else redis.call('rpush', KEYS[3], ARGV[2]) end
if not redis.call('zscore', KEYS[1], ARGV[1]) then
  local turn = tonumber(redis.call('get', KEYS[2]) or '0')
  redis.call('zadd', KEYS[1], turn - 0.5, ARGV[1])
end
return 1
"""

# KEYS: the taken hash. ARGV: the fair prefix, the language, the deadline (ms since the epoch),
# then the class names, most urgent first. The due entry moves to the taken hash, its user to
# the back of the round (or out of it, with nothing left), in one step.
_TAKE = """
for i = 4, #ARGV do
  local base = ARGV[1] .. ARGV[2] .. ':' .. ARGV[i]
  while true do
    local first = redis.call('zrange', base .. ':users', 0, 0)
    if #first == 0 then break end
    local user = first[1]
    local list = base .. ':u:' .. user
    local entry = redis.call('lpop', list)
    if entry then
      if redis.call('llen', list) == 0 then
        redis.call('zrem', base .. ':users', user)
      else
        redis.call('zadd', base .. ':users', redis.call('incr', base .. ':turn'), user)
      end
      local sid = string.match(entry, '^(%d+):')
      local taken = table.concat({entry, ARGV[2], ARGV[i], user, ARGV[3]}, '|')
      redis.call('hset', KEYS[1], sid, taken)
      return entry
    end
    redis.call('zrem', base .. ':users', user)
  end
end
return false
"""

# KEYS: the taken hash. ARGV: submission id, the value it must still have ('' for any).
_RELEASE = """
local v = redis.call('hget', KEYS[1], ARGV[1])
if v and (ARGV[2] == '' or v == ARGV[2]) then return redis.call('hdel', KEYS[1], ARGV[1]) end
return 0
"""


@functools.cache
def _broker(url: str) -> redis.Redis:
    return redis_client(url, socket_timeout=10, socket_connect_timeout=5)


def _base(language: str, kind: str) -> str:
    return f"{FAIR_PREFIX}{language}:{kind}"


def file(
    client_: redis.Redis,
    submission_id: int,
    language: str,
    generation: int,
    *,
    user: int | str | None,
    kind: str,
    front: bool = False,
) -> None:
    """File a submission to be taken fairly (module docstring); `user` None files it under "-"."""
    if kind not in CLASSES:
        raise ValueError(f"unknown class {kind!r}; one of {', '.join(CLASSES)}")
    base, who = _base(language, kind), "-" if user is None else str(user)
    client_.eval(
        _FILE,
        3,
        f"{base}:users",
        f"{base}:turn",
        f"{base}:u:{who}",
        who,
        f"{submission_id}:{generation}",
        "front" if front else "back",
    )


def enqueue_grade(
    app: Celery,
    submission_id: int,
    language: str,
    generation: int,
    *,
    user: int | None = None,
    kind: str = "contest",
) -> None:
    """File the submission (module docstring), then send its ticket to its language's queue."""
    file(_broker(str(app.conf.broker_url)), submission_id, language, generation, user=user, kind=kind)
    app.send_task(
        GRADE_TASK,
        args=[submission_id, generation],
        kwargs={"language": language},
        queue=language_queue(language),
        ignore_result=True,
    )


def take(client_: redis.Redis, language: str) -> tuple[int, int] | None:
    """The filed submission of `language` that is due, as (id, generation), moved to the taken
    hash until `release`; None when none is filed."""
    deadline_ms = int((time.time() + TAKE_DEADLINE_S) * 1000)
    entry = client_.eval(_TAKE, 1, TAKEN_KEY, FAIR_PREFIX, language, str(deadline_ms), *CLASSES)
    if not entry:
        return None
    text = entry.decode() if isinstance(entry, bytes) else str(entry)
    sid, _, generation = text.partition(":")
    return int(sid), int(generation)


def release(client_: redis.Redis, submission_id: int) -> None:
    """The taken entry's grading claimed it, or found nothing to do: forget it."""
    client_.eval(_RELEASE, 1, TAKEN_KEY, str(submission_id), "")


def refile_lost(
    client_: redis.Redis,
    still_queued: Callable[[int, int], bool],
    send: Callable[[int, str, int], None],
    *,
    now_s: float | None = None,
) -> list[int]:
    """File again every taken entry past its deadline whose submission is still queued in that
    generation (`still_queued(id, generation)`), first in its user's line, and send it a new
    ticket (`send(id, language, generation)`); the ids filed again. Run by the reaper."""
    now_ms = (time.time() if now_s is None else now_s) * 1000
    again: list[int] = []
    taken: dict[Any, Any] = client_.hgetall(TAKEN_KEY)  # type: ignore[assignment]
    for raw in taken.values():
        value = raw.decode() if isinstance(raw, bytes) else str(raw)
        entry, language, kind, user, deadline = value.split("|")
        if float(deadline) > now_ms:
            continue
        sid_text, _, gen_text = entry.partition(":")
        sid, generation = int(sid_text), int(gen_text)
        if not client_.eval(_RELEASE, 1, TAKEN_KEY, str(sid), value):
            continue  # released meanwhile, or another reaper was first
        if still_queued(sid, generation):
            file(client_, sid, language, generation, user=user, kind=kind, front=True)
            send(sid, language, generation)
            again.append(sid)
    return again


def send_ticket(app: Celery, submission_id: int, language: str, generation: int) -> None:
    """A ticket alone, for an entry filed already (refile_lost)."""
    app.send_task(
        GRADE_TASK,
        args=[submission_id, generation],
        kwargs={"language": language},
        queue=language_queue(language),
        ignore_result=True,
    )


def enqueue_webhook(app: Celery, submission_id: int, *, attempt: int = 1, countdown: float = 0) -> None:
    app.send_task(
        WEBHOOK_TASK,
        args=[submission_id, attempt],
        queue=SERVICE_QUEUE,
        countdown=countdown,
        ignore_result=True,
    )


def enqueue_verify(app: Celery, problem_id: str) -> None:
    app.send_task(VERIFY_TASK, args=[problem_id], queue=SERVICE_QUEUE, ignore_result=True)


def queue_lengths(client_: redis.Redis) -> dict[str, int]:
    """Tasks waiting in each of our queues (Celery's Redis transport keeps a queue as a list)."""
    lengths: dict[str, int] = {}
    for key in client_.scan_iter(match="judge.*", count=1000):
        name = key.decode() if isinstance(key, bytes) else str(key)
        if client_.type(key) in (b"list", "list"):
            lengths[name] = int(client_.llen(key))  # type: ignore[arg-type]
    return dict(sorted(lengths.items()))


def redis_client(redis_url: str, **kwargs: Any) -> redis.Redis:
    return redis.Redis.from_url(redis_url, **kwargs)
