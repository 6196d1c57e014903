"""The Judge0-compatible API (/judge0) against the real service, and driven by Judge0's own
Python SDK from PyPI (`judge0`), unchanged but for its base URL and token header."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from kit import wait_until
from service_kit import Receiver, Service, judge0_call, judge0_done

pytestmark = pytest.mark.sandbox


call = judge0_call  # service_kit.py: the one helper both Judge0 suites use


def run(service: Service, body: dict[str, Any], **params: str) -> dict[str, Any]:
    r = call(service, "POST", "/submissions", json=body, params={"wait": "true", **params})
    assert r.status_code == 201, r.text
    doc: dict[str, Any] = r.json()
    return doc


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_wait_returns_judge0s_default_fields(service: Service) -> None:
    doc = run(service, {"language_id": 71, "source_code": "print(input())", "stdin": "hi"})
    assert set(doc) == {"token", "time", "memory", "stdout", "stderr", "compile_output", "message", "status"}
    assert doc["status"] == {"id": 3, "description": "Accepted"}
    assert doc["stdout"] == "hi\n"
    assert isinstance(doc["time"], str) and float(doc["time"]) >= 0  # Judge0 sends seconds as a string
    assert isinstance(doc["memory"], int) and doc["memory"] > 100  # KB


def test_without_wait_a_token_then_get(service: Service) -> None:
    r = call(
        service, "POST", "/submissions", json={"language_id": 50, "source_code": "int main(){return 0;}"}
    )
    assert r.status_code == 201
    token = r.json()["token"]
    assert set(r.json()) == {"token"} and len(token) == 36
    doc = judge0_done(service, token, timeout_s=60)
    assert doc["status"]["id"] == 3


@pytest.mark.parametrize(
    ("language", "source", "extra", "status"),
    [
        (71, "print('a ')\nprint()", {"expected_output": "a"}, 3),  # trailing spaces and lines do not count
        (71, "print('A')", {"expected_output": "a"}, 4),  # case does
        (71, "while True: pass", {"cpu_time_limit": 0.5}, 5),
        (50, "int main( {", {}, 6),
        (50, "int main(){int *p=0; return *p;}", {}, 7),
        (50, "#include <stdlib.h>\nint main(){abort();}", {}, 10),
        (71, "import sys; sys.exit(3)", {}, 11),
        (71, "print('x' * 10000)", {"max_file_size": 1}, 8),  # output over max_file_size: Judge0's SIGXFSZ
    ],
)
def test_statuses(service: Service, language: int, source: str, extra: dict[str, Any], status: int) -> None:
    doc = run(
        service,
        {"language_id": language, "source_code": source, **extra},
        fields="status,exit_code,exit_signal",
    )
    assert doc["status"]["id"] == status, doc


def test_compiler_options(service: Service) -> None:
    source = '#include <stdio.h>\nint main(){printf("%d\\n", ANSWER);}'
    doc = run(
        service, {"language_id": 50, "source_code": source, "compiler_options": "-DANSWER=42"}, fields="*"
    )
    assert doc["stdout"] == "42\n" and doc["compiler_options"] == "-DANSWER=42"
    doc = run(service, {"language_id": 50, "source_code": source}, fields="status,compile_output")
    assert doc["status"]["id"] == 6 and "ANSWER" in doc["compile_output"]


def test_opt_in_kattis_checker(service: Service) -> None:
    body = {"language_id": 71, "source_code": "print(3.1416)", "expected_output": "3.14159"}
    assert run(service, body, fields="status")["status"]["id"] == 4  # Judge0's exact comparison
    tolerant = {**body, "judge_checker": "kattis", "judge_checker_args": ["float_tolerance", "1e-3"]}
    assert run(service, tolerant, fields="status")["status"]["id"] == 3
    r = call(
        service,
        "POST",
        "/submissions",
        json={**body, "judge_checker": "kattis", "judge_checker_args": ["nope"]},
    )
    assert r.status_code == 422 and "judge_checker_args" in r.json()


def test_base64_both_ways(service: Service) -> None:
    doc = run(
        service,
        {"language_id": 71, "source_code": b64("print(input()[::-1])"), "stdin": b64("judge")},
        base64_encoded="true",
    )
    assert base64.b64decode(doc["stdout"]) == b"egduj\n"


def test_fields_all_and_unknown(service: Service) -> None:
    doc = run(service, {"language_id": 71, "source_code": "print(1)"}, fields="*")
    assert doc["language"] == {"id": 71, "name": "Python (3.11)"}
    assert doc["cpu_time_limit"] == "5.0" and doc["memory_limit"] == 128000  # Judge0's defaults, as sent
    assert doc["redirect_stderr_to_stdout"] is False and doc["stdin"] is None and doc["stderr"] is None
    assert doc["exit_code"] == 0 and "judge_verdict" not in doc  # ours only when asked for by name
    extra = run(
        service,
        {"language_id": 71, "source_code": "x = bytearray(300 << 20)", "memory_limit": 65536},
        fields="status,judge_verdict,message",
    )
    assert extra["status"]["id"] == 12 and extra["judge_verdict"] == "MLE"  # Judge0 has no memory status
    r = call(
        service,
        "POST",
        "/submissions",
        json={"language_id": 71, "source_code": "x"},
        params={"fields": "nope"},
    )
    assert r.status_code == 400 and r.json() == {"error": "invalid fields: [nope]"}


def test_validation_errors_have_judge0s_shape(service: Service) -> None:
    r = call(
        service, "POST", "/submissions", json={"language_id": 9999, "cpu_time_limit": 99, "memory_limit": 1}
    )
    assert r.status_code == 422
    body = r.json()
    assert body["language_id"] == ["language with id 9999 doesn't exist"]
    assert body["source_code"] == ["can't be blank"]
    assert body["cpu_time_limit"] == ["must be less than or equal to 15.0"]  # Judge0's 15.0 (a float)
    assert body["memory_limit"] == ["must be greater than or equal to 2048"]
    r = call(
        service,
        "POST",
        "/submissions",
        json={"language_id": 71, "source_code": "x", "compiler_options": "-O"},
    )
    assert r.status_code == 422 and r.json() == {  # Python compiles nothing, as in Judge0
        "compiler_options": ["setting compiler options is only allowed for compiled languages"]
    }


def test_options_arguments_redirect_runs_and_files(service: Service) -> None:
    files = io.BytesIO()
    with zipfile.ZipFile(files, "w") as zf:
        zf.writestr("data.txt", "from the zip\n")
    source = (
        "import sys\nprint(' '.join(sys.argv[1:]))\nprint(open('data.txt').read(), end='')\n"
        "print('e', file=sys.stderr)"
    )
    doc = run(
        service,
        {
            "language_id": 71,
            "source_code": source,
            "command_line_arguments": "a b; rm -rf /",
            "redirect_stderr_to_stdout": True,
            "number_of_runs": 3,
            "additional_files": base64.b64encode(files.getvalue()).decode(),
        },
        fields="*",
    )
    assert doc["stdout"] == "a b rm -rf /\nfrom the zip\ne\n"  # ; stripped as Judge0 does
    assert doc["stderr"] is None  # empty, so null, as Judge0 stores it
    assert doc["number_of_runs"] == 3


def test_batch_create_and_get(service: Service) -> None:
    r = call(
        service,
        "POST",
        "/submissions/batch",
        json={
            "submissions": [
                {"language_id": 71, "source_code": "print(1)"},
                {"language_id": 12345, "source_code": "x"},
                {"language_id": 50, "source_code": "int main(){return 0;}"},
            ]
        },
    )
    assert r.status_code == 201
    first, bad, third = r.json()
    assert (
        "token" in first
        and "token" in third
        and bad == {"language_id": ["language with id 12345 doesn't exist"]}
    )
    tokens = f"{first['token']},00000000-0000-0000-0000-000000000000,{third['token']}"

    def batch() -> list[dict[str, Any] | None]:
        r = call(service, "GET", "/submissions/batch", params={"tokens": tokens})
        return list(r.json()["submissions"])

    subs = wait_until(
        batch,
        until=lambda subs: all(s is None or s["status"]["id"] > 2 for s in subs),
        timeout_s=60,
        every_s=0.1,
        what="the batch to end",
    )
    assert subs[1] is None
    assert [subs[0]["status"]["id"], subs[2]["status"]["id"]] == [3, 3]


def test_auth(service: Service) -> None:
    run(service, {"language_id": 71, "source_code": "print(1)"})
    assert call(service, "GET", "/submissions/x", as_=None).status_code == 401
    r = requests.get(
        f"{service.base}/judge0/statuses", params={"X-Auth-Token": service.tokens["alice"]}, timeout=10
    )
    assert r.status_code == 200
    assert (
        call(service, "GET", "/submissions", headers={"X-Auth-User": service.tokens["alice"]}).status_code
        == 403
    )
    r = call(service, "GET", "/submissions", headers={"X-Auth-User": service.tokens["organiser"]})
    assert r.status_code == 200 and r.json()["meta"]["total_count"] >= 1
    assert call(service, "POST", "/authenticate").status_code == 200
    assert call(service, "POST", "/authenticate", as_=None).status_code == 401
    assert (
        call(service, "POST", "/authorize", headers={"X-Auth-User": service.tokens["organiser"]}).status_code
        == 200
    )
    assert (
        call(service, "POST", "/authorize", headers={"X-Auth-User": service.tokens["bob"]}).status_code == 403
    )
    assert call(service, "DELETE", "/submissions/x").json() == {"error": "delete not allowed"}


def test_catalogue_endpoints(service: Service) -> None:
    langs = call(service, "GET", "/languages").json()
    ids = [lang["id"] for lang in langs]
    assert {43, 44, 48, 49, 50, 52, 53, 54, 62, 63, 71} <= set(ids)
    assert [lang["name"] for lang in langs] == sorted(lang["name"] for lang in langs)  # Judge0 orders by name
    one = call(service, "GET", "/languages/50").json()
    assert one["source_file"] == "main.c" and "gcc" in one["compile_cmd"] and one["is_archived"] is False
    assert call(service, "GET", "/languages/7").status_code == 404
    statuses = call(service, "GET", "/statuses").json()
    assert [s["id"] for s in statuses] == list(range(1, 15))
    assert call(service, "GET", "/about").json()["version"] == "1.13.1"
    assert call(service, "GET", "/version").text == "1.13.1"
    assert call(service, "GET", "/license").text and call(service, "GET", "/isolate").text
    config = call(service, "GET", "/config_info").json()
    assert config["cpu_time_limit"] == 5.0 and config["max_submission_batch_size"] == 20
    assert "CPU(s)" in call(service, "GET", "/system_info").json()
    assert "languages" in call(service, "GET", "/statistics").json()
    workers = call(service, "GET", "/workers").json()
    assert workers and {"queue", "size", "available", "idle", "working"} <= set(workers[0])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def test_callback_is_a_put_in_base64_with_our_signature(service: Service, receiver: Receiver) -> None:
    r = call(
        service,
        "POST",
        "/submissions",
        json={"language_id": 71, "source_code": "print(7)", "callback_url": receiver.url},
    )
    token = r.json()["token"]
    wait_until(lambda: receiver.received, what="the callback", timeout_s=30, every_s=0.1)
    method, headers, body = receiver.received[0]
    doc = json.loads(body)
    assert method == "PUT" and doc["token"] == token and doc["status"]["id"] == 3
    assert base64.b64decode(doc["stdout"]) == b"7\n"  # Judge0 always sends callbacks in base64
    assert headers["X-Judge-Signature"].startswith("sha256=")


def test_judge0s_own_python_sdk_runs_unchanged(service: Service) -> None:
    judge0 = pytest.importorskip("judge0")
    client = judge0.Client(f"{service.base}/judge0", headers={"X-Auth-Token": service.tokens["alice"]})
    result = judge0.run(client=client, source_code="print(input())", language=71, stdin="from the SDK")
    assert result.status.value == 3 or getattr(result.status, "id", None) == 3
    assert result.stdout == "from the SDK\n"
