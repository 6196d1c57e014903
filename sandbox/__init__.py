"""The container runtime of the judge: one fresh, locked-down box per run.

Imports nothing from the rest of the project. See sandbox/README.md for the theory of
operation and box.py for the life of one box.
"""

from .box import DEFAULT_ENV, Box
from .errors import ExecFailed, FileRefused, HostSetupError, SandboxError
from .image import HOST, HostImage, Image
from .limits import Limits, MiB
from .result import RunResult, RunStatus
from .runtime import Sandbox, default

__all__ = [
    "DEFAULT_ENV",
    "HOST",
    "Box",
    "ExecFailed",
    "FileRefused",
    "HostImage",
    "HostSetupError",
    "Image",
    "Limits",
    "MiB",
    "RunResult",
    "RunStatus",
    "Sandbox",
    "SandboxError",
    "default",
]
