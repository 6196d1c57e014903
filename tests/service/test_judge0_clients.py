"""Judge0's clients as people use them, unchanged but for the base URL and the token, against
/judge0 on the real service (issue 18): every request each one makes must answer as Judge0
1.13.1 would.

- judge0api 0.1.20 (requests): trailing slashes (`POST /submissions/`), base64, `fields`.
- judge0-client 0.4.0 (httpx2, async, pydantic models of the answers).
- Judge0's own SDK (`judge0` on PyPI): runs, batches, the catalogue.
- judge0-api-wrapper 1.1.3: its metadata pins its whole build environment (rich 13, nh3 0.2,
  twine, ...), which no environment with ours can satisfy, so it is no dev dependency; the
  fixture installs that one wheel, by hash and without its pins, into a folder of its own. Its
  one import beyond ours, furl, is in the dev extra.
- Judge0's documented examples (docs/api of judge0 v1.13.1), request by request, answered as
  the docs show, except where the README's list of differences says why.
- The IDE (judge0/ide js/ide.js of 2021-22, the version for Judge0 1.13): the HTTP its `run()`,
  `fetchSubmission()` and `loadSavedSource()` send, for every language we have, run by a second
  worker that takes the languages the session's worker (C and Python) does not.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import judge0
import judge0_client
import judge0api
import pytest
import requests
from kit import wait_until
from service_kit import Service, judge0_call, judge0_done, stop_all
from sqlalchemy import select

from judge.service import judge0 as domain
from judge.storage import connect, session_factory
from judge.storage.models import Submission

pytestmark = pytest.mark.sandbox

WRAPPER = (
    "judge0-api-wrapper==1.1.3 --hash=sha256:f1b7d0851a9f1672275716c06f957b04f8cb5b99b599709163c5d516a6933d09"
)


def api(service: Service) -> str:
    return f"{service.base}/judge0"


call = judge0_call  # service_kit.py: the one helper both Judge0 suites use


def b64(text: str | bytes) -> str:
    return base64.b64encode(text if isinstance(text, bytes) else text.encode()).decode()


def unb64(text: str | None) -> str:
    return base64.b64decode(text or "").decode()


def zipped(files: dict[str, str | bytes]) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return b64(buf.getvalue())


# -- judge0api 0.1.20 ------------------------------------------------------------------------------


def test_judge0api_submits_waits_and_loads_through_trailing_slashes(service: Service) -> None:
    client = judge0api.Client(
        api(service), auth_token=service.tokens["alice"]
    )  # POST /authenticate?X-Auth-Token
    done = judge0api.submission.submit(
        client,
        b"print(input()[::-1])",
        71,
        stdin=b"judge",
        expected_output=b"egduj",
        cpu_time_limit=2,
        memory_limit=65536,
    )
    assert done.status == {"id": 3, "description": "Accepted"} and done.stdout == b"egduj\n"
    loaded = judge0api.submission.get(client, done.token)  # GET /submissions/{token}/?fields=...
    assert loaded.stdout == b"egduj\n" and loaded.language_id == 71 and loaded.stderr is None
    assert float(loaded.time) >= 0 and loaded.memory > 0 and loaded.exit_code == 0
    wrong = judge0api.submission.submit(
        client, b'#include <stdio.h>\nint main(){puts("4");}', 50, expected_output=b"5"
    )
    assert wrong.status["id"] == 4 and wrong.compile_output is None
    broken = judge0api.submission.submit(client, b"int main( {", 50)
    assert broken.status["id"] == 6 and b"error" in broken.compile_output
    client.wait = False
    queued = judge0api.submission.submit(client, b"print(6 * 7)", 71)
    assert queued.token and queued.status is None
    assert judge0_done(service, queued.token)["stdout"] == "42\n"


# -- judge0-client 0.4.0 ---------------------------------------------------------------------------


def test_judge0_client_creates_polls_and_reads_the_system(service: Service) -> None:
    header = "#define ANSWER 42\n"
    source = (
        '#include <stdio.h>\n#include "answer.h"\n'
        'int main(void){int x;scanf("%d",&x);printf("%d\\n",x+ANSWER);}'
    )

    async def scenario() -> None:
        async with judge0_client.Judge0Client(api(service), auth_token=service.tokens["alice"]) as client:
            about = await client.get_about()
            assert about.version == "1.13.1"
            workers = await client.get_workers()
            assert workers and workers[0].available >= 1
            assert await client.get_isolate() and await client.get_license()
            created = await client.create_submission(
                judge0_client.SingleFileSubmission(
                    source_code=source,
                    language_id=50,
                    stdin="0",
                    expected_output="42",
                    additional_files={
                        "answer.h": header
                    },  # a header: there when gcc runs (Judge0 unzips first)
                    cpu_time_limit=2.0,
                    memory_limit=128000.0,
                    redirect_stderr_to_stdout=False,
                )
            )
            deadline = time.monotonic() + 120
            while True:
                detail = await client.get_submission(created.token)
                if detail.status.id > 2 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
            assert detail.status.id == judge0_client.SubmissionStatusId.ACCEPTED, detail
            assert detail.stdout == "42\n" and detail.stderr is None and detail.message is None
            with pytest.raises(judge0_client.Judge0Error, match="422"):  # Judge0's multi-file 89: not offered
                await client.create_submission(
                    judge0_client.MultiFileSubmission(
                        additional_files={"run": "python3 main.py", "main.py": "print(1)"}
                    )
                )

    # a thread of its own: the session's shared browser (Playwright's sync API) keeps an event loop
    # running in this thread, and asyncio.run() refuses to start inside one
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result()


# -- Judge0's own SDK ------------------------------------------------------------------------------


def test_judge0s_sdk_runs_a_batch_and_reads_the_catalogue(service: Service) -> None:
    client = judge0.Client(api(service), headers={"X-Auth-Token": service.tokens["alice"]})
    results = judge0.run(
        client=client,
        submissions=[
            judge0.Submission(source_code="print(input())", language=71, stdin="a", expected_output="a"),
            judge0.Submission(
                source_code='#include <stdio.h>\nint main(){puts("b");}', language=50, expected_output="c"
            ),
        ],
    )
    assert [r.status.value if hasattr(r.status, "value") else r.status for r in results] == [3, 4]
    assert results[0].stdout == "a\n" and results[1].stdout == "b\n"
    assert client.get_language(71).compile_cmd is None  # the SDK reads "no compile_cmd" as interpreted
    assert "%s" in (client.get_language(50).compile_cmd or "")
    assert {lang.id for lang in client.get_languages()} >= {43, 44, 48, 49, 50, 52, 53, 54, 71}
    assert client.get_config_info().max_submission_batch_size == 20


def test_judge0s_sdk_aliases_files_and_plain_text(service: Service, ide_worker: set[str]) -> None:
    """The SDK's language aliases for 1.13.1 pick Judge0's ids: its C++ is 52 (Judge0's GCC 7.4.0)."""
    client = judge0.Client(api(service), headers={"X-Auth-Token": service.tokens["alice"]})
    assert client.version == "1.13.1" and client.get_language_id(judge0.CPP) == 52
    assert client.is_language_supported(judge0.CPP) and client.is_language_supported(judge0.PLAIN_TEXT)
    header = judge0.Filesystem(content=[judge0.File(name="answer.h", content="#define ANSWER 42\n")])
    source = '#include <iostream>\n#include "answer.h"\nint main(){std::cout << ANSWER << "\\n";}'
    result = judge0.run(client=client, source_code=source, language=judge0.CPP, additional_files=header)
    assert result.stdout == "42\n"
    text = judge0.run(client=client, source_code="just text\n", language=judge0.PLAIN_TEXT)
    assert text.stdout == "just text\n"
    assert len(client.get_statuses()) == 14 and client.get_about()["version"] == "1.13.1"


# -- judge0-api-wrapper 1.1.3 ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def api_wrapper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """judge0_api_wrapper, installed alone (module docstring) and imported from its own folder."""
    where = tmp_path_factory.mktemp("judge0-api-wrapper")
    (where / "requirements.txt").write_text(WRAPPER + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--require-hashes",
            "--target",
            str(where / "site"),
            "-r",
            str(where / "requirements.txt"),
        ],
        check=True,
        timeout=300,
    )
    sys.path.insert(0, str(where / "site"))
    try:
        import judge0_api_wrapper

        yield judge0_api_wrapper
    finally:
        sys.path.remove(str(where / "site"))
        for name in [m for m in sys.modules if m.startswith("judge0_api_wrapper")]:
            del sys.modules[name]
        shutil.rmtree(where / "site", ignore_errors=True)


