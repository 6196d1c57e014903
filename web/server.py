"""The web role's server: gunicorn with `Worker`, an evented (gevent) worker class with our bounds.

`judge web` (web/main.py) runs gunicorn in-process with this class; the deployments in compose/
name it on gunicorn's command line (`gunicorn -k web.server.Worker ... web.wsgi:app`). One server,
one set of bounds, whichever way the web is started.

Why evented (issue 17, findings 1 and 2). The API holds requests open: `?wait=true` for up to a
minute and server-sent event streams for as long as a grading takes. A thread per request
(waitress, gunicorn's gthread) runs out of threads: 32 open streams hung every other request,
and waitress' select() loop failed outright past descriptor 1023, which stopped `judge serve`.
Here each connection is a greenlet on gevent's epoll loop: an open stream costs a greenlet and
a Redis subscription, not a thread, and descriptors past 1023 are nothing special. gevent's
monkey-patching, done by gunicorn in each worker process before the app is made, turns the
app's blocking calls (sockets to Redis and PostgreSQL, psycopg's waits, the SQLAlchemy pool's
locks, time.sleep) into switches between greenlets, so Flask's views run unchanged. An ASGI
server (uvicorn) with the WSGI app in a thread pool would have needed the streams rewritten for
asyncio and still held a thread per `?wait=true`; one loop for every request is simpler. The
figures, against waitress, are in the README ("When things fail").

SQLite's writes wait for its file lock (busy_timeout) without yielding, so a write that waits
for a worker's holds the loop that long (milliseconds); PostgreSQL's waits yield (psycopg knows
gevent). No view holds a write transaction across a call to Redis or the network, so two
greenlets of one process never wait on each other's SQLite lock.

The bounds, per worker process:

* A request's line and headers must arrive within HEADER_TIMEOUT_S of the connection (or of the
  previous response, on a kept-alive connection), however slowly they trickle (slowloris);
  then the connection is closed. Any one read or write after that (a body, a response to a
  client that stopped reading) may take IO_TIMEOUT_S.
* One address may hold at most `JUDGE_WEB_IDLE_PER_ADDRESS` (IDLE_PER_ADDRESS) connections that
  wait for a request; a new one past that ends the address's longest-waiting one (AddressGate
  says why that one). Connections that are being
  answered (a wait, an event stream) do not count: those are bounded per user where they are
  served (web/holds.py). IPv6 addresses count by their /64, which one host usually has whole.
  Behind a proxy (`JUDGE_PROXY_HOPS` set), every connection comes from the proxy, so this
  bound is off and the proxy's own bounds hold; the timeouts still apply.
* At most `JUDGE_WEB_CONNECTIONS` (CONNECTIONS) connections at once, and no more than the
  open-file limit allows: the soft RLIMIT_NOFILE is raised to the hard one at start.

CPU-heavy work in a view (scrypt at login, about 50 ms) holds the loop for that long; a
machine with more cores runs more processes (`--processes`, gunicorn's `-w`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import resource
import select
import socket
import warnings
from typing import Any

import gevent
from gevent.monkey import MonkeyPatchWarning, get_original
from gunicorn.workers.base_async import AsyncWorker
from gunicorn.workers.ggevent import GeventWorker

HEADER_TIMEOUT_S = 10.0
IO_TIMEOUT_S = 30.0
IDLE_PER_ADDRESS = 64
CONNECTIONS = 10_000
FILES_KEPT = 256  # descriptors left for the database, Redis and the app's files
GRACE_S = 5  # on SIGTERM, what open requests get before they are cut (a stream never ends by itself)


_real_poll = get_original("select", "poll")


def _env_int(name: str, default: int, lo: int, hi: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be {lo} to {hi}, not {value}")
    return value


def idle_per_address() -> int:
    """`JUDGE_WEB_IDLE_PER_ADDRESS`, or 0 (no bound) behind a proxy (JUDGE_PROXY_HOPS)."""
    from judge.service.settings import Settings  # not at the top: this module loads before the app

    if Settings.from_env().proxy_hops_raw not in ("", "0"):
        return 0
    return _env_int("JUDGE_WEB_IDLE_PER_ADDRESS", IDLE_PER_ADDRESS, 0, 1_000_000)


def connections() -> int:
    return _env_int("JUDGE_WEB_CONNECTIONS", CONNECTIONS, 16, 1_000_000)


def address_key(addr: Any) -> str | None:
    """What a connection counts against: its IPv4 address, its IPv6 /64; None for a Unix socket."""
    if not isinstance(addr, tuple) or not addr:
        return None
    try:
        ip = ipaddress.ip_address(str(addr[0]).split("%")[0])
    except ValueError:
        return str(addr[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class AddressGate:
    """Connections waiting for a request, per address, oldest first; a new one past the bound
    ends the one of its address that has waited longest.

    Ending the oldest, not refusing the newest: an honest client's new connection sends its
    request at once and always gets in, while what it displaces is an idle keep-alive
    connection (a browser opens another) or a flooder's. A contest hall behind one NAT address
    keeps working; a flooder on it only churns its own idle connections. Ended with shutdown(),
    so the greenlet reading it sees the end of the stream and closes it as any client's.
    Used from one worker process's greenlets, which share one thread: no lock is needed."""

    def __init__(self, idle_bound: int) -> None:
        self.bound = idle_bound  # 0: no bound
        self.idle: dict[str, dict[int, socket.socket]] = {}  # address -> waiting connections, oldest first

    def waiting(self, key: str | None, conn: socket.socket) -> None:
        """`conn` waits for a request (new, or answered and kept alive); past the bound, the
        address's longest-waiting connection is ended."""
        if key is None or not self.bound:
            return
        queue = self.idle.setdefault(key, {})
        queue[id(conn)] = conn
        if len(queue) <= self.bound:
            return
        for ident, other in list(queue.items()):
            if other is not conn and not _has_bytes(other):  # its request, unread, is not idleness
                del queue[ident]
                with contextlib.suppress(OSError):
                    other.shutdown(socket.SHUT_RDWR)
                return

    def busy(self, key: str | None, conn: socket.socket) -> None:
        """Its request came, or it closed: it waits no more."""
        queue = self.idle.get(key) if key is not None else None
        if queue is not None:
            queue.pop(id(conn), None)
            if not queue:
                del self.idle[key]  # type: ignore[arg-type]


