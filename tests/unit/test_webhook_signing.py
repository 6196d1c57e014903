"""judge/service/webhooks.py: signatures, keys, URLs, back-off, and one attempt against loopback."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from judge.service import webhooks


def test_signature_is_hmac_sha256_of_the_body() -> None:
    key, body = b"k" * 64, b'{"id": 1}'
    assert webhooks.sign(key, body) == "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
    assert webhooks.sign(key, body) != webhooks.sign(key, body + b" ")


def test_each_user_has_their_own_key_from_the_secret() -> None:
    a, b = webhooks.user_key("secret", 1), webhooks.user_key("secret", 2)
    assert a != b
    assert a == webhooks.user_key("secret", 1)
    assert webhooks.user_key("other", 1) != a
    assert len(a) == 64


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.org/hook", True),
        ("http://127.0.0.1:8080/x", True),
        ("ftp://example.org", False),
        ("javascript:alert(1)", False),
        ("http://", False),
        ("https://e.org/" + "x" * 2100, False),
    ],
)
def test_check_url(url: str, ok: bool) -> None:
    assert (webhooks.check_url(url) is None) == ok


def test_backoff_doubles_from_the_base(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JUDGE_WEBHOOK_BACKOFF_S", raising=False)
    assert [webhooks.backoff_s(n) for n in range(1, 6)] == [2, 4, 8, 16, 32]
    monkeypatch.setenv("JUDGE_WEBHOOK_BACKOFF_S", "0.5")
    assert webhooks.backoff_s(3) == 2.0


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # http.server's name
        self.rfile.read(int(self.headers["Content-Length"]))
        self.server.seen.append(dict(self.headers))  # type: ignore[attr-defined]
        if self.path == "/redirect":
            self.send_response(307)
            self.send_header("Location", "/ok")
        else:
            self.send_response({"/ok": 200, "/fail": 500}[self.path])
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.seen = []  # type: ignore[attr-defined]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _url(srv: ThreadingHTTPServer, path: str) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}{path}"


def test_a_2xx_is_delivered_with_the_headers(server: ThreadingHTTPServer) -> None:
    attempt = webhooks.post(_url(server, "/ok"), b"{}", key=b"k", delivery="7.123", attempt=2)
    assert attempt.ok and attempt.status_code == 200 and attempt.error is None
    (headers,) = server.seen  # type: ignore[attr-defined]
    assert headers["X-Judge-Delivery"] == "7.123"
    assert headers["X-Judge-Attempt"] == "2"
    assert headers["X-Judge-Signature"] == webhooks.sign(b"k", b"{}")


def test_a_500_is_a_failure(server: ThreadingHTTPServer) -> None:
    attempt = webhooks.post(_url(server, "/fail"), b"{}", key=b"k", delivery="1.1", attempt=1)
    assert not attempt.ok and attempt.status_code == 500 and attempt.error == "HTTP 500"


def test_a_redirect_is_not_followed(server: ThreadingHTTPServer) -> None:
    attempt = webhooks.post(_url(server, "/redirect"), b"{}", key=b"k", delivery="1.1", attempt=1)
    assert not attempt.ok and attempt.status_code == 307
    assert len(server.seen) == 1  # type: ignore[attr-defined]


def test_nothing_listening_is_a_failure_with_the_reason() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    attempt = webhooks.post(
        f"http://127.0.0.1:{port}/", b"{}", key=b"k", delivery="1.1", attempt=1, timeout_s=2
    )
    assert not attempt.ok and attempt.status_code is None
    assert "refused" in (attempt.error or "").lower()