def test_judge0_api_wrapper_submits_batches_and_waits(service: Service, api_wrapper: Any) -> None:
    wrapper = api_wrapper.Judge0(
        api(service), X_Auth_Token=service.tokens["alice"], X_Auth_User=service.tokens["organiser"]
    )  # /authenticate, /authorize
    assert wrapper.languages[71] == "Python (3.11)"
    one = wrapper.submit(
        api_wrapper.CreateSubmission(
            source_code="print(input() * 2)", language_id=71, stdin="ab", expected_output="abab"
        )
    )
    result = wrapper.wait_for_completion(one, poll_interval=0)
    assert result.result == api_wrapper.Status.ACCEPTED and result.stdout == "abab\n"
    batch = wrapper.submit_batch(
        [
            api_wrapper.CreateSubmission(source_code="print(1)", language_id=71, expected_output="1"),
            api_wrapper.CreateSubmission(  # with some output: its model takes no null stdout
                source_code='#include <stdio.h>\nint main(){puts("x");return 3;}', language_id=50
            ),
        ]
    )
    outcomes = wrapper.wait_for_completions(batch, poll_interval=0)
    assert [o.result for o in outcomes] == [
        api_wrapper.Status.ACCEPTED,
        api_wrapper.Status.RUNTIME_ERROR_NZEC,
    ]


