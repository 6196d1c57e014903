"""The Celery app of the workers, configured as judge/service/queue.py says.

`judge worker` (worker/main.py) decides which queues this worker takes and starts it; the tasks
are in worker/tasks.py. Per process state (the sandbox pinned to one CPU, the database engine,
the grading service) is made in each pool process after the fork (`worker_process_init`).
"""

from __future__ import annotations

from celery import Celery

from judge.service.queue import configure
from judge.service.settings import Settings

app = Celery("judge")
configure(app, Settings.from_env().redis_url)
app.conf.update(include=["worker.tasks"])
