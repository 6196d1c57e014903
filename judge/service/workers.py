"""What each worker announces about itself in Redis, for the organiser's view of the service.

A worker writes `judge:worker:<name>` (JSON: name, host, pid, concurrency, cpus, languages it
takes, languages it refused and why, when it started, when it last wrote) every HEARTBEAT_S
seconds with a time-to-live of three heartbeats, so a worker that died drops out by itself.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import redis

KEY_PREFIX = "judge:worker:"
HEARTBEAT_S = 5.0


def announce(client: redis.Redis, info: dict[str, Any]) -> None:
    doc = {**info, "seen_at": time.time()}
    client.set(f"{KEY_PREFIX}{info['name']}", json.dumps(doc), ex=int(3 * HEARTBEAT_S) + 1)


def heartbeat(client: redis.Redis, info: dict[str, Any], stop: threading.Event) -> threading.Thread:
    """A daemon thread that announces `info` until `stop` is set, then withdraws it."""

    def beat() -> None:
        while not stop.is_set():
            try:
                announce(client, info)
            except redis.RedisError:
                pass  # the broker is away; Celery itself reports that
            stop.wait(HEARTBEAT_S)
        try:
            client.delete(f"{KEY_PREFIX}{info['name']}")
        except redis.RedisError:
            pass

    thread = threading.Thread(target=beat, name="judge-heartbeat", daemon=True)
    thread.start()
    return thread


def workers(client: redis.Redis) -> list[dict[str, Any]]:
    """The workers that announced themselves lately, by name."""
    found = []
    for key in client.scan_iter(match=f"{KEY_PREFIX}*", count=1000):
        raw = client.get(key)
        if raw is not None:
            found.append(json.loads(raw))  # type: ignore[arg-type]
    return sorted(found, key=lambda w: str(w.get("name")))