# -- the differences of issue 18, one by one ------------------------------------------------------


def test_numbers_as_strings_and_blank_options_are_taken_as_rails_takes_them(service: Service) -> None:
    r = call(
        service,
        "POST",
        "/submissions/",
        params={"wait": "true", "fields": "*"},
        json={
            "language_id": "71",
            "source_code": "print(1)",
            "cpu_time_limit": "2",
            "memory_limit": "65536",
            "compiler_options": "",
            "command_line_arguments": " ",
            "redirect_stderr_to_stdout": "false",
        },
    )
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["status"]["id"] == 3 and doc["language_id"] == 71
    assert doc["cpu_time_limit"] == "2.0" and doc["memory_limit"] == 65536 and doc["cpu_extra_time"] == "1.0"
    assert doc["redirect_stderr_to_stdout"] is False and doc["enable_network"] is False
    assert doc["stdin"] is None and doc["stderr"] is None and doc["compile_output"] is None
    r = call(
        service,
        "POST",
        "/submissions",
        json={"language_id": 71, "source_code": "x", "cpu_time_limit": "fast", "compiler_options": "-O2"},
    )
    assert r.status_code == 422 and r.json() == {
        "cpu_time_limit": ["is not a number"],
        "compiler_options": ["setting compiler options is only allowed for compiled languages"],
    }


def test_output_that_is_not_utf8_still_answers_the_fields_that_are(service: Service) -> None:
    r = call(
        service,
        "POST",
        "/submissions",
        json={"language_id": 71, "source_code": "import sys; sys.stdout.buffer.write(b'\\xfe\\xff')"},
    )
    token = r.json()["token"]
    doc = judge0_done(service, token, fields="status,time")
    assert set(doc) == {"status", "time"} and doc["status"]["id"] == 3
    r = call(service, "GET", f"/submissions/{token}")
    assert r.status_code == 400 and r.json() == {"error": domain.UTF8_ERROR}
    assert (
        call(service, "GET", f"/submissions/{token}", params={"base64_encoded": "true"}).json()["stdout"]
        == "/v8="
    )


def test_a_wall_time_limit_under_the_cpu_limit_is_kept(service: Service) -> None:
    r = call(
        service,
        "POST",
        "/submissions",
        params={"wait": "true"},
        json={
            "language_id": 71,
            "source_code": "import time; time.sleep(2.5)",
            "cpu_time_limit": 5,
            "wall_time_limit": 1,
        },
    )
    assert r.json()["status"] == {"id": 5, "description": "Time Limit Exceeded"}


def test_additional_files_that_take_the_programs_names_are_refused_up_front(service: Service) -> None:
    for language, name in ((71, "main.py"), (50, "main"), (62, "Main.java"), (43, "text.txt")):
        r = call(
            service,
            "POST",
            "/submissions",
            json={"language_id": language, "source_code": "x", "additional_files": zipped({name: "y"})},
        )
        assert r.status_code == 422, (language, r.text)
        assert name in r.json()["additional_files"][0]
    r = call(
        service,
        "POST",
        "/submissions",
        json={"language_id": 71, "source_code": "x", "additional_files": zipped({"main.py/x": "y"})},
    )
    assert r.status_code == 422


def test_a_stored_clash_is_a_compile_error_not_a_failure_of_the_judge() -> None:
    """What the worker does with one stored before the web refused them: CE with the reason."""
    with pytest.raises(domain.FilesRefused, match="main.py"):
        domain.program({"additional_files": zipped({"main.py": "1"})}, "python3", b"print(2)")
    source, files = domain.program(
        {"language_id": 43, "additional_files": zipped({"more.txt": "1"})}, "bash", b"hello\n"
    )
    assert source == b"exec /bin/cat text.txt\n" and [f[0] for f in files] == ["text.txt", "more.txt"]


