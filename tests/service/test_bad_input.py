"""Bad input to the real service: each is a 4xx with a message that says what is wrong, never a 5xx.

The JSON API takes text: a source is a JSON string, so bytes that are not UTF-8 cannot be sent
as one (the body is then not JSON: 400), and a string holding what no text is (a lone UTF-16
surrogate, `"\\ud800"`) is 422. NUL is fine inside a program, its input and its expected
output, which are stored as bytes, and nowhere else. The Judge0 API takes bytes as Judge0 does:
base64 with `base64_encoded=true`, stored as sent, and shown back in base64 (or refused with
Judge0's own message when asked for as text). Its malformed requests get Judge0's 422
`{"field": ["message"]}`; fields it does not know are ignored, as Judge0's strong parameters
drop them.

Uploaded zips (packages, POST /problems; batches, POST /batches) are judged whole before
anything is unpacked (judge/problems/archive.py): each unsafe kind is a 422 naming the entry and
the reason, nothing is left in the data directory, and the worker grades on afterwards.
tests/unit/test_unsafe_zips.py has the same cases in small, one by one.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from service_kit import Service, zip_of

pytestmark = pytest.mark.sandbox

MAX_SOURCE_BYTES = 256 * 1024  # web/api/submissions.py
MiB = 1 << 20


def post(
    service: Service, body: Any, *, path: str = "/submissions", as_: str = "alice", **kw: Any
) -> requests.Response:
    """POST `body`: bytes or str as sent, anything else as JSON (NaN and Infinity allowed)."""
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    headers = {"Content-Type": "application/json", **kw.pop("headers", {})}
    return service.call("POST", path, as_=as_, data=data, headers=headers, **kw)


def refused(r: requests.Response, status: int, code: str, *words: str) -> str:
    """The error's message, after checking the status, the code and that it says each word."""
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code, error
    for word in words:
        assert word in error["message"], error
    return str(error["message"])


# --- sources -------------------------------------------------------------------------------------


