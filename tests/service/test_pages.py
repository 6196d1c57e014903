"""The web pages in a real browser: headless Chromium (Debian's, /usr/bin/chromium) through Playwright.

Against the same real service as the API tests (tests/service/conftest.py): contestants log
in, read a problem, submit from the form and watch the verdict arrive live, see a compile
error, and cannot open another's submission; an organiser uploads a package and a batch,
watches it fill in and exports it, and creates accounts from a CSV. Screenshots go to
JUDGE_SCREENSHOT_DIR when set (the README's come from there), else to the test's tmp_path.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from service_kit import SUM_C, SUM_PY, WRONG_C, Service, sum_package, zip_of

pytestmark = pytest.mark.sandbox

LIVE_TIMEOUT_MS = 60_000

playwright_api = pytest.importorskip("playwright.sync_api")  # the browser fixtures: conftest.py


def _page(browser: object, service: Service, name: str, *, width: int = 1100) -> object:
    context = browser.new_context(
        viewport={"width": width, "height": 900},
        base_url=service.base,  # type: ignore[attr-defined]
        accept_downloads=True,
    )
    page = context.new_page()
    page.set_default_timeout(LIVE_TIMEOUT_MS)
    page.goto("/login")
    page.fill("#name", name)
    page.fill("#password", f"{name}-password")
    page.click("button[type=submit]")
    page.wait_for_url("**/problems")
    return page


def test_login_refused_keeps_the_name(browser: object, service: Service) -> None:
    page = browser.new_page(base_url=service.base)  # type: ignore[attr-defined]
    page.goto("/login")
    page.fill("#name", "alice")
    page.fill("#password", "not her password")
    page.click("button[type=submit]")
    assert "do not match" in page.inner_text(".flash.error")
    assert page.input_value("#name") == "alice"
    page.goto("/problems")
    assert "/login" in page.url  # still not logged in
    page.close()


def test_submit_from_the_form_and_watch_the_verdict_arrive(
    browser: object, service: Service, sum_problem: str, shots: Path
) -> None:
    page = _page(browser, service, "alice")
    page.click(f"a[href='/problems/{sum_problem}']")
    assert "Add two integers" in page.inner_text(".statement")
    assert page.inner_text(".statement h2") == "Input"
    assert page.inner_text(".sample pre").strip() == "1 2"  # the sample, shown; the hidden tests are not
    assert "1000000000" not in page.content()
    page.select_option("#language", "c")
    page.fill("#source", SUM_C.decode())
    page.screenshot(path=str(shots / "submit.png"), full_page=True)
    page.click("form[enctype] button[type=submit]")
    page.wait_for_url("**/submissions/*")
    page.wait_for_selector("#verdict.v-AC")  # (selectors, not wait_for_function: the CSP forbids eval)
    assert page.locator("#tests tr").count() == 4
    assert page.locator("#chart rect").count() == 4
    assert "MiB" in page.inner_text("#summary")
    page.screenshot(path=str(shots / "submission.png"), full_page=True)
    page.context.close()


def test_a_compile_error_shows_the_compiler_output(
    browser: object, service: Service, sum_problem: str
) -> None:
    page = _page(browser, service, "alice")
    page.goto(f"/problems/{sum_problem}")
    page.select_option("#language", "c")
    page.fill("#source", "int main( {")
    page.click("form[enctype] button[type=submit]")
    page.wait_for_selector("#verdict.v-CE")
    page.wait_for_selector("#compile-section:not([hidden])")
    assert "error" in page.inner_text("#compile")
    page.context.close()


def test_a_refused_form_keeps_what_was_typed(browser: object, service: Service, sum_problem: str) -> None:
    page = _page(browser, service, "alice")
    page.goto(f"/problems/{sum_problem}")
    page.fill("#source", "print('kept')")
    page.click("form[enctype] button[type=submit]")
    assert "Choose a language" in page.inner_text("#submit-error")
    assert page.input_value("#source") == "print('kept')"
    page.context.close()


def test_a_contestant_cannot_open_anothers_submission(
    browser: object, service: Service, sum_problem: str
) -> None:
    doc = service.submit(
        {"language": "python3", "problem": sum_problem, "source": SUM_PY.decode()}, as_="alice"
    )
    page = _page(browser, service, "bob")
    response = page.goto(f"/submissions/{doc['id']}")
    assert response.status == 404
    assert page.goto(f"/submissions/{doc['id']}.json").status == 404
    page.goto("/submissions")
    assert f"/submissions/{doc['id']}" not in page.content()
    assert page.goto("/organiser").status == 403
    page.context.close()


def _batch_zip() -> bytes:
    return zip_of({"ada.c": SUM_C, "grace.py": SUM_PY, "linus.c": WRONG_C})


def test_organiser_uploads_a_package_and_a_batch_and_exports_it(
    browser: object, service: Service, tmp_path: Path, shots: Path
) -> None:
    page = _page(browser, service, "organiser")
    page.goto("/organiser/problems")
    package = sum_package(tmp_path / "pagesum.zip", name="pagesum")
    page.set_input_files("#package", str(package))
    page.click("main form button[type=submit]")
    page.wait_for_url("**/organiser/problems/pagesum")
    page.wait_for_selector("#report")  # the page reloads itself once verification is done
    assert "verified" in page.inner_text("#verification .big")
    assert page.locator("#report tbody tr").count() == 3
    page.screenshot(path=str(shots / "verification.png"), full_page=True)

    page.goto("/organiser/batches")
    page.select_option("#problem", "pagesum")
    page.fill("#name", "round 1")
    page.set_input_files(
        "#archive", files=[{"name": "round1.zip", "mimeType": "application/zip", "buffer": _batch_zip()}]
    )
    page.click("main form button[type=submit]")
    page.wait_for_url("**/organiser/batches/*")
    page.wait_for_selector("#progress[value='3']")
    assert page.inner_text("#progress-text") == "3 of 3"
    verdicts = {r.split("\t")[0]: r.split("\t")[3] for r in page.locator("#rows tr").all_inner_texts()}
    assert verdicts == {"ada": "AC", "grace": "AC", "linus": "WA"}
    page.screenshot(path=str(shots / "batch.png"), full_page=True)
    with page.expect_download() as download:
        page.click("text=Export CSV")
    exported = Path(download.value.path()).read_text()
    assert exported.splitlines()[0] == "label,submission,language,state,verdict,score,time,memory"
    assert sorted(line.split(",")[4] for line in exported.splitlines()[1:]) == ["AC", "AC", "WA"]
    page.context.close()


def test_organiser_adds_accounts_from_a_csv_all_or_none(
    browser: object, service: Service, tmp_path: Path
) -> None:
    page = _page(browser, service, "organiser")
    page.goto("/organiser/users")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,password\ncarla,long-enough-1\ndan,short\n")
    page.set_input_files("#csv", str(bad))
    page.click("form[enctype] button[type=submit]")
    assert "line 3" in page.inner_text("#csv-problems")
    assert "carla" not in page.inner_text("table")  # nothing was created
    good = tmp_path / "good.csv"
    good.write_text("carla,long-enough-1\ndan,long-enough-2,contestant\n")
    page.set_input_files("#csv", str(good))
    page.click("form[enctype] button[type=submit]")
    assert "Created 2 accounts" in page.inner_text(".flash")
    assert "carla" in page.inner_text("table") and "dan" in page.inner_text("table")
    page.context.close()


def test_pages_fit_a_phone(browser: object, service: Service, sum_problem: str) -> None:
    page = _page(browser, service, "alice", width=360)
    page.goto(f"/problems/{sum_problem}")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0  # nothing wider than the screen
    page.context.close()


def test_a_contest_and_its_scoreboard(browser: object, service: Service, sum_problem: str) -> None:
    from datetime import UTC, datetime, timedelta

    start = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    end = (datetime.now(UTC) + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M")
    page = _page(browser, service, "organiser")
    page.goto("/organiser/contests")
    page.fill("#name", "Practice round")
    page.fill("#starts", end)  # the end before the start: refused, and what was typed is kept
    page.fill("#ends", start)
    page.check(f"input[name=problems][value={sum_problem}]")
    page.click("main form button[type=submit]")
    assert "end must come after the start" in page.inner_text(".flash.error")
    assert page.input_value("#name") == "Practice round"
    page.fill("#starts", start)
    page.fill("#ends", end)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/contests/*")
    contest_url = page.url
    page.context.close()

    service.submit({"language": "c", "problem": sum_problem, "source": SUM_C.decode()}, as_="bob")
    page = _page(browser, service, "alice")
    page.goto(contest_url)
    rows = page.locator("table.scoreboard tbody tr").all_inner_texts()
    bob = next(r for r in rows if "bob" in r)
    assert bob.split("\t")[2] == "1"  # bob has solved it
    assert page.locator("td.solved").count() >= 1
    page.context.close()


def test_the_organiser_sees_each_worker_and_its_heartbeat(
    browser: object, service: Service, shots: Path
) -> None:
    page = _page(browser, service, "organiser")
    page.goto("/organiser")
    row = page.locator("main table tbody tr").first
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    worker = service.call("GET", "/workers", as_="organiser").json()["workers"][0]
    assert cells[0] == worker["name"] and cells[1] == worker["host"]
    assert cells[2].endswith("s ago") and int(cells[2].split()[0]) <= 16  # heartbeats live 16 s
    assert cells[3] == str(worker["cores"]) and "c" in cells[6].split(", ")
    page.screenshot(path=str(shots / "workers.png"), full_page=True)
    page.context.close()