def test_a_clash_stored_before_the_check_is_ce_when_graded(service: Service) -> None:
    """Issue 17: a submission whose additional_files take its source's name, stored before the web
    refused them (put into its row here), is CE with the reason when rejudged: no IE, no retries."""
    token = call(
        service,
        "POST",
        "/submissions",
        params={"wait": "true"},
        json={"language_id": 71, "source_code": "print(1)"},
    ).json()["token"]
    engine = connect(service.env["JUDGE_DATABASE_URL"])
    with session_factory(engine).begin() as session:
        row = session.scalar(select(Submission).where(Submission.token == token))
        assert row is not None
        options = json.loads(row.options or "{}")
        row.options = json.dumps(options | {"additional_files": zipped({"main.py": "print(2)"})})
        submission_id = row.id
    engine.dispose()
    assert service.call("POST", f"/submissions/{submission_id}/rejudge", as_="organiser").status_code == 202

    def read() -> dict[str, Any]:
        r = call(service, "GET", f"/submissions/{token}", params={"fields": "status,message"})
        doc: dict[str, Any] = r.json()
        return doc

    # the earlier grading was Accepted (3): wait for the rejudging's end, another status
    doc = wait_until(
        read,
        until=lambda doc: doc["status"]["id"] > 2 and doc["status"]["id"] != 3,
        timeout_s=60,
        every_s=0.1,
        what="the rejudging to end",
    )
    assert doc["status"] == {"id": 6, "description": "Compilation Error"}, doc
    assert "main.py" in doc["message"]


def test_batch_and_list_errors_are_judge0s(service: Service) -> None:
    one = {"language_id": 71, "source_code": "print(1)"}
    r = call(service, "POST", "/submissions/batch", json={"submissions": [one] * 21})
    assert (r.status_code, r.json()) == (
        400,
        {"error": "number of submissions in a batch should be less than or equal to 20"},
    )
    r = call(service, "POST", "/submissions/batch", json={"submissions": []})
    assert (r.status_code, r.json()) == (400, {"error": "there should be at least one submission in a batch"})
    r = call(service, "GET", "/submissions/batch", params={"tokens": ""})
    assert (r.status_code, r.json()) == (400, {"error": "there should be at least one submission in a batch"})
    organiser = {"X-Auth-User": service.tokens["organiser"]}
    r = call(service, "GET", "/submissions", params={"per_page": "-2"}, headers=organiser)
    assert (r.status_code, r.json()) == (400, {"error": "invalid per_page: -2"})
    r = call(service, "GET", "/submissions", params={"page": "-4"}, headers=organiser)
    assert (r.status_code, r.json()) == (400, {"error": "invalid page: -4"})
    assert call(service, "GET", "/submissions").status_code == 403  # no X-Auth-User: Judge0's 403, not 401
    assert call(service, "POST", "/authorize").status_code == 403


def test_languages_statistics_and_the_ids_judge0_gives_other_versions(service: Service) -> None:
    everything = {lang["id"]: lang for lang in call(service, "GET", "/languages/all/").json()}
    assert "GCC 7.4.0" in everything[48]["name"] and "GCC 8.3.0" in everything[53]["name"]
    archived = {jid for jid, lang in everything.items() if lang["is_archived"]}
    assert archived == {47, 70, 83, 84, 87}  # what Debian 12 lacks: FreeBASIC, Python 2, Swift, VB.NET, F#
    assert "Debian 12 has no Swift" in everything[83]["name"]
    r = call(service, "POST", "/submissions", json={"language_id": 83, "source_code": "print(1)"})
    assert "Debian 12 has no Swift" in r.json()["language_id"][0]
    for jid in (46, 63, 71, 43, 44, 55, 57, 58, 85):  # not compiled in Judge0: no compile_cmd
        assert call(service, "GET", f"/languages/{jid}").json()["compile_cmd"] is None
    assert call(service, "GET", "/languages/54/").json()["compile_cmd"].endswith("%s main.cpp")
    for jid in (48, 49):  # and 52, 53 as C++: test_the_ide_runs_every_language
        source = '#include <stdio.h>\nint main(){puts("old");}'
        r = call(
            service,
            "POST",
            "/submissions",
            params={"wait": "true", "fields": "stdout,language_id,language"},
            json={"language_id": jid, "source_code": source},
        )
        doc = r.json()
        assert doc["stdout"] == "old\n" and doc["language_id"] == jid and doc["language"]["id"] == jid
    r = call(service, "POST", "/submissions", json={"language_id": 4, "source_code": "x"})
    assert r.json() == {"language_id": ["language with id 4 is archived and cannot be used anymore"]}
    stats = call(service, "GET", "/statistics").json()
    assert stats["submissions"]["today"] >= 1 and len(stats["submissions"]["last_30_days"]) == 30
    assert stats["database"]["size_in_bytes"] > 0 and stats["database"]["size_pretty"]
    counts = [entry["count"] for entry in stats["languages"]]
    assert counts == sorted(counts, reverse=True)


def service_languages() -> set[str]:
    return {"c", "python3"}  # what tests/service/conftest.py's worker takes; the IDE worker adds the rest


# -- Judge0's documented examples ------------------------------------------------------------------