def test_a_source_over_the_limit_is_413(service: Service) -> None:
    r = post(service, {"language": "python3", "source": "#" * (MAX_SOURCE_BYTES + 1), "stdin": ""})
    refused(r, 413, "too_large", "'source'", str(MAX_SOURCE_BYTES))
    # the limit is in UTF-8 bytes, not characters
    r = post(service, {"language": "python3", "source": "#" + "é" * (MAX_SOURCE_BYTES // 2), "stdin": ""})
    refused(r, 413, "too_large", f"{MAX_SOURCE_BYTES + 1} bytes")
    r = post(service, {"language": "python3", "source": "#" * MAX_SOURCE_BYTES, "stdin": ""})
    assert r.status_code == 201, r.text  # exactly the limit is taken


def test_stdin_over_its_limit_is_413(service: Service) -> None:
    r = post(service, {"language": "python3", "source": "pass", "stdin": "x" * (16 * MiB + 1)})
    refused(r, 413, "too_large", "'stdin'")


@pytest.mark.parametrize("source", [5, 1.5, True, ["print(1)"], {"main.py": "print(1)"}, None])
def test_a_source_that_is_not_a_string_is_422(service: Service, source: Any) -> None:
    r = post(service, {"language": "python3", "source": source, "stdin": ""})
    refused(r, 422, "invalid_field", "'source'")


def test_bytes_that_are_not_utf8_cannot_be_a_json_string(service: Service) -> None:
    raw = b'{"language": "python3", "source": "print(1) # \xff\xfe", "stdin": ""}'
    refused(post(service, raw), 400, "bad_request", "JSON object")


def test_a_lone_surrogate_is_not_text(service: Service) -> None:
    """Valid JSON, but no UTF-8 form: encoding it was a 500 (UnicodeEncodeError)."""
    for field in ("source", "stdin", "expected_output"):
        body = {"language": "python3", "source": "pass", "stdin": "", field: "a\\ud800b"}
        r = post(service, json.dumps(body).replace("\\\\ud800", "\\ud800"))
        refused(r, 422, "invalid_field", f"'{field}'", "lone UTF-16 surrogate", "\\ud800")
    r = post(service, '{"language": "python3", "source": "pass", "problem": "\\udfff"}')
    refused(r, 422, "invalid_field", "'problem'", "surrogate")
    body = '{"submissions": [{"language": "python3", "source": "\\ud83d", "stdin": ""}]}'
    refused(post(service, body, path="/submissions/batch"), 422, "invalid_field", "'submissions[0].source'")
    # a surrogate pair is one character like any other
    r = post(
        service,
        '{"language": "python3", "source": "print(\'\\ud83d\\ude00\')", "stdin": ""}',
        params={"wait": "true"},
    )
    assert r.status_code == 201 and r.json()["stdout"] == "\U0001f600\n", r.text


def test_nul_in_a_program_is_the_programs_business(service: Service) -> None:
    doc = service.submit({"language": "python3", "source": "print(1)\n\0", "stdin": "a\0b"})
    assert doc["state"] == "done" and doc["verdict"] == "CE", doc  # CPython refuses NUL in a source
    doc = service.submit(
        {
            "language": "python3",
            "source": "import sys; print(sys.stdin.read().count('\\0'))",
            "stdin": "a\0b\0",
            "expected_output": "2",
        }
    )
    assert doc["verdict"] == "AC", doc


@pytest.mark.parametrize("field", ["language", "problem", "callback_url"])
def test_nul_anywhere_else_is_422(service: Service, field: str) -> None:
    body = {"language": "python3", "source": "pass", "problem": "sum", field: "su\0m"}
    refused(post(service, body), 422, "invalid_field", f"'{field}'", "NUL")


# --- languages, problems and every field ---------------------------------------------------------


def test_an_unknown_language_or_problem_says_which(service: Service) -> None:
    r = post(service, {"language": "swift", "source": "x", "stdin": ""})
    refused(r, 422, "unknown_language", "'swift'", "python3")
    r = post(service, {"language": "python3", "source": "x", "problem": "no-such-problem"})
    refused(r, 404, "unknown_problem", "'no-such-problem'")
    r = service.call("GET", "/problems/no-such-problem")
    refused(r, 404, "unknown_problem", "'no-such-problem'")


AD_HOC = {"language": "python3", "source": "pass", "stdin": ""}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("language", 5),
        ("language", None),
        ("language", ["python3"]),
        ("language", {}),
        ("problem", 5),
        ("problem", ["sum"]),
        ("problem", {"id": "sum"}),
        ("stdin", 5),
        ("stdin", ["a"]),
        ("expected_output", 5),
        ("expected_output", {}),
        ("time_limit", "1"),
        ("time_limit", True),
        ("time_limit", []),
        ("time_limit", -1),
        ("time_limit", 0),
        ("time_limit", 31),
        ("time_limit", float("nan")),
        ("time_limit", float("inf")),
        ("time_limit", 10**400),
        ("memory_limit", "64"),
        ("memory_limit", -1),
        ("memory_limit", 10**12),
        ("memory_limit", float("nan")),
        ("memory_limit", float("-inf")),
        ("callback_url", 5),
        ("callback_url", "ftp://example.org/"),
        ("callback_url", "http://[::1/"),
        ("callback_url", "http://example.org:99999/"),
        ("callback_url", "http://exa mple.org/"),
    ],
)
def test_a_field_of_the_wrong_type_or_range_is_422(service: Service, field: str, value: Any) -> None:
    body = {**AD_HOC, field: value}
    if field == "problem":
        del body["stdin"]
    r = post(service, body)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] in ("invalid_field", "unknown_language"), error
    assert field in error["message"], error


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("language=python3&source=pass", "application/x-www-form-urlencoded"),
        ("print(1)", "text/plain"),
        ("", "application/json"),
        ('{"language": ', "application/json"),
        ("[1, 2]", "application/json"),
        ('"a string"', "application/json"),
        ("[" * 100_000 + "]" * 100_000, "application/json"),  # deeper than json.loads goes: was a 500
    ],
)
def test_a_body_that_is_not_a_json_object_is_400(service: Service, body: str, content_type: str) -> None:
    r = post(service, body, headers={"Content-Type": content_type})
    refused(r, 400, "bad_request", "JSON object")


