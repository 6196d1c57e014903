"""Webhooks from the real service to a receiver on loopback: signed, retried, logged."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from service_kit import Service

pytestmark = pytest.mark.sandbox


class Receiver:
    """A loopback HTTP server that fails the first `failures` POSTs with 500, then answers 204."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(500 if len(receiver.received) <= receiver.failures else 204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(failures=2)
    yield r
    r.server.shutdown()
    r.server.server_close()


def _deliveries(service: Service, sid: int, count: int) -> list[dict[str, object]]:
    deadline = time.monotonic() + 30
    while True:
        log = service.call("GET", f"/submissions/{sid}/deliveries").json()["deliveries"]
        if len(log) >= count or time.monotonic() > deadline:
            return list(log)
        time.sleep(0.1)


def test_a_failing_receiver_gets_the_webhook_again_until_it_takes_it(
    service: Service, receiver: Receiver
) -> None:
    doc = service.submit(
        {"language": "python3", "source": "print(42)", "stdin": "", "callback_url": receiver.url}, wait=False
    )
    log = _deliveries(service, doc["id"], 3)
    assert [(d["attempt"], d["status_code"], d["ok"]) for d in log] == [
        (1, 500, False),
        (2, 500, False),
        (3, 204, True),
    ]
    assert all(d["url"] == receiver.url for d in log)
    time.sleep(1.0)  # a success ends it: no fourth attempt
    assert len(receiver.received) == 3

    headers, body = receiver.received[-1]
    sent = json.loads(body)
    assert sent["id"] == doc["id"] and sent["state"] == "done" and sent["verdict"] == "AC"
    assert sent["stdout"] == "42\n"
    assert headers["X-Judge-Event"] == "submission.done"
    assert headers["X-Judge-Attempt"] == "3"
    deliveries = {h["X-Judge-Delivery"] for h, _ in receiver.received}
    assert len(deliveries) == 1 and deliveries.pop().startswith(f"{doc['id']}.")  # one event, retried
    key = service.call("GET", "/me").json()["webhook_key"].encode()
    expected = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Judge-Signature"], expected)
    bob_key = service.call("GET", "/me", as_="bob").json()["webhook_key"]
    assert bob_key.encode() != key  # each user has their own key


def test_an_unreachable_receiver_is_logged_with_the_error(service: Service) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    doc = service.submit(
        {
            "language": "python3",
            "source": "print(1)",
            "stdin": "",
            "callback_url": f"http://127.0.0.1:{port}/",
        }
    )
    log = _deliveries(service, doc["id"], 2)
    assert log[0]["ok"] is False and log[0]["status_code"] is None
    assert "refused" in str(log[0]["error"]).lower()
    assert [d["attempt"] for d in log[:2]] == [1, 2]
