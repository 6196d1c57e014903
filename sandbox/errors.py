"""Exceptions of the sandbox: its own failures, never the contestant's.

* SandboxError        the box failed; our fault. The caller retries, then records an internal error.
  x HostSetupError    the host cannot run boxes at all; the message says how to fix it.
  x ExecFailed        the command could not be executed in the box (missing file, bad format).
  x FileRefused       a file the caller asked for is not a regular file inside the box.
  x StoreError        sandbox/store.py: the image store cannot do it (unknown image, bad name)
    x BuildFailed     sandbox/build.py: a build step failed; the message ends with its log
  x ImportRefused     sandbox/layer_tar.py: an image archive breaks a rule (traversal, a device, ...)

What the program does (exits, crashes, overruns a limit) is a RunResult, not an exception.
"""


class SandboxError(Exception):
    """The sandbox could not do what it was asked; never a verdict on the program."""


class HostSetupError(SandboxError):
    """This host lacks something boxes need (root, cgroups, a compiler for the helper)."""


class ExecFailed(SandboxError):
    """execve failed inside the box: the command does not exist or cannot be run."""


class FileRefused(SandboxError):
    """A path in the box is missing, a symlink, a fifo, a device or too large: refused."""
