"""Exceptions of the judge: what went wrong on our side or in what we were asked.

* JudgeError          judge/errors.py: something the judge was asked cannot be done
  x UnknownLanguage   no language has that id or file extension; the message lists the known ones
  x UnknownImage      no image has that name; the message lists the known ones
  x BadSubmission     judge/submission.py: a submission breaks a rule (a link, `..`, too big, no entry point)
  x PackageError      judge/problems/package.py: a problem package is broken; names the file and the fault
  x ImageDefinitionError  judge/images.py: judge/images.toml (or --file) is wrong
* SandboxError        sandbox/errors.py: the box failed; our fault -> status IE at the CLI edge
  x HostSetupError    the host cannot run boxes; the message says how to fix it
  x ExecFailed        a command could not be executed in the box

A compile error, a crash or a limit reached is a status in a result, never an exception: it
is the contestant's outcome, not our failure. `judge run` turns a JudgeError into a usage
error (exit code 2) and a SandboxError into status IE (exit code 3), in judge/cli/__init__.py only.
"""

from __future__ import annotations


class JudgeError(Exception):
    """The judge cannot do what it was asked; the message says what to change."""


class UnknownLanguage(JudgeError):
    """No registered language has this id or this file extension."""


class UnknownImage(JudgeError):
    """No image has this name."""
