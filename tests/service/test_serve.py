"""`judge serve` as a user starts it: first start, the printed login, Ctrl-C, a second start.

Runs the real command (python -m judge serve) on a fresh data directory with its embedded
Redis and SQLite, one worker taking Python 3 only.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests
from kit import wait_until
from service_kit import Service, start_serve, wait_workers

pytestmark = pytest.mark.sandbox


def _read_until(proc: subprocess.Popen[str], pattern: str, timeout_s: float = 120) -> str:
    """stderr up to the first line matching `pattern`."""
    assert proc.stderr is not None
    seen = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        if re.search(pattern, line):
            return "".join(seen)
    raise AssertionError(f"no {pattern!r} in:\n{''.join(seen)}")


def _redis_pids(data_dir: Path) -> list[int]:
    out = subprocess.run(
        ["pgrep", "-f", "redis-server 127.0.0.1"], capture_output=True, text=True
    ).stdout.split()
    return [
        int(p)
        for p in out
        if Path(f"/proc/{p}/cwd").exists() and os.readlink(f"/proc/{p}/cwd") == str(data_dir / "redis")
    ]


def test_serve_first_start_then_ctrl_c_then_again(tmp_path: Path, service: Service) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data_dir = tmp_path / "data"
    proc = start_serve(data_dir, port)
    try:
        text = _read_until(proc, r"API token: ")
        token = re.search(r"API token: (\S+)", text).group(1)  # type: ignore[union-attr]
        assert re.search(r"password: +\S{12,}", text)
        base = f"http://127.0.0.1:{port}"
        wait_workers(base, token)
        me = requests.get(
            f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
        ).json()
        assert me["name"] == "admin" and me["role"] == "organiser"
        r = requests.post(
            f"{base}/api/v1/submissions",
            params={"wait": "true"},
            headers={"Authorization": f"Bearer {token}"},
            json={"language": "python3", "source": "print(input())", "stdin": "served\n"},
            timeout=90,
        )
        assert r.status_code == 201 and r.json()["stdout"] == "served\n"
        assert (data_dir / "judge.db").is_file()
        assert len(_redis_pids(data_dir)) == 1

        # a second serve on the same data directory is refused while this one runs
        second = start_serve(data_dir, port + 1 if port < 65535 else port - 1)
        _, err = second.communicate(timeout=60)
        assert second.returncode == 1
        assert "another `judge serve`" in err
    finally:
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 0, rest
    assert "stopping" in rest
    assert _redis_pids(data_dir) == []  # Redis stopped with it
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/api/v1/languages", timeout=2)

    again = start_serve(data_dir, port)
    try:
        text = _read_until(again, r"Ctrl-C stops")
        wait_workers(f"http://127.0.0.1:{port}", token)  # the first start's token still works
    finally:
        again.send_signal(signal.SIGINT)
        _, rest = again.communicate(timeout=60)
    assert "created the organiser" not in text + rest  # only on the first start
    assert again.returncode == 0


def test_serve_refuses_a_port_in_use(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        proc = start_serve(tmp_path / "data", s.getsockname()[1])
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "choose another with --port" in err


def test_serve_killed_outright_leaves_nothing_running(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data_dir = tmp_path / "data"
    proc = start_serve(data_dir, port)
    text = _read_until(proc, r"API token: ")
    token = re.search(r"API token: (\S+)", text).group(1)  # type: ignore[union-attr]
    wait_workers(f"http://127.0.0.1:{port}", token)
    children = subprocess.run(["pgrep", "-f", "--", "-m (worker|web)"], capture_output=True, text=True).stdout
    mine = [int(p) for p in children.split() if _env_of(int(p)).get("JUDGE_DATA_DIR") == str(data_dir)]
    assert len(mine) >= 2  # the worker (and its pool process) and the web server of this serve
    assert len(_redis_pids(data_dir)) == 1
    proc.kill()
    proc.communicate(timeout=30)
    wait_until(
        lambda: not any(Path(f"/proc/{p}").exists() for p in mine) and not _redis_pids(data_dir),
        what="the children and Redis to be gone",
        timeout_s=60,
        every_s=0.2,
    )
    assert not [p for p in mine if Path(f"/proc/{p}").exists()]
    assert _redis_pids(data_dir) == []


def _env_of(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)
