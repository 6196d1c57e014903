"""The set-up as files: the README's two commands, the lock files against pyproject.toml, the split
between the service's set-up and the tests', and the example problem `judge serve` imports."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from judge.cli.service_commands import curl_lines
from judge.examples import EXAMPLE_DIR, EXAMPLE_SOLUTION
from judge.problems import package

ROOT = Path(__file__).parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _readme_commands() -> list[str]:
    """The README's opening block of commands, comments dropped."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"^```sh\n(.*?)^```", text, re.S | re.M)
    assert block is not None
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def _locked(name: str) -> dict[str, str]:
    """{canonical name: version} of a lock file."""
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", (ROOT / name).read_text(), re.M)
    return {canonicalize_name(n): v for n, v in pins}


def test_the_readme_opens_with_two_commands_and_ci_runs_the_second() -> None:
    serve, tests = _readme_commands()
    assert serve == "bash .ci/setup && judge serve"
    assert tests.startswith("bash .ci/setup-tests && ") and "pytest" in tests
    run = [line.strip() for line in (ROOT / ".ci/run").read_text().splitlines()]
    assert tests in run


@pytest.mark.parametrize(
    ("lock", "groups"),
    [
        ("requirements.lock", ("dependencies",)),
        ("requirements-dev.lock", ("dependencies", "dev")),
    ],
)
def test_each_lock_pins_what_pyproject_asks_for_within_its_range(lock: str, groups: tuple[str, ...]) -> None:
    pins = _locked(lock)
    project = PYPROJECT["project"]
    lists = {"dependencies": project["dependencies"], **project["optional-dependencies"]}
    wanted = [Requirement(r) for g in groups for r in lists[g]]
    for req in wanted:
        name = canonicalize_name(req.name)
        assert name in pins, f"{lock} lacks {req}: run bash .ci/lock"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"{lock} pins {name}=={pins[name]}, outside {req}: run bash .ci/lock"
        )
        for extra in req.extras:  # psycopg[binary] brings psycopg-binary
            assert canonicalize_name(f"{req.name}-{extra}") in pins, f"{lock} lacks {req}: run bash .ci/lock"


def test_the_service_lock_has_the_test_locks_versions_and_nothing_only_tests_need() -> None:
    service, dev = _locked("requirements.lock"), _locked("requirements-dev.lock")
    assert {name: dev.get(name) for name in service} == service
    for only_tests in ("pytest", "playwright", "ruff", "mypy", "uv"):
        assert only_tests not in service and only_tests in dev
    for lock in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / lock).read_text()
        assert "bash .ci/lock" in text.splitlines()[1]  # the header names how to regenerate it
        assert all("--hash=sha256:" in block for block in re.split(r"\n(?=[a-z0-9])", text)[1:])


def _apt_packages(script: str) -> set[str]:
    found = re.findall(r"need\+=\(([^)]*)\)", (ROOT / ".ci" / script).read_text())
    return {name for group in found for name in group.split()}


def test_the_service_setup_installs_nothing_only_tests_need() -> None:
    service, tests = _apt_packages("setup"), _apt_packages("setup-tests")
    only_tests = {"chromium", "postgresql", "g++", "default-jdk-headless", "nodejs", "iproute2"}
    assert only_tests <= tests and not (only_tests & service)
    assert {"gcc", "libc6-dev", "libseccomp2", "debootstrap", "redis-server", "python3-venv"} <= service
    setup = (ROOT / ".ci/setup").read_text()
    assert "python3 -m pip" not in setup and 'pip=("$venv/bin/python" -m pip' in setup  # the venv's pip only
    assert "JUDGE_LOCK=requirements-dev.lock bash .ci/setup" in (ROOT / ".ci/setup-tests").read_text()


def test_the_example_is_a_package_with_a_sample_hidden_tests_and_its_own_submissions() -> None:
    problem = package.load(EXAMPLE_DIR)
    assert problem.format == "2025-09" and problem.limits.time_limit_s == 1.0 and not problem.warnings
    groups = {g.name: [c.name for c in g.cases] for g in problem.data.groups}
    assert len(groups["sample"]) == 1 and len(groups["secret"]) == 4
    folders = sorted((s.folder, s.language) for s in problem.submissions)
    assert folders == [
        ("accepted", "c"),
        ("accepted", "python3"),
        ("wrong_answer", "c"),
        ("wrong_answer", "python3"),
    ]
    data = PYPROJECT["tool"]["setuptools"]["package-data"]["judge.examples"]
    assert data == ["aplusb/**/*"]  # every file of it goes into the wheel


def test_the_wheel_carries_every_data_file_of_the_packages() -> None:
    """A file the code reads that package-data does not name is missing from every install but an
    editable one (compose/'s images, the systemd install): name each in pyproject.toml."""
    covered: set[Path] = set()
    for package_name, patterns in PYPROJECT["tool"]["setuptools"]["package-data"].items():
        folder = ROOT.joinpath(*package_name.split("."))
        covered |= {p for pattern in patterns for p in folder.glob(pattern) if p.is_file()}
    data = {
        p
        for top in ("judge", "sandbox", "web", "worker")
        for p in (ROOT / top).rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    }
    assert sorted(str(p.relative_to(ROOT)) for p in data - covered) == []


def test_the_printed_curl_line_submits_the_examples_solution() -> None:
    submit, fetch = curl_lines("http://127.0.0.1:8000", "jdg_token")
    argv = shlex.split(submit)
    assert argv[0] == "curl" and argv[-1] == "http://127.0.0.1:8000/api/v1/submissions?wait=true"
    assert argv[argv.index("-H") + 1] == "Authorization: Bearer jdg_token"
    body = json.loads(argv[argv.index("-d") + 1])
    assert body == {"problem": "aplusb", "language": "python3", "source": EXAMPLE_SOLUTION.read_text()}
    assert shlex.split(fetch)[-1] == "http://127.0.0.1:8000/api/v1/submissions/ID"