def _has_bytes(conn: socket.socket) -> bool:
    """Whether a request (or the client's end) has come on `conn` that no one has read yet:
    the kernel's poll, without waiting (gevent's own would wait)."""
    try:
        poller = _real_poll()
        poller.register(conn.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True  # closed or broken: its own reader finds out and closes it


def raise_file_limit() -> int:
    """Raise the soft limit on open files to the hard one; the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return int(soft) if soft != resource.RLIM_INFINITY else hard


class Worker(GeventWorker):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn's gevent worker with the bounds of this module's docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        files = raise_file_limit()
        self.worker_connections = max(16, min(connections(), files - FILES_KEPT))
        self.gate = AddressGate(idle_per_address())

    def patch(self) -> None:
        # gunicorn's own modules import ssl in the master, before any worker can patch, so gevent
        # always warns; the web makes no TLS connection of its own (TLS is the proxy's)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MonkeyPatchWarning)
            super().patch()

    def timeout_ctx(self) -> gevent.Timeout:
        # gunicorn reads every request's line and headers (the first one too) under this
        return gevent.Timeout(HEADER_TIMEOUT_S, False)

    def handle(self, listener: socket.socket, client: socket.socket, addr: Any) -> None:
        key = address_key(addr)
        self.gate.waiting(key, client)
        try:
            client.settimeout(IO_TIMEOUT_S)  # each read and write; gunicorn's own would block for ever
            if client.family in (socket.AF_INET, socket.AF_INET6):
                # gunicorn sends a response's head and body in two writes: without this, Nagle's
                # algorithm holds the body until the client's delayed ACK (40 ms on Linux)
                client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            AsyncWorker.handle(self, listener, client, addr)
        finally:
            self.gate.busy(key, client)

    def handle_request(self, listener_name: Any, req: Any, sock: socket.socket, addr: Any) -> None:
        key = address_key(addr)
        self.gate.busy(key, sock)
        try:
            super().handle_request(listener_name, req, sock, addr)
        finally:
            self.gate.waiting(key, sock)
