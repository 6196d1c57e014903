"""The long-running service around the judge: what `judge serve`, `judge web` and `judge worker` share.

* settings.py      where things live: data directory, database and Redis URLs, the secret key
* redis_server.py  the embedded redis-server that `judge serve` starts and stops
* queue.py         the Celery client and its configuration; one queue per language
* progress.py      test-by-test events on Redis pub/sub, for the API's waits and streams
* documents.py     a submission as the API, the events and the webhooks show it
* grade.py         one submission graded from its id: the worker task's body
* webhooks.py      signed POSTs of a finished submission, retried with backoff, logged
* problems.py      importing a problem package into the data directory
* submissions.py   submissions checked, stored and queued, and rejudged: what the web asks for
* batches.py       one problem's submissions sent together, from a zip or a list, and their results
* contests.py      contests made and their scoreboards
* accounts.py      accounts checked and created, many at once all or none
* workers.py       what each worker announces about itself (languages, CPUs, its task)

Imports judge's domain and storage; never web/ or worker/.
"""