def test_a_body_over_256_mib_is_413_before_it_is_read(service: Service, tmp_path: Path) -> None:
    huge = tmp_path / "huge.json"
    with huge.open("wb") as f:  # sparse: no disk is used for the zeros
        f.truncate(256 * MiB + 1)
    with huge.open("rb") as f:
        r = service.call("POST", "/submissions", data=f, headers={"Content-Type": "application/json"})
    refused(r, 413, "request_entity_too_large")


def test_ids_beyond_the_databases_integers_are_404(service: Service) -> None:
    """`<int:...>` took any size; 10^30 reached the database and was a 500 (OverflowError)."""
    for path in (
        "/submissions/1000000000000000000000000000000",
        "/submissions/2147483648/events",
        "/batches/99999999999999999999",
    ):
        refused(service.call("GET", path, as_="organiser"), 404, "not_found")
    for before in ("99999999999999999999999", "-99999999999999999999999"):
        r = service.call("GET", "/submissions", params={"before": before})
        assert r.status_code == 200, r.text


def test_nul_in_a_url_is_400(service: Service) -> None:
    """A path or query parameter with %00 reaches no query: PostgreSQL's text cannot hold NUL, so
    `GET /problems/a%00b` was a 500 there (a 404 on SQLite, which takes it)."""
    for path, params in (
        ("/problems/a%00b", {}),
        ("/problems/a%00b/rejudge", {}),
        ("/submissions", {"problem": "a\0b"}),
    ):
        method = "POST" if path.endswith("rejudge") else "GET"
        refused(service.call(method, path, as_="organiser", params=params), 400, "bad_request", "NUL")
    r = judge0_get(service, "/submissions/abc%00def")
    assert r.status_code == 400 and "NUL" in r.json()["error"], r.text
    r = judge0_get(service, "/submissions/batch", tokens="a\0b")
    assert r.status_code == 400 and "NUL" in r.json()["error"], r.text


def test_a_json_batch_with_bad_items_stores_nothing(service: Service, sum_problem: str) -> None:
    before = service.call("GET", "/submissions", as_="organiser", params={"limit": 1}).json()
    for items in (
        [{"label": 5, "language": "python3", "source": "x"}],
        [{"label": "a\0", "language": "python3", "source": "x"}],
        [{"label": "a", "language": "python3", "source": "x" * (MAX_SOURCE_BYTES + 1)}],
    ):
        r = post(service, {"problem": sum_problem, "submissions": items}, path="/batches", as_="organiser")
        assert r.status_code in (413, 422), r.text
        assert "submissions[0]" in r.json()["error"]["message"], r.text
    after = service.call("GET", "/submissions", as_="organiser", params={"limit": 1}).json()
    assert after["submissions"][:1] == before["submissions"][:1]


# --- zips: packages and batches ------------------------------------------------------------------


