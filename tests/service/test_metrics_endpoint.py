"""GET /metrics on the real service: Prometheus' text format, read back with its own parser."""

from __future__ import annotations

import pytest
import requests
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from service_kit import Service

pytestmark = pytest.mark.sandbox


def scrape(service: Service) -> dict[str, Metric]:
    token = service.env.get("JUDGE_METRICS_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = requests.get(f"{service.base}/metrics", headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return {f.name: f for f in text_string_to_metric_families(r.text)}


def value(family: Metric, **labels: str) -> float:
    found = [s.value for s in family.samples if s.labels == labels]
    assert len(found) == 1, (family.name, labels, family.samples)
    return found[0]


def test_metrics_show_workers_and_queues(service: Service) -> None:
    found = scrape(service)
    assert value(found["judge_workers_alive"]) >= 1
    assert value(found["judge_worker_slots"]) >= 2  # the fixture's worker runs two pool processes
    assert value(found["judge_queue_depth"], queue="judge.lang.c") >= 0
    assert value(found["judge_queue_depth"], queue="judge.service") >= 0
    for name in ("judge_judging_latency_seconds", "judge_box_start_seconds"):
        assert found[name].type == "histogram"


def test_an_accepted_submission_is_counted(service: Service) -> None:
    doc = service.submit(
        {"language": "python3", "source": "print(input())", "stdin": "hi\n", "expected_output": "hi\n"}
    )
    assert doc["verdict"] == "AC", doc
    found = scrape(service)
    assert value(found["judge_submissions"], verdict="AC") >= 1
    assert value(found["judge_submissions_by_state"], state="done") >= 1
    for name in ("judge_judging_latency_seconds", "judge_box_start_seconds"):
        count = [s.value for s in found[name].samples if s.name == f"{name}_count"]
        inf = [
            s.value for s in found[name].samples if s.name == f"{name}_bucket" and s.labels["le"] == "+Inf"
        ]
        assert count and count == inf and count[0] >= 1, (name, found[name].samples)  # the workers observed
