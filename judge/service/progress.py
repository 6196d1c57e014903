"""Test-by-test progress of a submission, published on Redis pub/sub as it happens.

The worker publishes JSON events on the channel `judge:submission:<id>`:
`{"event": "state", "state": "compiling"|"running"}`, `{"event": "test", "index", "name",
"verdict", "time", "memory"}` after each test, and `{"event": "done", "submission": {...}}`
(documents.submission_json) last. Pub/sub keeps nothing: a listener subscribes first, then
reads the stored submission, then follows the events, so it misses none (web/api/submissions.py).
"""

from __future__ import annotations

import json
from typing import Any

import redis

CHANNEL_PREFIX = "judge:submission:"


def channel(submission_id: int) -> str:
    return f"{CHANNEL_PREFIX}{submission_id}"


def publish(client: redis.Redis, submission_id: int, event: dict[str, Any]) -> None:
    """Publish one event; a broker that is down loses the event, never the grading."""
    try:
        client.publish(channel(submission_id), json.dumps(event))
    except redis.RedisError:
        pass
