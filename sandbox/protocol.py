"""Messages between the keeper and boxinit: NUL-separated tokens on a SOCK_SEQPACKET socket.

keeper -> outer   prep  root PATH  hostname NAME  workdir PATH  cgroup PROCS...  seccomp HEX  <mount plan>
outer  -> keeper  pid N                              + a pidfd of init (SCM_RIGHTS)
init   -> keeper  ready                              + an O_PATH descriptor of the working directory
keeper -> init    go  arg A... env E... cwd P uid N gid N rlimit RES SOFT HARD...  + stdin, stdout, stderr
init   -> keeper  started | execfail STAGE ERRNO
init   -> keeper  exit HAVE_STATUS WAIT_STATUS UTIME_US STIME_US SYSCALL_NR
any    -> keeper  error STAGE ERRNO                  the sandbox failed (SandboxError)
"""

from __future__ import annotations

import array
import os
import socket
from collections.abc import Iterable, Sequence

MAX_MESSAGE = 256 * 1024  # keep below boxinit's MSG_MAX and the socket's send buffer


def encode(tokens: Iterable[str]) -> bytes:
    # joined first and encoded once: a box's PREP is about 300 tokens, and a loop over them cost
    # 80 us of the keeper's CPU a box where this costs 9 (issue 23). A NUL inside a token shows
    # as one NUL more than the separators.
    items = list(tokens)
    data = "\0".join(items).encode("utf-8", "surrogateescape") + b"\0"
    if data.count(0) != max(len(items), 1):  # no tokens at all: the one terminator
        bad = next(t for t in items if "\0" in t)
        raise ValueError(f"argument holds a NUL byte: {bad!r}")
    if len(data) > MAX_MESSAGE:
        raise ValueError(f"command, environment and plan take {len(data)} bytes, over {MAX_MESSAGE}")
    return data


def send(sock: socket.socket, tokens: Iterable[str], fds: Sequence[int] = ()) -> None:
    data = encode(tokens)
    if fds:
        sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
    else:
        sock.send(data)


def recv(sock: socket.socket) -> tuple[list[str], list[int]] | None:
    """One message and the descriptors passed with it; None at end of stream."""
    fds = array.array("i")
    data, ancdata, _flags, _ = sock.recvmsg(
        64 * 1024, socket.CMSG_SPACE(4 * fds.itemsize), socket.MSG_CMSG_CLOEXEC
    )
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
    if not data:
        for fd in fds:
            os.close(fd)
        return None
    tokens = data.rstrip(b"\0").decode("utf-8", "replace").split("\0")
    return tokens, list(fds)
