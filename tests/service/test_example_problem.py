"""The example problem of `judge serve`'s first start, as a new user meets it.

Runs the real command (python -m judge serve, embedded Redis, SQLite, one worker taking Python 3)
on fresh data directories: the first start imports `aplusb` and prints curl lines, which are run
as printed (bash, curl) and get AC; the web form gets AC too (Debian's chromium through
Playwright, as tests/service/test_pages.py); a restart does not import it again, nor after an
organiser deleted it, and `--no-example` leaves it out.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from kit import free_port, wait_until
from service_kit import start_serve, wait_workers

pytestmark = pytest.mark.sandbox


class Served:
    """One `judge serve` on a data directory, and what it printed on stderr so far (a thread reads
    it all, so the children never block on a full pipe)."""

    def __init__(self, data_dir: Path, port: int, *extra: str) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.lines: list[str] = []
        self.proc = start_serve(data_dir, port, *extra)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def read_until(self, pattern: str, timeout_s: float = 120) -> str:
        """stderr up to the first line matching `pattern`."""

        def upto() -> str | None:
            lines = list(self.lines)
            for i, line in enumerate(lines):
                if re.search(pattern, line):
                    return "".join(lines[: i + 1])
            if self.proc.poll() is not None and not self.reader.is_alive():  # all read: no more to come
                raise AssertionError(f"no {pattern!r} in:\n{self.text}")
            return None

        found: str = wait_until(
            upto,
            what=f"a line matching {pattern!r}",
            timeout_s=timeout_s,
            every_s=0.1,
            context=lambda: self.text,
        )
        return found

    def ready(self, token: str) -> None:
        """Wait until a worker has announced itself (judge serve's children start after it prints)."""
        wait_workers(self.base, token, context=lambda: self.text)

    def get(self, path: str, token: str, **params: Any) -> requests.Response:
        return requests.get(
            f"{self.base}/api/v1{path}",
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=90,
        )

    def stop(self) -> None:
        """Ctrl-C, as a user stops it; it must end cleanly."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(timeout=60)
        self.reader.join(timeout=10)
        assert self.proc.stderr is not None
        self.proc.stderr.close()
        assert self.proc.returncode == 0, self.text


@pytest.fixture
def served(tmp_path: Path, sandbox_ready: None) -> Iterator[list[Served]]:
    """The `judge serve`s a test starts; each still running at its end is stopped."""
    started: list[Served] = []
    yield started
    for s in started:
        if s.proc.poll() is None:
            s.proc.send_signal(signal.SIGINT)
            s.proc.wait(timeout=60)
        s.reader.join(timeout=10)
        if s.proc.stderr is not None:
            s.proc.stderr.close()


def _first_start(served: list[Served], data_dir: Path, port: int) -> tuple[Served, str, str]:
    """Start judge serve for the first time on data_dir: it, the organiser's password and token."""
    s = Served(data_dir, port)
    served.append(s)
    text = s.read_until(r"submissions/ID'$")
    password = re.search(r"password: +(\S+)", text).group(1)  # type: ignore[union-attr]
    token = re.search(r"API token: (\S+)", text).group(1)  # type: ignore[union-attr]
    s.ready(token)
    return s, password, token


def _example_ids(s: Served, token: str) -> list[str]:
    r = s.get("/problems", token)
    assert r.status_code == 200, r.text
    return [p["id"] for p in r.json()["problems"] if p["id"] == "aplusb"]


def test_first_start_imports_the_example_and_its_curl_line_gets_ac(
    tmp_path: Path, served: list[Served]
) -> None:
    if shutil.which("curl") is None and os.environ.get("CI") != "true":
        pytest.skip("no curl here: apt-get install curl (.ci/setup does)")
    port = free_port()
    s, _, token = _first_start(served, tmp_path / "data", port)
    assert (
        f"imported the example problem 'aplusb'; log in and submit to it at {s.base}/problems/aplusb"
        in s.text
    )
    submit = re.search(r"^  (curl .*/api/v1/submissions\?wait=true')$", s.text, re.M).group(1)  # type: ignore[union-attr]
    fetch = re.search(r"^  (curl .*/api/v1/submissions/ID')$", s.text, re.M).group(1)  # type: ignore[union-attr]
    assert token in submit and token in fetch

    # the lines as a user pastes them into a shell
    out = subprocess.run(
        ["bash", "-c", submit], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    doc = json.loads(out)
    assert doc["problem"] == "aplusb" and doc["state"] == "done" and doc["verdict"] == "AC", out
    assert [t["name"] for t in doc["tests"]] == [
        "sample/1",
        "secret/1-small",
        "secret/2-negative",
        "secret/3-large",
        "secret/4-smallest",
    ]
    again = subprocess.run(
        ["bash", "-c", fetch.replace("/ID'", f"/{doc['id']}'")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert json.loads(again)["verdict"] == "AC"

    # verified like an upload: its own submissions got what their folders say
    problem = wait_until(
        lambda: s.get("/problems/aplusb", token).json(),
        what="the example's verification",
        until=lambda problem: problem["verification"]["state"] == "done",
        timeout_s=120,
        every_s=0.5,
    )
    assert problem["verification"]["ok"] is True and problem["time_limit"] == 1.0
    report = {r["path"]: r["verdict"] for r in problem["verification"]["report"]["submissions"]}
    assert report == {
        "submissions/accepted/sum.c": "AC",
        "submissions/accepted/sum.py": "AC",
        "submissions/wrong_answer/difference.py": "WA",
        "submissions/wrong_answer/int32.c": "WA",
    }
    assert _example_ids(s, token) == ["aplusb"]

    # a later start does not import it again, nor print the lines
    s.stop()
    later = Served(tmp_path / "data", port)
    served.append(later)
    later.read_until(r"Ctrl-C stops")
    later.ready(token)
    assert _example_ids(later, token) == ["aplusb"]

    # an ordinary problem: the organiser deletes it, with its submissions and files
    gone = requests.delete(
        f"{later.base}/api/v1/problems/aplusb", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert gone.status_code == 204, gone.text
    assert _example_ids(later, token) == []
    assert later.get(f"/submissions/{doc['id']}", token).status_code == 404
    assert not (tmp_path / "data" / "problems" / "aplusb").exists()
    later.stop()
    assert "example problem" not in later.text and "curl -sS" not in later.text

    # and no start brings it back
    last = Served(tmp_path / "data", port)
    served.append(last)
    last.read_until(r"Ctrl-C stops")
    last.ready(token)
    assert _example_ids(last, token) == []


def test_no_example_leaves_it_out_then_and_later(tmp_path: Path, served: list[Served]) -> None:
    port = free_port()
    s = Served(tmp_path / "data", port, "--no-example")
    served.append(s)
    text = s.read_until(r"API token: ")
    token = re.search(r"API token: (\S+)", text).group(1)  # type: ignore[union-attr]
    s.ready(token)
    assert _example_ids(s, token) == []
    s.stop()
    assert "example problem" not in s.text and "curl -sS" not in s.text

    later = Served(tmp_path / "data", port)  # without the flag: still not the first start
    served.append(later)
    later.read_until(r"Ctrl-C stops")
    later.ready(token)
    assert _example_ids(later, token) == []


def test_the_example_from_the_web_form(tmp_path: Path, served: list[Served], browser: Any) -> None:
    """What the README tells a new user: log in as admin, open the example, submit, see AC.
    The browser is the session's one (tests/service/conftest.py): Playwright's sync API runs one
    at a time in a process."""
    s, password, _ = _first_start(served, tmp_path / "data", free_port())
    solution = (Path(__file__).parents[2] / "judge/examples/aplusb/submissions/accepted/sum.py").read_text()
    page = browser.new_page(base_url=s.base)
    try:
        page.set_default_timeout(60_000)
        page.goto("/")
        page.fill("#name", "admin")
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_url("**/problems")
        page.click("a[href='/problems/aplusb']")
        assert "Add two integers" in page.inner_text(".statement")
        page.select_option("#language", "python3")
        page.fill("#source", solution)
        page.click("form[enctype] button[type=submit]")
        page.wait_for_url("**/submissions/*")
        page.wait_for_selector("#verdict.v-AC")
        assert page.locator("#tests tr").count() == 5
    finally:
        page.close()