def zeros_bomb(path: Path, name: str, mib: int = 1000) -> Path:
    """A zip of one entry, `mib` MiB of zero bytes (1000 MiB deflates to about 1 MB), written
    without ever holding or compressing it whole: one MiB deflated with a full flush is a run of
    deflate blocks that refers to nothing before it, so the entry's data is that run repeated,
    then an empty final block."""
    chunk = bytes(MiB)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    run = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    last = deflate.flush()
    assert zlib.decompressobj(-15).decompress(run + run + last) == bytes(2 * MiB)
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(chunk, crc)
    size, packed, raw_name = mib * MiB, len(run) * mib + len(last), name.encode()
    with path.open("wb") as f:
        f.write(
            struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, packed, size, len(raw_name), 0)
        )
        f.write(raw_name)
        for _ in range(mib):
            f.write(run)
        f.write(last)
        directory = f.tell()
        f.write(
            struct.pack(
                "<4s6H3I5H2I",
                b"PK\x01\x02",
                0x031E,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                packed,
                size,
                len(raw_name),
                0,
                0,
                0,
                0,
                0o100644 << 16,
                0,
            )
        )
        f.write(raw_name)
        end = f.tell()
        f.write(struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, 1, 1, end - directory, directory, 0))
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = zeros_bomb(tmp_path_factory.mktemp("bomb") / "bomb.zip", "bomb/data/secret/zeros.in")
    with zipfile.ZipFile(path) as zf:
        (info,) = zf.infolist()
    assert info.file_size == 1000 * MiB and path.stat().st_size < 2 * MiB
    return path