CONFIG_KEYS = """maintenance_mode enable_wait_result enable_compiler_options
allowed_languages_for_compile_options enable_command_line_arguments enable_submission_delete
enable_callbacks callbacks_max_tries callbacks_timeout
enable_additional_files max_queue_size cpu_time_limit max_cpu_time_limit cpu_extra_time max_cpu_extra_time
wall_time_limit max_wall_time_limit memory_limit max_memory_limit stack_limit max_stack_limit
max_processes_and_or_threads max_max_processes_and_or_threads enable_per_process_and_thread_time_limit
allow_enable_per_process_and_thread_time_limit enable_per_process_and_thread_memory_limit
allow_enable_per_process_and_thread_memory_limit max_file_size max_max_file_size number_of_runs
max_number_of_runs redirect_stderr_to_stdout max_extract_size enable_batched_submissions
max_submission_batch_size submission_cache_duration use_docs_as_homepage allow_enable_network
enable_network"""
C_HELLO = (
    '#include <stdio.h>\n\nint main(void) {\n  char name[10];\n  scanf("%s", name);\n'
    '  printf("hello, %s\\n", name);\n  return 0;\n}'
)
# (what the docs send, what they answer) from docs/api of judge0 v1.13.1; `4` is Judge0's C
# (gcc 7.2.0), archived in 1.13.1 itself, so those examples are sent with 50, its C now.
DOCUMENTED = [
    (
        "POST",
        "/submissions",
        {},
        {"source_code": C_HELLO, "language_id": 50, "stdin": "world"},
        201,
        {"token"},
    ),
    ("POST", "/submissions", {}, {"source_code": C_HELLO}, 422, {"language_id": ["can't be blank"]}),
    (
        "POST",
        "/submissions",
        {},
        {"source_code": C_HELLO, "language_id": 150000, "stdin": "world", "expected_output": "hello, world"},
        422,
        {"language_id": ["language with id 150000 doesn't exist"]},
    ),
    (
        "POST",
        "/submissions",
        {},
        {
            "source_code": C_HELLO,
            "language_id": 50,
            "number_of_runs": 1,
            "stdin": "Judge0",
            "expected_output": "hello, Judge0",
            "cpu_time_limit": 1,
            "cpu_extra_time": 0.5,
            "wall_time_limit": 100000,
            "memory_limit": 128000,
            "stack_limit": 128000,
            "enable_per_process_and_thread_time_limit": False,
            "enable_per_process_and_thread_memory_limit": False,
            "max_file_size": 1024,
        },
        422,
        {"wall_time_limit": ["must be less than or equal to 20.0"]},
    ),  # the docs' host allowed 150
    (
        "POST",
        "/submissions",
        {"base64_encoded": "true"},
        {"source_code": b64(C_HELLO), "language_id": 50, "input": "SnVkZ2Uw"},
        201,
        {"token"},
    ),
    (
        "POST",
        "/submissions",
        {"wait": "true"},
        {
            "source_code": 'import sys; sys.stdout.buffer.write(b"\\xfe")',
            "language_id": 71,
        },  # the docs' 70 is Python 2: not offered
        201,
        {"token", "error"},
    ),
    (
        "POST",
        "/submissions",
        {"wait": "true"},
        {"source_code": C_HELLO, "language_id": "50", "stdin": "Judge0", "expected_output": "hello, Judge0"},
        201,
        {
            "stdout": "hello, Judge0\n",
            "stderr": None,  # compile_output: gcc -O2 warns of scanf's result here, Judge0's plain gcc not
            "message": None,
            "status": {"id": 3, "description": "Accepted"},
        },
    ),
    (
        "POST",
        "/submissions/batch",
        {},
        {
            "submissions": [
                {"language_id": 46, "source_code": "echo hello from Bash"},
                {"language_id": 71, "source_code": 'print("hello from Python")'},
                {"language_id": 72, "source_code": 'puts("hello from Ruby")'},
            ]
        },
        201,
        ["token", "token", "token"],
    ),
    (
        "POST",
        "/submissions/batch",
        {},
        {
            "submissions": [
                {"language_id": 46, "source_code": "echo hello from Bash"},
                {"language_id": 123456789, "source_code": 'print("hello from Python")'},
                {"language_id": 72, "source_code": ""},
            ]
        },
        201,
        [
            "token",
            {"language_id": ["language with id 123456789 doesn't exist"]},
            {"source_code": ["can't be blank"]},
        ],
    ),
    (
        "GET",
        "/submissions/batch",
        {"tokens": "db54881d-bcf5-4c7b-a2e3-d33fe7e25de7"},
        None,
        200,
        {"submissions": [None]},
    ),
    ("GET", "/submissions", {"page": "-4"}, None, 400, {"error": "invalid page: -4"}),
    ("GET", "/submissions", {"per_page": "-2"}, None, 400, {"error": "invalid per_page: -2"}),
    (
        "GET",
        "/submissions",
        {"page": "1", "per_page": "2", "fields": "status,language,time"},
        None,
        200,
        {"submissions", "meta"},
    ),
    (
        "DELETE",
        "/submissions/d85cd024-1548-4165-96c7-7bc88673f194",
        {},
        None,
        400,
        {"error": "delete not allowed"},
    ),
    (
        "GET",
        "/languages/50",
        {},
        None,
        200,
        {"id", "name", "is_archived", "source_file", "compile_cmd", "run_cmd"},
    ),
    ("GET", "/languages", {}, None, 200, frozenset({"id", "name"})),
    ("GET", "/languages/all", {}, None, 200, frozenset({"id", "name", "is_archived"})),
    ("GET", "/statuses", {}, None, 200, [{"id": i, "description": d} for i, d in domain.STATUSES.items()]),
    ("GET", "/about", {}, None, 200, {"version", "homepage", "source_code", "maintainer"}),
    (
        "GET",
        "/config_info",
        {},
        None,
        200,
        set(CONFIG_KEYS.split()),
    ),
    (
        "GET",
        "/statistics",
        {},
        None,
        200,
        {"created_at", "cached_until", "submissions", "languages", "statuses", "database"},
    ),
    (
        "GET",
        "/workers",
        {},
        None,
        200,
        frozenset({"queue", "size", "available", "idle", "working", "paused", "failed"}),
    ),
    ("POST", "/authenticate", {}, None, 200, None),
    ("POST", "/authorize", {}, None, 200, None),
]


