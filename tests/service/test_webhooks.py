"""Webhooks from the real service to a receiver on loopback: signed, retried, logged."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator

import pytest
from kit import wait_until
from service_kit import Receiver, Service

pytestmark = pytest.mark.sandbox


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(failures=2) as r:
        yield r


def _deliveries(service: Service, sid: int, count: int) -> list[dict[str, object]]:
    def log() -> list[dict[str, object]]:
        return list(service.call("GET", f"/submissions/{sid}/deliveries").json()["deliveries"])

    return wait_until(
        log,
        until=lambda got: len(got) >= count,
        timeout_s=30,
        every_s=0.1,
        what=f"{count} deliveries of submission {sid}",
    )


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

    _, headers, body = receiver.received[-1]
    sent = json.loads(body)
    assert sent["id"] == doc["id"] and sent["state"] == "done" and sent["verdict"] == "AC"
    assert sent["stdout"] == "42\n"
    assert headers["X-Judge-Event"] == "submission.done"
    assert headers["X-Judge-Attempt"] == "3"
    deliveries = {h["X-Judge-Delivery"] for _, h, _ in receiver.received}
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
