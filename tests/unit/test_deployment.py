"""compose/: the deployment files say what compose/README.md says, and what they run exists.

The Compose file is read with pyyaml: the services, the worker's grants (exactly the capabilities
of the README's table, no `privileged`, nothing that stops it from scaling), the healthchecks, the
start-up order, the variables against .env.example, the files the Dockerfiles copy. The systemd
units are read with configparser: Delegate=yes, the commands, the capabilities and the directives
the README says must stay out. Then what can be run here is run: `web.wsgi:app` answers through
Flask's test client and through a real gunicorn with the Compose file's worker class, and
`docker compose config` and `systemd-analyze verify` check the files where those tools are.
"""

from __future__ import annotations

import configparser
import importlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from kit import free_port

from judge.cli import main as judge_cli
from judge.service import queue, settings
from sandbox import registry, runtime

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose"
UNITS = COMPOSE / "systemd"
DATA_DIR = "/var/lib/judge/data"
LONGEST_JOB_S = settings.DEFAULT_MAX_JOB_S + queue.HARD_LIMIT_MARGIN_S
SERVICES = {"redis", "postgres", "migrate", "images", "web", "worker"}
ONE_SHOT = {"migrate", "images"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    doc = yaml.safe_load((COMPOSE / "docker-compose.yml").read_text())
    assert isinstance(doc, dict)
    return doc


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose["services"]
    assert isinstance(found, dict)
    return found


def _section(text: str, heading: str) -> str:
    """The text under a Markdown heading, up to the next heading of the same or a higher level."""
    level = heading.split(" ", 1)[0]
    start = text.index(heading + "\n")
    stop = re.compile(rf"^#{{1,{len(level)}}} ", re.M).search(text, start + len(heading) + 1)
    return text[start : stop.start() if stop else len(text)]


def _readme_capabilities() -> set[str]:
    table = _section((COMPOSE / "README.md").read_text(), "### Capabilities: `cap_drop: [ALL]`, then these")
    return set(re.findall(r"^\| `([A-Z_]+)` \|", table, re.M))


def _readme_absent() -> set[str]:
    text = _section((COMPOSE / "README.md").read_text(), "## Without Docker: systemd")
    absent: set[str] = set()
    for row in re.findall(r"^\| (`[A-Z]\w+`(?:, `[A-Z]\w+`)*) \|", text, re.M):
        absent |= set(re.findall(r"`(\w+)`", row))
    return absent


def _env_names(path: Path) -> tuple[set[str], set[str]]:
    """(names set in the file, names only shown commented out)."""
    active: set[str] = set()
    commented: set[str] = set()
    for line in path.read_text().splitlines():
        m = re.match(r"^(#?)([A-Z][A-Z0-9_]*)=", line)
        if m:
            (commented if m.group(1) else active).add(m.group(2))
    return active, commented - active


def _duration_s(value: str) -> float:
    """`21m`, `1h30m`, `90s`, `21min`: Compose's and systemd's spans, in seconds."""
    units = {"h": 3600, "min": 60, "m": 60, "s": 1}
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*(h|min|m|s)", value)
    assert parts and "".join(n + u for n, u in parts) == value.replace(" ", ""), f"not a duration: {value!r}"
    return sum(float(n) * units[u] for n, u in parts)


# -- the Compose file ---------------------------------------------------------------------------


def test_every_service_is_there_and_none_uses_the_host_network(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == SERVICES
    for name, svc in services.items():
        assert svc.get("network_mode") != "host", name
        assert not svc.get("privileged"), name


def test_the_worker_gets_exactly_the_capabilities_the_readme_justifies(
    services: dict[str, dict[str, Any]],
) -> None:
    worker = services["worker"]
    documented = _readme_capabilities()
    assert "SYS_ADMIN" in documented and len(documented) >= 8  # the table was found and read
    assert worker["cap_drop"] == ["ALL"]
    assert len(worker["cap_add"]) == len(set(worker["cap_add"]))
    assert set(worker["cap_add"]) == documented


def test_the_worker_has_its_own_cgroup_namespace_and_only_the_security_options_explained(
    services: dict[str, dict[str, Any]],
) -> None:
    worker = services["worker"]
    assert worker["cgroup"] == "private"
    assert set(worker["security_opt"]) == {"apparmor=unconfined", "seccomp=unconfined"}
    # the sandbox stages boxes and lists them under /run: a tmpfs, as on a host
    assert runtime.STAGING.startswith("/run/") and registry.DEFAULT_DIR.startswith("/run/")
    assert "/run" in worker["tmpfs"]


def test_the_worker_scales(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    for key in ("container_name", "ports", "hostname"):
        assert key not in worker, f"worker sets {key}: `--scale worker=N` would collide"


def test_web_and_worker_start_after_healthy_redis_and_postgres_and_the_one_shots(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in ("web", "worker"):
        needs = services[name]["depends_on"]
        assert needs["redis"] == {"condition": "service_healthy"}, name
        assert needs["postgres"] == {"condition": "service_healthy"}, name
        assert needs["migrate"] == {"condition": "service_completed_successfully"}, name
    assert services["worker"]["depends_on"]["images"] == {"condition": "service_completed_successfully"}


def test_every_long_running_service_has_a_healthcheck_and_one_shots_do_not_restart(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, svc in services.items():
        if name in ONE_SHOT:
            assert svc["restart"] == "no", name
            continue
        assert svc["restart"] == "unless-stopped", name
        test = svc["healthcheck"]["test"]
        assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, name


def test_the_healthchecks_ask_the_right_things(services: dict[str, dict[str, Any]]) -> None:
    web = services["web"]["healthcheck"]["test"]
    assert any("/api/v1/openapi.json" in part for part in web)
    worker = " ".join(services["worker"]["healthcheck"]["test"])
    assert "celery -A worker.app inspect ping" in worker
    # the node pinged is the one the entrypoint names ($$ is Compose's escape for $)
    assert '-d "judge-$$(hostname)@$$(hostname)"' in worker
    entrypoint = (COMPOSE / "worker-entrypoint.sh").read_text()
    assert 'exec judge worker --name "judge-$(hostname)" "$@"' in entrypoint
    redis = " ".join(services["redis"]["healthcheck"]["test"])
    assert "redis-cli ping" in redis and "PONG" in redis  # NOAUTH exits 0 too


def test_the_web_runs_gunicorn_with_our_evented_worker_on_the_wsgi_module(
    services: dict[str, dict[str, Any]],
) -> None:
    command = services["web"]["command"]
    assert command[0] == "gunicorn" and command[-1] == "web.wsgi:app"
    assert command[command.index("-k") + 1] == "web.server.Worker"  # what `judge web` runs too
    # the image's own CMD is the same command
    dockerfile = (COMPOSE / "Dockerfile.web").read_text()
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.M)
    assert cmd is not None and yaml.safe_load(cmd.group(1)) == command


def test_the_web_keeps_packages_in_a_volume_and_workers_share_no_file_system(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    assert "judge-data" in compose["volumes"]
    assert f"judge-data:{DATA_DIR}" in services["web"]["volumes"]
    # a worker unpacks packages from the database into its own data directory (judge/service/problems.py)
    assert not any(str(v).startswith("judge-data:") for v in services["worker"]["volumes"])
    assert compose["x-judge-environment"]["JUDGE_DATA_DIR"] == DATA_DIR
    # both images make the directory for uid 10001, the web's user, whichever mounts it first
    assert "--uid 10001" in (COMPOSE / "Dockerfile.web").read_text()
    assert f"install -d -o 10001 -g 10001 -m 0755 {DATA_DIR}" in (COMPOSE / "Dockerfile.worker").read_text()


def test_a_warm_shutdown_has_time_for_the_longest_grading(services: dict[str, dict[str, Any]]) -> None:
    assert _duration_s(services["worker"]["stop_grace_period"]) >= LONGEST_JOB_S
    assert services["worker"]["init"] is True  # SIGTERM reaches the worker; orphans are reaped


def test_web_and_worker_read_the_env_file(services: dict[str, dict[str, Any]]) -> None:
    for name in ("web", "worker", "migrate"):
        assert services[name]["env_file"] == ".env", name


def test_every_variable_the_compose_file_reads_is_in_env_example() -> None:
    text = (COMPOSE / "docker-compose.yml").read_text()
    referenced = set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", text))
    required = set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*):\?", text))
    active, commented = _env_names(COMPOSE / ".env.example")
    assert {"POSTGRES_PASSWORD", "REDIS_PASSWORD", "JUDGE_SECRET_KEY"} <= required
    assert referenced - (active | commented) == set()
    assert required <= active, "a required variable must be a line to fill in, not a comment"


def test_every_variable_in_the_examples_is_read_by_something() -> None:
    """A misspelt name in an example is silently ignored: each must appear in the code or the Compose file."""
    packages = ("judge", "web", "worker", "sandbox")
    code = "\n".join(p.read_text() for d in packages for p in (ROOT / d).rglob("*.py"))
    code += (COMPOSE / "docker-compose.yml").read_text()
    for example in (COMPOSE / ".env.example", UNITS / "judge.env.example"):
        active, commented = _env_names(example)
        assert active, example
        unknown = {name for name in active | commented if name not in code}
        assert unknown == set(), f"{example.name}: {sorted(unknown)}"


def _dockerfile_lines(path: Path) -> list[str]:
    joined = re.sub(r"\\\n", " ", path.read_text())
    return [
        line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]


@pytest.mark.parametrize("service", ["web", "worker"])
def test_the_dockerfiles_exist_and_copy_files_that_exist(
    services: dict[str, dict[str, Any]], service: str
) -> None:
    build = services[service]["build"]
    context = (COMPOSE / build["context"]).resolve()
    assert context == ROOT
    dockerfile = context / build["dockerfile"]
    assert dockerfile.is_file()
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    copied: set[str] = set()
    copied_to: dict[str, str] = {}  # destination -> source, for single-file copies
    for line in _dockerfile_lines(dockerfile):
        words = line.split()
        if words[0] != "COPY" or any(w.startswith("--from=") for w in words):
            continue
        *sources, dest = words[1:]
        for src in sources:
            assert (context / src).exists(), f"{dockerfile.name}: COPY {src}: no such file"
            assert src.rstrip("/") not in ignored, f"{dockerfile.name}: COPY {src}, left out by .dockerignore"
            copied.add(src.rstrip("/"))
        if len(sources) == 1:
            copied_to[dest] = sources[0]
    # what `pip install` of the project needs: pyproject.toml names README.md as its readme
    assert {"pyproject.toml", "README.md", "judge", "sandbox", "web", "worker"} <= copied
    entry = [line for line in _dockerfile_lines(dockerfile) if line.startswith("ENTRYPOINT")]
    for line in entry:
        (path,) = yaml.safe_load(line.removeprefix("ENTRYPOINT").strip())
        assert path in copied_to, f"ENTRYPOINT {path} is not copied into the image"
        script = context / copied_to[path]
        assert os.access(script, os.X_OK)
        assert subprocess.run(["sh", "-n", str(script)], check=False).returncode == 0


def test_the_worker_image_has_an_entrypoint_and_the_web_image_drops_root() -> None:
    worker = _dockerfile_lines(COMPOSE / "Dockerfile.worker")
    assert any(line.startswith("ENTRYPOINT") for line in worker)
    web = _dockerfile_lines(COMPOSE / "Dockerfile.web")
    users = [line.split()[1] for line in web if line.startswith("USER ")]
    assert users and users[-1] == "judge"
    for lines in (worker, web):
        assert lines[0].startswith("FROM debian:12-slim")


def test_the_entrypoint_remounts_only_cgroup_mounts_that_are_read_only(tmp_path: Path) -> None:
    """The remount loop of worker-entrypoint.sh, fed a container's mountinfo, with `mount` recorded."""
    text = (COMPOSE / "worker-entrypoint.sh").read_text()
    loop = text[text.index("awk ") : text.index("done\n") + 5]
    loop = loop.replace("/proc/self/mountinfo", str(tmp_path / "mountinfo"))
    (tmp_path / "mountinfo").write_text(
        "30 25 0:26 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro\n"
        "31 30 0:27 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw,nsdelegate\n"
        "32 30 0:28 / /sys/fs/cgroup/pids ro,relatime shared:5 - cgroup cgroup rw,pids\n"
        "33 30 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    )
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "mount").write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/calls\n')
    (fake / "mount").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}
    subprocess.run(["sh", "-eu", "-c", loop], check=True, env=env)
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls == [
        "-o remount,bind,rw,nosuid,nodev,noexec /sys/fs/cgroup",
        "-o remount,bind,rw,nosuid,nodev,noexec /sys/fs/cgroup/pids",
    ]


def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    if (
        docker is None
        or subprocess.run([docker, "compose", "version"], capture_output=True, check=False).returncode != 0
    ):
        pytest.skip(
            "Docker's Compose plugin is not installed here (`docker compose version` fails), so "
            "Compose cannot parse the file; its structure is checked above with pyyaml"
        )
    copy = tmp_path / "compose"
    shutil.copytree(COMPOSE, copy)
    env = (COMPOSE / ".env.example").read_text()
    for name in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "JUDGE_SECRET_KEY"):
        env = env.replace(f"\n{name}=\n", f"\n{name}=0123abcd\n")
    (copy / ".env").write_text(env)
    proc = subprocess.run(
        [docker, "compose", "-f", str(copy / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


# -- the systemd units --------------------------------------------------------------------------


def _unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment, method-assign]  # systemd's keys are case-sensitive
    parser.read_string((UNITS / name).read_text())
    return parser


def test_the_worker_unit_is_delegated_its_cgroup_and_runs_as_root() -> None:
    service = _unit("judge-worker.service")["Service"]
    assert service["Delegate"] == "yes"
    assert service.get("User", "root") == "root"
    assert service["OOMPolicy"] == "continue"  # a box's MLE must not stop the worker
    assert service["KillMode"] == "mixed"  # SIGTERM to Celery's main process only: a warm shutdown
    assert _duration_s(service["TimeoutStopSec"]) >= LONGEST_JOB_S
    assert service["Restart"] == "on-failure"


def test_the_worker_unit_bounds_the_capabilities_the_readme_justifies() -> None:
    service = _unit("judge-worker.service")["Service"]
    bounding = {cap.removeprefix("CAP_") for cap in service["CapabilityBoundingSet"].split()}
    assert bounding == _readme_capabilities()


def test_the_worker_unit_has_none_of_the_directives_that_break_the_sandbox() -> None:
    absent = _readme_absent()
    assert {"ProtectControlGroups", "RestrictNamespaces", "SystemCallFilter", "ProtectHostname"} <= absent
    service = _unit("judge-worker.service")["Service"]
    assert absent & set(service) == set()
    web = _unit("judge-web.service")["Service"]
    assert {"SystemCallFilter", "RestrictNamespaces", "ProtectControlGroups"} <= set(web)  # the web has them


def test_the_web_unit_runs_unprivileged_and_hardened() -> None:
    service = _unit("judge-web.service")["Service"]
    assert service["User"] == "judge"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["CapabilityBoundingSet"] == ""
    assert service["PrivateTmp"] == "yes"
    active, _ = _env_names(UNITS / "judge.env.example")
    assert f"JUDGE_DATA_DIR={DATA_DIR}" in (UNITS / "judge.env.example").read_text()
    assert {"JUDGE_DATA_DIR", "JUDGE_DATABASE_URL", "JUDGE_REDIS_URL", "JUDGE_SECRET_KEY"} <= active
    assert DATA_DIR in service["ReadWritePaths"].split()
    for name in ("judge-web.service", "judge-worker.service"):
        assert _unit(name)["Service"]["EnvironmentFile"] == "/etc/judge/judge.env"


def test_the_units_run_real_entry_points() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    web = _unit("judge-web.service")["Service"]
    worker = _unit("judge-worker.service")["Service"]
    argv = worker["ExecStart"].split()
    assert argv[0] == "/opt/judge/bin/judge" and scripts["judge"] == "judge.cli:main"
    assert argv[1:] == ["worker"] and "worker" in judge_cli.commands
    gunicorn = web["ExecStart"].split()
    assert gunicorn[0] == "/opt/judge/bin/gunicorn" and gunicorn[-1] == "web.wsgi:app"
    assert gunicorn[gunicorn.index("-k") + 1] == "web.server.Worker"
    migrate = web["ExecStartPre"]
    code = re.fullmatch(r'/opt/judge/bin/python3 -c "(.*)"', migrate)
    assert code is not None
    compile(code.group(1), "ExecStartPre", "exec")
    # a box made before ExecStart would keep systemd from placing the main process (cgroup v2)
    assert "ExecStartPre" not in worker


def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed here; the units are read with configparser above")
    # verify checks that each command is executable: point /opt/judge/bin at stand-ins
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("python3", "gunicorn", "judge"):
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    copies = []
    for name in ("judge-web.service", "judge-worker.service"):
        copy = tmp_path / name
        copy.write_text((UNITS / name).read_text().replace("/opt/judge/bin/", f"{bin_dir}/"))
        copies.append(str(copy))
    proc = subprocess.run([tool, "verify", *copies], capture_output=True, text=True, check=False)
    # an unknown key or a bad value is only a warning on stderr, with exit status 0
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


# -- web/wsgi.py --------------------------------------------------------------------------------


def _service_env(tmp_path: Path) -> dict[str, str]:
    return {
        "JUDGE_DATA_DIR": str(tmp_path / "data"),
        "JUDGE_DATABASE_URL": f"sqlite:///{tmp_path}/judge.db",
        "JUDGE_REDIS_URL": "redis://127.0.0.1:1/0",
        "JUDGE_SECRET_KEY": "deployment-test",
    }


def test_the_wsgi_module_is_the_app_and_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in _service_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delitem(sys.modules, "web.wsgi", raising=False)
    try:
        wsgi = importlib.import_module("web.wsgi")
        assert isinstance(wsgi.app, Flask)
        answer = wsgi.app.test_client().get("/api/v1/openapi.json")
        assert answer.status_code == 200
        assert answer.get_json()["openapi"].startswith("3.")
        assert (tmp_path / "judge.db").is_file()  # made from the environment, and migrated
    finally:
        sys.modules.pop("web.wsgi", None)


@pytest.mark.slow
def test_gunicorn_serves_the_wsgi_app_with_our_evented_worker(
    tmp_path: Path, wait_until: Callable[..., Any]
) -> None:
    """The Compose file's web command, smaller: one process, on a free loopback port."""
    port = free_port()
    env = {**os.environ, **_service_env(tmp_path), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-k",
            "web.server.Worker",
            "-w",
            "1",
            "-b",
            f"127.0.0.1:{port}",
            "web.wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )

    def fetch() -> tuple[int, str, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=5) as r:
                return r.status, r.headers.get("Server", ""), r.read()
        except OSError:
            if proc.poll() is not None:  # gunicorn is gone: no point waiting
                raise AssertionError("gunicorn exited before it served") from None
            raise

    try:
        status, server, body = wait_until(
            fetch, what="gunicorn to serve", timeout_s=30, every_s=0.2, retry_on=(OSError,)
        )
        assert status == 200
        assert server.startswith("gunicorn")
        assert b'"openapi"' in body
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    log = out.decode(errors="replace")
    assert proc.returncode == 0, log  # SIGTERM is gunicorn's graceful stop
    assert "Using worker: web.server.Worker" in log