def _entry(name: str, data: bytes, mode: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo(name)
        info.external_attr = mode << 16
        zf.writestr(info, data)
    return buf.getvalue()


@functools.cache
def _many(count: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(count):
            zf.writestr(f"many/{i}.py", b"")
    return buf.getvalue()


SUM_FILES = {"p/problem.yaml": b"name: P\n", "p/data/secret/1.in": b"1 2\n", "p/data/secret/1.ans": b"3\n"}
UNSAFE: dict[str, tuple[Callable[[], bytes], str]] = {  # name: (makes the zip, what the message says)
    "escape": (lambda: zip_of({**SUM_FILES, "p/../../../escaped.py": b"x"}), "escaping its folder"),
    "absolute": (lambda: zip_of({**SUM_FILES, "/tmp/absolute.py": b"x"}), "escaping its folder"),
    "symlink": (lambda: _entry("p/data/secret/2.in", b"/etc/shadow", 0o120777), "a symlink entry"),
    "device": (lambda: _entry("p/data/secret/3.in", b"", 0o020666), "a special file entry"),
    "many": (lambda: _many(100_000), "declares 100000 entries, more than 10000"),
    "notzip": (lambda: b"GIF89a, not a zip at all" * 100, "not a readable zip file"),
    "empty": (lambda: zip_of({}), "an empty zip"),
}


def _upload(case: str, bomb: Path) -> tuple[str, bytes]:
    return f"{case}.zip", bomb.read_bytes() if case == "bomb" else UNSAFE[case][0]()


def _leftovers(service: Service) -> list[str]:
    incoming = service.data_dir / "problems" / ".incoming"
    return sorted(p.name for p in incoming.iterdir()) if incoming.exists() else []


@pytest.mark.parametrize("case", [*UNSAFE, "bomb"])
def test_an_unsafe_package_is_refused_and_leaves_nothing(service: Service, bomb: Path, case: str) -> None:
    name, data = _upload(case, bomb)
    r = service.call(
        "POST", "/problems", as_="organiser", params={"wait": 0}, files={"package": (name, data)}
    )
    fault = "looks like a zip bomb" if case == "bomb" else UNSAFE[case][1]
    message = refused(r, 422, "bad_package", fault)
    assert message.startswith(name), message  # names the upload, and the entry where there is one
    assert _leftovers(service) == []
    assert not (service.data_dir / "problems" / case).exists()
    assert not (service.data_dir.parent / "escaped.py").exists() and not Path("/tmp/absolute.py").exists()


@pytest.mark.parametrize("case", [*UNSAFE, "bomb"])
def test_an_unsafe_batch_is_refused(service: Service, bomb: Path, sum_problem: str, case: str) -> None:
    name, data = _upload(case, bomb)
    r = service.call(
        "POST", "/batches", as_="organiser", data={"problem": sum_problem}, files={"archive": (name, data)}
    )
    fault = "more than 268435456: refusing what looks like a zip bomb" if case == "bomb" else UNSAFE[case][1]
    refused(r, 422, "bad_archive", fault)


def test_the_worker_grades_on_after_the_bad_uploads(service: Service) -> None:
    workers = service.call("GET", "/workers", as_="organiser").json()["workers"]
    assert workers, "no worker announces itself"
    doc = service.submit({"language": "python3", "source": "print(input())", "stdin": "still here"})
    assert doc["verdict"] == "AC" and doc["stdout"] == "still here\n"


# --- the Judge0 API ------------------------------------------------------------------------------


def judge0(service: Service, body: Any, *, path: str = "/submissions", **params: str) -> requests.Response:
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    headers = {"X-Auth-Token": service.tokens["alice"], "Content-Type": "application/json"}
    url = f"{service.base}/judge0{path}"
    return requests.post(url, data=data, params=params, headers=headers, timeout=90)


def judge0_get(service: Service, path: str, *, as_admin: bool = False, **params: str) -> requests.Response:
    headers = {"X-Auth-Token": service.tokens["alice"]}
    if as_admin:
        headers["X-Auth-User"] = service.tokens["organiser"]
    return requests.get(f"{service.base}/judge0{path}", params=params, timeout=30, headers=headers)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"language_id": 71}, {"source_code": ["can't be blank"]}),
        ({"language_id": 71, "source_code": "   \n"}, {"source_code": ["can't be blank"]}),
        ({"source_code": "print(1)"}, {"language_id": ["can't be blank"]}),
        ({"language_id": 9999, "source_code": "x"}, {"language_id": ["language with id 9999 doesn't exist"]}),
        (
            {"language_id": "seventy-one", "source_code": "x"},  # Rails casts what is no number to nil
            {"language_id": ["can't be blank"]},
        ),
        (
            {"language_id": [71], "source_code": "x"},
            {"language_id": ["can't be blank"]},
        ),  # permit drops lists
        ({"language_id": 71, "source_code": 5}, {"source_code": ["must be a string"]}),
        ({"language_id": 71, "source_code": "x", "stdin": ["a"]}, {"stdin": ["must be a string"]}),
        (
            {"language_id": 71, "source_code": "x", "cpu_time_limit": "fast"},
            {"cpu_time_limit": ["is not a number"]},
        ),
        (
            {
                "language_id": 71,
                "source_code": "x",
                "cpu_time_limit": 15.5,
            },  # Judge0's maximum is a float: 15.0
            {"cpu_time_limit": ["must be less than or equal to 15.0"]},
        ),
        (
            {
                "language_id": 71,
                "source_code": "x",
                "cpu_time_limit": 10**30,
            },  # was a 500: isfinite(int) overflowed
            {"cpu_time_limit": ["must be less than or equal to 15.0"]},
        ),
        (
            {"language_id": 71, "source_code": "x", "cpu_time_limit": -1},
            {"cpu_time_limit": ["must be greater than or equal to 0"]},
        ),
        (
            {"language_id": 71, "source_code": "x", "memory_limit": float("nan")},
            {"memory_limit": ["is not a number"]},
        ),
        (
            {"language_id": 71, "source_code": "x", "wall_time_limit": 0.5},
            {"wall_time_limit": ["must be greater than or equal to 1"]},
        ),
        (
            {"language_id": 71, "source_code": "x", "enable_network": True},
            {"enable_network": ["enabling network is not allowed"]},
        ),
    ],
)
def test_judge0_validation_errors_are_judge0s_422(service: Service, body: Any, errors: Any) -> None:
    r = judge0(service, body)
    assert r.status_code == 422, r.text
    assert r.json() == errors


def test_judge0_text_that_is_not_text(service: Service) -> None:
    r = judge0(service, '{"language_id": 71, "source_code": "print(1) # \\ud800"}')  # was a 500
    assert r.status_code == 422 and "lone UTF-16 surrogate" in r.json()["source_code"][0], r.text
    assert "base64_encoded=true" in r.json()["source_code"][0]
    r = judge0(service, '{"language_id": 50, "source_code": "int main(){}", "compiler_options": "-O\\u0000"}')
    assert r.status_code == 422 and "NUL" in r.json()["compiler_options"][0], r.text


