"""Exceptions of the judge: what went wrong on our side or in what we were asked.

* JudgeError          judge/errors.py: something the judge was asked cannot be done
  x UnknownLanguage   no language has that id or file extension; the message lists the known ones
  x UnknownImage      no image has that name; the message lists the known ones
  x BadSubmission     judge/submission.py: a submission breaks a rule (a link, `..`, too big, no entry point)
  x PackageError      judge/problems/package.py: a problem package is broken; names the file and the fault
  x ImageDefinitionError  judge/images.py: judge/images.toml (or --file) is wrong
  x Refused           judge/service/: the service will not do what a user asked; `why` is a Refusal,
                      which the web turns into an HTTP status and error code (web/api/errors.py)
* SandboxError        sandbox/errors.py: the box failed; our fault -> status IE at the CLI edge
  x HostSetupError    the host cannot run boxes; the message says how to fix it
  x ExecFailed        a command could not be executed in the box

A compile error, a crash or a limit reached is a status in a result, never an exception: it
is the contestant's outcome, not our failure. `judge run` turns a JudgeError into a usage
error (exit code 2) and a SandboxError into status IE (exit code 3), in judge/cli/__init__.py only.
"""

from __future__ import annotations

from enum import StrEnum


class JudgeError(Exception):
    """The judge cannot do what it was asked; the message says what to change."""


class UnknownLanguage(JudgeError):
    """No registered language has this id or this file extension."""


class UnknownImage(JudgeError):
    """No image has this name."""


class Refusal(StrEnum):
    """Why the service refused a request: the API's error code for it (web/api/errors.py gives
    each its HTTP status)."""

    INVALID_FIELD = "invalid_field"  # a field is missing, of the wrong type or out of range
    TOO_LARGE = "too_large"  # a source, an input or a batch is over its bound
    UNKNOWN_LANGUAGE = "unknown_language"
    UNKNOWN_PROBLEM = "unknown_problem"  # no such problem, or not one the submitter may open yet
    PROBLEM_NOT_READY = "problem_not_ready"  # no time limit yet: still being verified
    NOT_FOUND = "not_found"  # no such submission or batch (or not the asker's to see)
    BAD_ARCHIVE = "bad_archive"  # a batch's zip is unsafe or holds something else than sources
    DUPLICATE_LABEL = "duplicate_label"  # two submissions of one batch for one contestant
    NAME_TAKEN = "name_taken"  # an account of that name exists already
    STORAGE_FULL = "storage_full"  # the disk is nearly full: nothing is stored
    QUEUE_UNAVAILABLE = "queue_unavailable"  # the broker cannot take it: nothing is left stored


class Refused(JudgeError):
    """The service will not do what it was asked (judge/service/submissions.py, batches.py,
    contests.py, accounts.py); `why` says which kind of refusal, the message what to change."""

    def __init__(self, why: Refusal, message: str) -> None:
        super().__init__(message)
        self.why, self.message = why, message