def _shaped(body: Any, want: Any) -> bool:
    """`body` has the documented shape: these keys (a set), these values (a dict), a list whose every
    item has these keys (a frozenset), a list item by item ("token" for `{"token": ...}`), or
    anything (None)."""
    if want is None:
        return True
    if isinstance(want, frozenset):
        return isinstance(body, list) and bool(body) and all(set(item) == want for item in body)
    if isinstance(want, set):
        return isinstance(body, dict) and set(body) == want
    if isinstance(want, dict):
        return isinstance(body, dict) and all(body.get(k) == v for k, v in want.items())
    return (
        isinstance(body, list)
        and len(body) == len(want)
        and all((w == "token" and set(b) == {"token"}) or b == w for b, w in zip(body, want, strict=True))
    )


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "status", "want"),
    DOCUMENTED,
    ids=[f"{m} {p} {i}" for i, (m, p, *_) in enumerate(DOCUMENTED)],
)
def test_judge0s_documented_examples(
    service: Service, method: str, path: str, params: dict[str, str], body: Any, status: int, want: Any
) -> None:
    headers = {"X-Auth-User": service.tokens["organiser"]} if path in ("/submissions", "/authorize") else {}
    r = call(service, method, path, params=params, json=body, headers=headers)
    assert r.status_code == status, r.text
    assert _shaped(r.json() if r.content else None, want), r.text


def test_judge0s_documented_batch_and_reads(service: Service, ide_worker: set[str]) -> None:
    """The docs' batch of Bash, Python and Ruby, then their reads: the batch and one submission with
    `fields`, the default fields, and base64."""
    batch = [
        {"language_id": 46, "source_code": "echo hello from Bash"},
        {"language_id": 71, "source_code": 'print("hello from Python")'},
        {"language_id": 72, "source_code": 'puts("hello from Ruby")'},
    ]
    created = call(service, "POST", "/submissions/batch", json={"submissions": batch})
    tokens = [t["token"] for t in created.json()]
    params = {"tokens": ",".join(tokens), "fields": "token,stdout,stderr,status_id,language_id"}
    read = wait_until(
        lambda: call(service, "GET", "/submissions/batch", params=params).json(),
        until=lambda read: all(s["status_id"] > 2 for s in read["submissions"]),
        timeout_s=120,
        every_s=0.1,
        what="every language's submission to end",
    )
    assert read == {
        "submissions": [
            {
                "language_id": jid,
                "stdout": f"hello from {name}\n",
                "status_id": 3,
                "stderr": None,
                "token": token,
            }
            for jid, name, token in zip((46, 71, 72), ("Bash", "Python", "Ruby"), tokens, strict=True)
        ]
    }
    python = f"/submissions/{tokens[1]}"
    assert call(service, "GET", python, params={"fields": "stdout,stderr,status_id,language_id"}).json() == {
        "stdout": "hello from Python\n",
        "stderr": None,
        "status_id": 3,
        "language_id": 71,
    }
    default = call(service, "GET", python).json()
    assert set(default) == set(domain.DEFAULT_FIELDS) and default["compile_output"] is None
    assert call(service, "GET", python, params={"base64_encoded": "true"}).json()["stdout"] == b64(
        "hello from Python\n"
    )


# -- the IDE -----------------------------------------------------------------------------------------