@pytest.mark.parametrize(
    ("source", "fault"),
    [
        ("cHJpbnQoMSk", "is not valid base64"),  # padding missing
        ("\u00e9t\u00e9", "is not valid base64"),
        ("@@@@", "can't be blank"),  # no base64 characters at all: nothing, as Judge0 decodes it
    ],
)
def test_judge0_invalid_base64_is_422(service: Service, source: str, fault: str) -> None:
    r = judge0(service, {"language_id": 71, "source_code": source}, base64_encoded="true")
    assert r.status_code == 422 and r.json() == {"source_code": [fault]}, r.text


def test_judge0_base64_that_is_not_utf8_is_kept_as_bytes(service: Service) -> None:
    """Judge0 stores what base64 gave it and answers in base64, or with its UTF-8 error."""
    source = b"int main(void) { return 0; } /* caf\xe9 \xff */\n"
    r = judge0(
        service,
        {"language_id": 50, "source_code": b64(source), "stdin": b64(b"\xfe\x00")},
        base64_encoded="true",
        wait="true",
        fields="status,source_code,stdin",
    )
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["status"]["id"] == 3, doc  # compiled and ran: the bytes reached the compiler whole
    assert base64.b64decode(doc["source_code"]) == source and base64.b64decode(doc["stdin"]) == b"\xfe\x00"
    r = judge0(service, {"language_id": 50, "source_code": b64(source)}, base64_encoded="true")
    token = r.json()["token"]
    as_text = judge0_get(service, f"/submissions/{token}", fields="source_code")
    assert as_text.status_code == 400, as_text.text
    assert as_text.json() == {
        "error": "some attributes for this submission cannot be converted to UTF-8, "
        "use base64_encoded=true query parameter"
    }


def test_judge0_unknown_fields_are_ignored_as_judge0_does(service: Service) -> None:
    r = judge0(
        service,
        {"language_id": 71, "source_code": "print(1)", "no_such_field": [1, {"x": None}], "priority": "high"},
        wait="true",
    )
    assert r.status_code == 201 and r.json()["stdout"] == "1\n", r.text


@pytest.mark.parametrize("body", ["not json", "[1, 2]", "[" * 100_000 + "]" * 100_000])
def test_judge0_a_body_that_is_not_an_object(service: Service, body: str) -> None:
    r = judge0(service, body)
    assert r.status_code == 422 and r.json() == {"submission": ["must be an object"]}, r.text


def test_judge0_additional_files_must_be_a_safe_zip(service: Service) -> None:
    for files, fault in (
        (b"not a zip", "not a readable zip file"),
        (zip_of({"../escape.txt": b"x"}), "escaping its folder"),
        (_entry("link", b"/etc/passwd", 0o120777), "a symlink entry"),
    ):
        r = judge0(service, {"language_id": 71, "source_code": "print(1)", "additional_files": b64(files)})
        assert r.status_code == 422 and fault in r.json()["additional_files"][0], r.text


def test_judge0_batches(service: Service) -> None:
    assert judge0(service, {"submissions": []}, path="/submissions/batch").status_code == 400  # Judge0's
    many = [{"language_id": 71, "source_code": "x"}] * 21
    r = judge0(service, {"submissions": many}, path="/submissions/batch")
    assert r.status_code == 400 and "less than or equal to 20" in r.json()["error"], r.text
    bad = [5, {"language_id": 9999, "source_code": "x"}]
    r = judge0(service, {"submissions": bad}, path="/submissions/batch")
    assert r.status_code == 422, r.text
    assert r.json() == [
        {"submission": ["must be an object"]},
        {"language_id": ["language with id 9999 doesn't exist"]},
    ]
    r = judge0_get(service, "/submissions", as_admin=True, page="9" * 30)
    assert r.status_code == 200 and r.json()["submissions"] == [], r.text  # was a 500: the offset overflowed
