"""Boxes prepared ahead, each used once, and a janitor for the used ones.

Why: most of a box's cost is set-up that does not depend on the program: boxinit's start,
namespaces, mounts, and above all the cgroup v1 attach, which waits a whole RCU grace period
(6-15 ms here) when no other cgroup migration happened in the last few milliseconds
(the sandbox survey's section 5, docs/references.md). A background thread keeps `depth` ready boxes for every
kind of box asked for in the last minute, so a run pays only for GO, exec and the program.
A box is never reused: the pool holds fresh boxes, not recycled ones.

The janitor (the same thread) reaps boxinit and removes the cgroups of used boxes, off the
run's critical path.

Fork safety: the thread and the prepared boxes belong to the process that made them. After
os.fork (a Celery prefork worker) the child drops them without touching them and prepares
its own on first use.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
from collections.abc import Callable

from .box import Box, BoxSpec
from .errors import SandboxError

log = logging.getLogger(__name__)
ACTIVE_FOR_S = 60.0


class Pool:
    def __init__(self, make: Callable[[BoxSpec], Box], depth: int = 2) -> None:
        self._make = make
        self.depth = depth
        self._ready: dict[tuple[object, ...], collections.deque[Box]] = {}
        self._specs: dict[tuple[object, ...], BoxSpec] = {}
        self._wanted: dict[tuple[object, ...], float] = {}
        self._dirty: list[Box] = []
        self._cond = threading.Condition()
        self._closed = False
        self._pid = os.getpid()
        self._thread: threading.Thread | None = None

    def take(self, spec: BoxSpec) -> Box:
        """A fresh, ready box for spec: from the pool, or made now if the pool is empty."""
        key = spec.key
        with self._cond:
            self._specs[key] = spec
            self._wanted[key] = time.monotonic()
            ready = self._ready.get(key)
            box = ready.popleft() if ready else None
            self._start()
            self._cond.notify()
        if box is None:
            box = self._make(spec)
            try:
                box.wait_ready()
            except BaseException:
                self.discard(box)
                raise
        return box

    def discard(self, box: Box) -> None:
        """Hand a used box to the janitor."""
        box.close()
        with self._cond:
            self._dirty.append(box)
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            boxes = [b for q in self._ready.values() for b in q] + self._dirty
            self._ready.clear()
            self._dirty = []
            self._cond.notify()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        for box in boxes:
            box.close()
            try:
                box.reap(block=True)
            except SandboxError as e:
                log.warning("%s", e)

    def forget_after_fork(self) -> None:
        """In a forked child: the parent's boxes and thread are not ours; drop them untouched."""
        for box in [b for q in self._ready.values() for b in q]:
            box.forget()
        self._ready.clear()
        self._dirty = []
        self._thread = None
        self._cond = threading.Condition()
        self._pid = os.getpid()

    def _start(self) -> None:
        if self._thread is None and not self._closed:
            self._thread = threading.Thread(target=self._loop, name="sandbox-pool", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        pause_until = 0.0
        while True:
            with self._cond:
                if self._closed:
                    return
                dirty, self._dirty = self._dirty, []
                now = time.monotonic()
                need = [
                    self._specs[k]
                    for k, t in self._wanted.items()
                    if now - t < ACTIVE_FOR_S and len(self._ready.get(k, ())) < self.depth
                ]
                if not dirty and not need:
                    self._cond.wait(timeout=1.0)
                    continue
            still = []
            for used in dirty:
                try:
                    if not used.reap(block=False):
                        still.append(used)
                except SandboxError as e:
                    log.warning("janitor: %s", e)
            if need and time.monotonic() >= pause_until:
                spec = need[0]
                box = None
                try:
                    box = self._make(spec)
                    box.wait_ready()
                except SandboxError as e:
                    pause_until = time.monotonic() + 1.0  # do not spin on a broken host
                    log.warning("cannot prepare a box ahead: %s", e)
                    if box is not None:
                        box.close()
                        still.append(box)
                else:
                    with self._cond:
                        if self._closed:
                            still.append(box)
                            box.close()
                        else:
                            self._ready.setdefault(spec.key, collections.deque()).append(box)
            with self._cond:
                self._dirty.extend(still)
                if (still and not need) or time.monotonic() < pause_until:
                    self._cond.wait(timeout=0.002 if still else 0.2)