WORLD = "hello, world\n"
IDE_SOURCES = {  # Judge0 id: a program that greets the name on its input, as the IDE's templates do
    46: 'read name\necho "hello, $name"\n',
    48: '#include <stdio.h>\nint main(void){char n[64];scanf("%63s",n);printf("hello, %s\\n",n);return 0;}\n',
    51: "using System;\nclass Program { static void Main() {\n"
    '  Console.WriteLine("hello, " + Console.ReadLine()); } }\n',
    52: "#include <iostream>\n#include <string>\n"
    'int main(){std::string n;std::cin>>n;std::cout<<"hello, "<<n<<"\\n";}\n',
    60: 'package main\nimport "fmt"\n'
    'func main() { var n string; fmt.Scan(&n); fmt.Println("hello, " + n) }\n',
    61: 'main = getLine >>= \\n -> putStrLn ("hello, " ++ n)\n',
    62: "import java.util.Scanner;\npublic class Main { public static void main(String[] a) {\n"
    '  System.out.println("hello, " + new Scanner(System.in).next()); } }\n',
    63: 'const n = require("fs").readFileSync(0, "utf8").trim();\nconsole.log(`hello, ${n}`);\n',
    64: 'local n = io.read("l")\nprint("hello, " .. n)\n',
    67: "program Hello;\nvar n: string;\nbegin\n  readln(n);\n  writeln('hello, ', n);\nend.\n",
    68: '<?php\n$n = trim(fgets(STDIN));\necho "hello, $n\\n";\n',
    71: 'print(f"hello, {input()}")\n',
    72: 'n = gets.strip\nputs "hello, #{n}"\n',
    73: "use std::io;\nfn main() { let mut n = String::new(); io::stdin().read_line(&mut n).unwrap();\n"
    '  println!("hello, {}", n.trim()); }\n',
    78: 'fun main() { println("hello, " + readln()) }\n',
    43: WORLD,
}
IDE_SOURCES.update(
    {  # issue 22's languages, the same greeting
        45: "section .bss\nbuf: resb 64\nsection .data\nhi: db 'hello, '\nnl: db 10\nsection .text\n"
        "global _start\n_start:\n    mov rax, 0\n    mov rdi, 0\n    mov rsi, buf\n"
        "    mov rdx, 64\n    syscall\n"
        "    mov r12, rax\n    mov rax, 1\n    mov rdi, 1\n    mov rsi, hi\n    mov rdx, 7\n    syscall\n"
        "    mov rax, 1\n    mov rdi, 1\n    mov rsi, buf\n    mov rdx, r12\n    syscall\n"
        "    mov rax, 1\n    mov rdi, 1\n    mov rsi, nl\n    mov rdx, 1\n    syscall\n"
        "    mov rax, 60\n    xor rdi, rdi\n    syscall\n",
        55: '(format t "hello, ~a~%" (read-line))\n',
        56: 'import std.stdio, std.string;\nvoid main() { writeln("hello, ", readln().strip()); }\n',
        57: 'IO.puts("hello, " <> String.trim(IO.gets("")))\n',
        58: 'main(_) ->\n    Name = string:trim(io:get_line("")),\n    io:format("hello, ~s~n", [Name]).\n',
        59: "program main\n  character(len=64) :: n\n  read(*, '(A)') n\n"
        "  write(*, '(A)') 'hello, ' // trim(n)\n"
        "end program main\n",
        65: 'let () = Printf.printf "hello, %s\\n" (read_line ())\n',
        66: 'n = fgetl(stdin);\nprintf("hello, %s\\n", n);\n',
        69: ":- initialization(main).\nline(Cs) :- get_char(C), ( (C == end_of_file ; C == '\\n') -> Cs = []"
        " ; Cs = [C|R], line(R) ).\nmain :- line(Cs), atom_chars(A, Cs), write('hello, '), write(A), nl.\n",
        74: 'import * as fs from "fs";\nconsole.log("hello, " + fs.readFileSync(0, "utf8").trim());\n',
        77: "IDENTIFICATION DIVISION.\nPROGRAM-ID. HELLO.\nDATA DIVISION.\nWORKING-STORAGE SECTION.\n"
        '01 N PIC X(64).\nPROCEDURE DIVISION.\n    ACCEPT N\n    DISPLAY "hello, " FUNCTION TRIM(N)\n'
        "    STOP RUN.\n",
        79: '#import <stdio.h>\nint main(void){char n[64];scanf("%63s",n);'
        'printf("hello, %s\\n",n);return 0;}\n',
        80: 'n <- readLines(file("stdin"), n = 1, warn = FALSE)\ncat("hello, ", n, "\\n", sep = "")\n',
        81: "object Main {\n  def main(args: Array[String]): Unit =\n"
        '    println("hello, " + scala.io.StdIn.readLine())\n}\n',
        82: '.separator "|"\nCREATE TABLE input(n TEXT);\n.import /dev/stdin input\n'
        "SELECT 'hello, ' || n FROM input;\n",
        85: 'my $n = <STDIN>;\nchomp $n;\nprint "hello, $n\\n";\n',
        86: '(println (str "hello, " (read-line)))\n',
        88: 'println("hello, " + System.in.newReader().readLine())\n',
    }
)
for _same, _as in ((49, 48), (50, 48), (53, 52), (54, 52), (75, 48), (76, 52)):
    IDE_SOURCES[_same] = IDE_SOURCES[_as]


