"""A user and group of its own for every box on this machine, as isolate's first_uid + box.

Runs as root. Imports nothing from judge/. Why: the kernel counts some limits per user, not
per process or cgroup: inotify instances, descriptors in flight over SCM_RIGHTS, pipe buffer
pages, epoll watches. Were every box one user (nobody), one box could take them all and the
box beside it would get EMFILE or ETOOMANYREFS, and a box could tell that another ran.

The uids are FIRST_UID .. FIRST_UID + COUNT - 1 (60000-60999, isolate's default range, below
systemd's dynamic users at 61184), each used as the box's gid too; `SANDBOX_FIRST_UID` and
`SANDBOX_UID_COUNT` move the range (read when a lease is taken, never at import). No account
exists for them on the host: the box's own /etc/passwd names its uid `box`.

A uid is held by a lock file, /run/judge-sandbox/uids/<uid>.lock (`SANDBOX_UID_DIR` moves the
directory: containers of one machine that make boxes must share it), locked with flock by the
keeper from the box's preparation until the janitor has reaped it (every process of the box is
gone by then: boxinit exits only after init, and init only after every process of its pid
namespace). Every process on the machine that makes boxes (workers, `judge run`, the tests)
takes uids the same way, so no two boxes running at once share one. The kernel drops a lock
when its last descriptor closes, so a keeper that dies frees its uids with no clean-up; the
descriptor is close-on-exec, and a forked child (a Celery pool process) closes its copy
without unlocking the parent's (flock belongs to the open file, not to the process).
"""

from __future__ import annotations

import fcntl
import os
import secrets

from .errors import SandboxError

DEFAULT_DIR = "/run/judge-sandbox/uids"
FIRST_UID = 60000
COUNT = 1000


class UidLease:
    """One uid, held until release() (or until the process holding it exits)."""

    def __init__(self, uid: int, fd: int) -> None:
        self.uid = uid
        self._fd = fd

    def release(self) -> None:
        """Free the uid; call only when no process of the box can still be running."""
        if self._fd >= 0:
            os.close(self._fd)  # the last descriptor of the open file: the lock goes with it
            self._fd = -1

    forget = release  # in a forked child closing its copy leaves the parent's lock in place


def uid_range() -> tuple[int, int]:
    """(first uid, how many) of the range boxes take from, as the environment sets it now."""
    first = int(os.environ.get("SANDBOX_FIRST_UID") or FIRST_UID)
    count = int(os.environ.get("SANDBOX_UID_COUNT") or COUNT)
    if first <= 0 or count <= 0 or first + count > 2**31:
        raise SandboxError(f"bad box uid range: SANDBOX_FIRST_UID={first}, SANDBOX_UID_COUNT={count}")
    return first, count


def take(directory: str | None = None) -> UidLease:
    """A uid no other box on this machine holds; SandboxError when every one of the range is held.

    The search starts at a random uid, so that processes starting together rarely try the same.
    """
    first, count = uid_range()
    directory = directory or os.environ.get("SANDBOX_UID_DIR") or DEFAULT_DIR
    start = secrets.randbelow(count)
    for i in range(count):
        uid = first + (start + i) % count
        path = f"{directory}/{uid}.lock"
        try:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
            except FileNotFoundError:
                os.makedirs(directory, mode=0o700, exist_ok=True)
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        except OSError as e:  # the host's fault (a read-only or full /run), never the program's
            raise SandboxError(f"cannot take a box uid: {path}: {e.strerror} (errno {e.errno})") from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        except OSError:
            os.close(fd)
            raise
        return UidLease(uid, fd)
    raise SandboxError(
        f"all {count} box uids ({first}-{first + count - 1}) are in use on this machine; "
        "fewer boxes at once, or a wider range (SANDBOX_UID_COUNT)"
    )
