"""Requests that stay open (event streams, `?wait=true`), bounded per user across every web process.

An evented server (web/server.py) holds thousands of them cheaply, but each still holds a Redis
subscription and a connection: one user must not hold them all (issue 17, finding 2). Each
open one takes a lease in Redis, a member of the sorted set `judge:holds:<kind>:<user id>`
scored by the time it lapses (LEASE_S from now); it is renewed while the request stays open and
removed when it ends. A web process that dies leaves leases that lapse by themselves. One Lua
script drops the lapsed ones, counts and takes, so concurrent requests cannot pass the bound
together.

* `JUDGE_STREAMS_PER_USER` (default 8): event streams open at once per user, the API's and the
  pages' together; one more is 429 `too_many_streams` (the submission page then polls).
* `JUDGE_WAITS_PER_USER` (default 8): `?wait=true` requests waiting at once per user; one more
  is answered at once, without waiting (its `state` says the submission is not done).

Organisers are exempt (they run the contest, `judge bench load` and batches), as from the rate
limits. Redis away: the stream or wait fails as it would anyway (503 `queue_unavailable`).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import redis

LEASE_S = 60.0  # renewed every KEEPALIVE_S (15 s) by an open stream; a wait lasts at most 60 s
PREFIX = "judge:holds"

# KEYS[1]: the user's set; ARGV: now, lapse (now + lease), bound, member. 1 if taken, else 0.
TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIREAT', KEYS[1], math.ceil(tonumber(ARGV[2]) * 1000))
return 1
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldLimits:
    """How many requests of each kind one user may hold open at once."""

    streams: int = 8
    waits: int = 8

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> HoldLimits:
        chosen = {}
        for kind in ("streams", "waits"):
            name = f"JUDGE_{kind.upper()}_PER_USER"
            raw = environ.get(name, "").strip()
            if not raw:
                continue
            if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
                raise ValueError(f"{name} must be a whole number from 1 to 100000, not {raw!r}")
            chosen[kind] = int(raw)
        return cls(**chosen)


class Lease:
    """One open request's place among its user's; renew() while it lasts, release() at the end."""

    def __init__(self, client: redis.Redis, key: str, member: str) -> None:
        self._client, self._key, self._member = client, key, member
        self._released = False

    def renew(self) -> None:
        try:
            self._client.zadd(self._key, {self._member: time.time() + LEASE_S}, xx=True)
        except redis.RedisError:
            pass  # it lapses instead; the stream itself notices a broker that is away

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        try:
            self._client.zrem(self._key, self._member)
        except redis.RedisError:
            pass  # lapses within LEASE_S


def take(client: redis.Redis, kind: str, user_id: int, bound: int) -> Lease | None:
    """A lease of `kind` ("streams", "waits") for the user, or None when they hold `bound` already.
    Raises redis.RedisError when Redis is away."""
    key = f"{PREFIX}:{kind}:{user_id}"
    member = uuid.uuid4().hex
    now = time.time()
    taken = client.eval(TAKE, 1, key, str(now), str(now + LEASE_S), str(bound), member)
    return Lease(client, key, member) if int(taken) == 1 else None  # type: ignore[arg-type]