@pytest.fixture(scope="module")
def ide_worker(service: Service) -> Iterator[set[str]]:
    """A second worker for every language the session's worker does not take; the languages it took."""
    wanted = sorted({j0.ours for j0 in domain.LANGUAGES.values()} - service_languages())
    log = open(service.data_dir / "ide-worker.log", "wb")  # closed below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "worker",
            "--languages",
            ",".join(wanted),
            "--concurrency",
            "1",
            "--name",
            "ide-worker",
        ],
        env=service.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def tail() -> str:
        return (service.data_dir / "ide-worker.log").read_text(errors="replace")[-3000:]

    def listed() -> list[dict[str, Any]]:
        assert proc.poll() is None, tail()
        return [
            w
            for w in service.call("GET", "/workers", as_="organiser").json()["workers"]
            if w.get("name") == "ide-worker"
        ]

    try:
        found = wait_until(
            listed, what="the worker of every language to be listed", timeout_s=600, every_s=0.5, context=tail
        )
        yield set(found[0]["languages"]) | service_languages()
    finally:
        stop_all([proc])
        log.close()


def _executable(tmp: Path) -> str:
    """Executable (44): what the IDE's editor holds for it, a static x86-64 program in base64."""
    (tmp / "hello.c").write_text(IDE_SOURCES[48])
    subprocess.run(["cc", "-static", "-O2", "-o", str(tmp / "a.out"), str(tmp / "hello.c")], check=True)
    return b64((tmp / "a.out").read_bytes())


def ide_run(service: Service, language_id: int, source: str, *, wait: bool) -> dict[str, Any]:
    """The IDE's run(): what it POSTs, then fetchSubmission() until done (or the answer of wait=true)."""
    data = {
        "source_code": source if language_id == 44 else b64(source),
        "language_id": language_id,
        "stdin": b64("world"),
        "compiler_options": "",
        "command_line_arguments": "",
        "redirect_stderr_to_stdout": True,
    }
    r = requests.post(
        f"{api(service)}/submissions?base64_encoded=true&wait={'true' if wait else 'false'}",
        json=data,
        headers={"X-Auth-Token": service.tokens["alice"]},
        timeout=120,
    )
    assert r.status_code == 201, (language_id, r.text)
    doc: dict[str, Any] = r.json()
    if not wait:
        doc = judge0_done(service, doc["token"], base64_encoded="true")
    return doc


@pytest.mark.slow
@pytest.mark.parametrize("language_id", sorted([*IDE_SOURCES, 44]))
def test_the_ide_runs_every_language(
    service: Service, ide_worker: set[str], language_id: int, tmp_path: Path
) -> None:
    ours = domain.LANGUAGES[language_id].ours
    if os.environ.get("CI") != "true" and ours not in ide_worker:
        pytest.skip(f"{ours} failed its self-test on this host (see ide-worker.log); CI fails instead")
    assert ours in ide_worker, f"the IDE worker refused {ours}"
    source = _executable(tmp_path) if language_id == 44 else IDE_SOURCES[language_id]
    doc = ide_run(service, language_id, source, wait=language_id % 2 == 0)  # both ways the IDE can be set
    shown = "\n".join([unb64(doc["compile_output"]), unb64(doc["stdout"])]).strip()  # handleResult()
    assert doc["status"] == {"id": 3, "description": "Accepted"} and shown.endswith(WORLD.strip()), doc
    assert unb64(doc["stdout"]) == WORLD and doc["stderr"] is None
    if not domain.LANGUAGES[language_id].compiled:  # no syntax check's "Syntax OK": Judge0 runs none
        assert doc["compile_output"] is None
    assert doc["time"] is not None and doc["memory"] is not None
    saved = call(
        service,
        "GET",
        f"/submissions/{doc['token']}",
        params={  # loadSavedSource()
            "fields": "source_code,language_id,stdin,stdout,stderr,compile_output,message,time,memory,status,"
            "compiler_options,command_line_arguments",
            "base64_encoded": "true",
        },
    ).json()
    assert saved["language_id"] == language_id and unb64(saved["stdin"]) == "world"
    assert saved["compiler_options"] == "" and saved["command_line_arguments"] == ""
    if language_id != 44:
        assert unb64(saved["source_code"]) == source
