"""No secret reaches a log: a real service is run through what handles secrets, then every file
it wrote and everything the commands printed to stderr is searched for them.

The secrets: API tokens (good, scoped, revoked, unknown), passwords (right and wrong), the
session key (JUDGE_SECRET_KEY), the Redis password, the metrics token, users' webhook keys
and a secret in a callback URL. What is done with them: logging in and failing to, creating
accounts and tokens with the CLI, submitting with tokens in every place they may travel
(`Authorization`, Judge0's `X-Auth-Token` header and query parameter), webhooks that fail and
are retried, a rate limit breached, a CSRF check failed, a scrape of /metrics. The files: the
web's and the worker's logs (stdout and stderr), Redis's log and its append-only file; only
the database, which holds hashes, and the imported packages are left out. Nothing logs a
request line (waitress keeps no access log), so no header or query string may appear either.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from kit import wait_until
from service_kit import Receiver, Service, run_service

pytestmark = pytest.mark.sandbox

SECRET_KEY = "sk-" + secrets.token_hex(16)
METRICS_TOKEN = "mt-" + secrets.token_hex(16)
EXTRA_ENV = {
    "JUDGE_SECRET_KEY": SECRET_KEY,
    "JUDGE_METRICS_TOKEN": METRICS_TOKEN,
    "JUDGE_RATE_LIMIT_LOGIN": "3/minute",
    "JUDGE_RATE_LIMIT_API": "40/minute",
}


def _cli(env: dict[str, str], *args: str, stdin: str = "") -> tuple[str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "judge", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr


def _play(svc: Service, found: dict[str, str], stderr: list[str]) -> None:
    """Everything that handles a secret, once; `found` collects the secrets met on the way."""
    base = svc.base
    found["redis password"] = urlsplit(svc.redis_url).password or ""
    for name in ("alice", "bob", "organiser"):
        found[f"{name}'s token"] = svc.tokens[name]
        found[f"{name}'s password"] = f"{name}-password"

    # accounts and tokens from the command line
    erin_password = "erin-" + secrets.token_hex(8)
    found["erin's password"] = erin_password
    _, err = _cli(svc.env, "user", "add", "erin", "--password-stdin", stdin=erin_password + "\n")
    stderr.append(err)
    out, err = _cli(svc.env, "token", "create", "erin")
    stderr.append(err)
    found["erin's token"] = erin = out.strip()
    out, err = _cli(svc.env, "token", "create", "erin", "--scope", "read")
    stderr.append(err)
    found["erin's read token"] = erin_read = out.strip()
    out, err = _cli(svc.env, "token", "create", "erin")
    stderr.append(err)
    found["erin's revoked token"] = revoked = out.strip()
    listed, err = _cli(svc.env, "token", "ls", "erin")
    stderr.append(err)
    _, err = _cli(svc.env, "token", "revoke", listed.splitlines()[-1].split("\t")[0])
    stderr.append(err)
    found["an unknown token"] = unknown = "jdg_" + secrets.token_urlsafe(32)

    # the pages: log in, fail to, fail CSRF, breach the failed-login limit
    s = requests.Session()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', s.get(f"{base}/login", timeout=30).text)
    assert csrf
    wrong = "wrong-" + secrets.token_hex(8)
    found["a wrong password"] = wrong
    assert s.post(f"{base}/login", data={"name": "alice", "password": wrong}, timeout=30).status_code == 400
    r = s.post(
        f"{base}/login",
        data={"csrf_token": csrf.group(1), "name": "alice", "password": "alice-password"},
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code == 302
    for name in ("alice", "nobody", "alice", "alice"):
        r = s.post(
            f"{base}/login", data={"csrf_token": csrf.group(1), "name": name, "password": wrong}, timeout=30
        )
    assert r.status_code == 429  # the failed-login limit, breached and logged

    # the APIs, with tokens wherever they may travel
    key = requests.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {erin}"}, timeout=30).json()
    found["erin's webhook key"] = key["webhook_key"]
    found["alice's webhook key"] = svc.call("GET", "/me", as_="alice").json()["webhook_key"]
    receiver = Receiver(failures=1)
    found["a callback URL's secret"] = hook_secret = secrets.token_hex(12)
    callback = f"{receiver.url}?key={hook_secret}"
    body = {
        "language": "python3",
        "source": "print(input())",
        "stdin": "x",
        "callback_url": callback,
    }
    r = requests.post(
        f"{base}/api/v1/submissions",
        params={"wait": "true"},
        json=body,
        headers={"Authorization": f"Bearer {erin}"},
        timeout=90,
    )
    assert r.status_code == 201, r.text
    judge0 = {"language_id": 71, "source_code": "print(1)", "callback_url": callback}
    r = requests.post(
        f"{base}/judge0/submissions", params={"wait": "true", "X-Auth-Token": erin}, json=judge0, timeout=90
    )
    assert r.status_code == 201, r.text
    r = requests.get(
        f"{base}/judge0/submissions/{r.json()['token']}", headers={"X-Auth-Token": erin}, timeout=30
    )
    assert r.status_code == 200
    for token, status in ((erin_read, 403), (revoked, 401), (unknown, 401)):
        r = requests.post(
            f"{base}/api/v1/submissions", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        assert r.status_code == status, r.text
        r = requests.get(f"{base}/judge0/statuses", params={"X-Auth-Token": token}, timeout=30)
        assert r.status_code == (200 if status == 403 else 401)
    for _ in range(41):  # the request limit, breached and logged
        r = requests.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {erin_read}"}, timeout=30)
    assert r.status_code == 429
    assert requests.get(
        f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=30
    ).ok
    assert (
        requests.get(
            f"{base}/metrics", headers={"Authorization": f"Bearer {unknown}"}, timeout=30
        ).status_code
        == 401
    )
    # 2 webhooks, one of them retried
    wait_until(lambda: len(receiver.received) >= 3, what="3 deliveries", timeout_s=30, every_s=0.1)
    assert len(receiver.received) >= 3
    receiver.server.shutdown()
    receiver.server.server_close()


def _files(data_dir: Path) -> Iterator[Path]:
    for path in sorted(data_dir.rglob("*")):
        if not path.is_file() or path.name.startswith("judge.db"):
            continue  # the database: hashes only, and no log
        if path.relative_to(data_dir).parts[0] == "problems":
            continue  # the imported packages
        yield path


def test_no_secret_reaches_a_log(tmp_path_factory: pytest.TempPathFactory, sandbox_ready: None) -> None:
    data_dir = tmp_path_factory.mktemp("secrecy")
    found: dict[str, str] = {"JUDGE_SECRET_KEY": SECRET_KEY, "JUDGE_METRICS_TOKEN": METRICS_TOKEN}
    stderr: list[str] = []
    service = run_service(data_dir, f"sqlite:///{data_dir / 'judge.db'}", extra_env=EXTRA_ENV)
    svc = next(service)
    try:
        _play(svc, found, stderr)
    finally:
        service.close()  # stops the web, the worker and Redis: their logs are whole
    assert all(len(v) >= 8 for v in found.values()), found
    texts = {
        str(p.relative_to(data_dir)): p.read_bytes().decode("utf-8", errors="replace")
        for p in _files(data_dir)
    }
    texts |= {f"stderr of command {i}": text for i, text in enumerate(stderr)}
    assert {"web.log", "worker.log", "redis/redis.log"} <= set(texts), sorted(texts)
    assert "exceeded at endpoint" in texts["web.log"]  # the breaches were logged, by key
    leaks = [
        (what, where) for what, secret in found.items() for where, text in texts.items() if secret in text
    ]
    assert not leaks, f"secrets in logs: {leaks}"
    for where, text in texts.items():
        for line in text.splitlines():
            assert not re.search(
                r"(?i)authorization:|bearer [a-z0-9_-]{8}|x-auth-token[=:]|[?&]token=", line
            ), (
                where,
                line,
            )
