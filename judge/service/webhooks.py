"""Webhooks: a signed POST of a finished submission to its `callback_url`, retried, logged.

The body is the submission's JSON document (documents.submission_json), as GET returns it.
Headers: `Content-Type: application/json`, `X-Judge-Event: submission.done`,
`X-Judge-Delivery: <submission id>.<finished at, ms>` (the same on every attempt of one
grading, new after a rejudge: a receiver deduplicates on it), `X-Judge-Attempt: <n>`, and
`X-Judge-Signature: sha256=<hex>`, the HMAC-SHA256 of the exact body bytes under the
submitting user's webhook key. That key is the hex digest of HMAC-SHA256(JUDGE_SECRET_KEY,
"webhook:<user id>"), as ASCII bytes: each user has their own, reads it at `GET /api/v1/me`
(`webhook_key`), and no user can forge another's deliveries. Delivery is at least once: a
grading delivered twice by the queue may post twice, with different delivery ids. A receiver checks with
`hmac.compare_digest("sha256=" + hmac.new(key, body, sha256).hexdigest(), header)`.

A delivery succeeds on any 2xx answer. Anything else (another status, a refused connection,
a timeout of 10 s) is retried: attempt n+1 comes BASE x 2^(n-1) seconds after attempt n
(2, 4, 8, 16, 32 s by default; `JUDGE_WEBHOOK_BACKOFF_S` sets BASE), up to 6 attempts. Every
attempt is logged (repo.log_delivery) with its status or error and its duration; the API shows
the log under the submission. Redirects are not followed: a receiver answers where it is asked.
Only http and https URLs are accepted (checked when the submission is made).
"""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from judge.service.settings import Settings

MAX_ATTEMPTS = 6
TIMEOUT_S = 10.0
SIGNATURE_HEADER = "X-Judge-Signature"


def user_key(secret_key: str, user_id: int | None) -> bytes:
    """The webhook key of one user, derived from the service's secret."""
    mac = hmac.new(secret_key.encode(), f"webhook:{user_id or 0}".encode(), hashlib.sha256)
    return mac.hexdigest().encode()


def sign(key: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def check_url(url: str) -> str | None:
    """Why `url` cannot be a callback, or None when it can."""
    if len(url) > 2000:
        return "callback_url is longer than 2000 characters"
    if any(c.isspace() or not c.isprintable() for c in url):
        return "callback_url must be a URL without spaces or control characters (percent-encode them)"
    try:  # urlsplit and .port raise ValueError for "http://[::1/" or a port over 65535
        parts = urlsplit(url)
        parts.port  # noqa: B018 - read for its check
    except ValueError as e:
        return f"callback_url is not a valid URL ({e})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "callback_url must be an http or https URL with a host"
    return None


def backoff_s(attempt: int) -> float:
    """The wait after failed attempt `attempt` (1-based) before the next one."""
    base = Settings.from_env().webhook_backoff_s
    return float(base * 2 ** (attempt - 1))


@dataclass(frozen=True, slots=True)
class Attempt:
    ok: bool
    status_code: int | None
    error: str | None
    duration_s: float


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post(
    url: str,
    body: bytes,
    *,
    key: bytes,
    delivery: str,
    attempt: int,
    timeout_s: float = TIMEOUT_S,
    method: str = "POST",
) -> Attempt:
    """One attempt; never raises for the receiver's sake. (The Judge0 API's callbacks are PUTs.)"""
    request = urllib.request.Request(
        url,
        data=body,
        method=method,
        headers={
            "Content-Type": "application/json",
            "User-Agent": "judge-webhook/1",
            "X-Judge-Event": "submission.done",
            "X-Judge-Delivery": delivery,
            "X-Judge-Attempt": str(attempt),
            SIGNATURE_HEADER: sign(key, body),
        },
    )
    t0 = time.monotonic()
    try:
        with _opener.open(request, timeout=timeout_s) as response:
            status = int(response.status)
            error = None if 200 <= status < 300 else f"HTTP {status}"
    except urllib.error.HTTPError as e:
        status, error = e.code, f"HTTP {e.code}"
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", e)
        status, error = None, f"{type(reason).__name__}: {reason}"
    return Attempt(ok=error is None, status_code=status, error=error, duration_s=time.monotonic() - t0)
