"""What the box can see of the host (reference/sandboxes.md 7b, items 8-10): its own world only.

Processes, host name, network, cgroup path, the file system and devices. Where the host has
something to leak, the test plants it first (a listener, a canary file, a shared-memory
object) and checks the box cannot reach it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from pathlib import Path

import pytest

from sandbox import RunStatus

pytestmark = pytest.mark.sandbox


def py_ok(run, code: str, **limits: int) -> str:
    result = run.py(code, **limits)
    assert result.status == RunStatus.OK, f"{result.message}\n{result.stderr.decode()}"
    return result.stdout.decode()


def test_the_box_sees_only_its_own_processes(run) -> None:
    sleeper = subprocess.Popen(["sleep", "30"], user=65534)  # same uid as the box, on the host
    try:
        out = py_ok(run, """
import os
print(os.getpid(), *sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
""")
    finally:
        sleeper.kill()
        sleeper.wait()
    own, *visible = (int(x) for x in out.split())
    assert own in visible
    assert set(visible) <= {1, own}, f"the box sees processes other than its own: {visible}"


def test_the_box_cannot_signal_or_inspect_host_processes(run) -> None:
    sleeper = subprocess.Popen(["sleep", "30"], user=65534)
    try:
        out = py_ok(run, f"""
import os
try:
    os.kill({sleeper.pid}, 0); print("kill=0")
except OSError as e:
    print("kill=%d" % e.errno)
print("cmdline=%s" % os.path.exists("/proc/{sleeper.pid}/cmdline"))
""")
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()
    assert out.split() == ["kill=3", "cmdline=False"]  # ESRCH: no such process in the box


def test_pid_1_of_the_box_is_hidden_from_the_program(run) -> None:
    """init runs as root; hidepid=2 keeps its /proc entry (environment, cmdline) out of reach."""
    out = py_ok(run, """
import os
try:
    print(open("/proc/1/cmdline", "rb").read())
except OSError as e:
    print("errno=%d" % e.errno)
""")
    assert out.strip() == "errno=2"


def test_the_host_name_is_box(run) -> None:
    out = py_ok(run, "import os, socket; print(os.uname().nodename, socket.gethostname())")
    assert out.split() == ["box", "box"]


def test_only_loopback_exists_and_it_is_up(run) -> None:
    out = py_ok(run, """
import socket
names = [l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]]
print(names)
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen()
cli = socket.create_connection(srv.getsockname(), timeout=1)
conn, _ = srv.accept(); cli.sendall(b"ping"); print(conn.recv(4).decode())
""")
    assert out.splitlines() == ["['lo']", "ping"]


def test_a_listener_on_the_hosts_loopback_is_unreachable(run) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        out = py_ok(run, f"""
import socket
for host in ("127.0.0.1", "10.0.2.2", "8.8.8.8"):
    try:
        socket.create_connection((host, {port}), timeout=0.5); print(host, "connected")
    except OSError as e:
        print(host, "refused", e.errno)
""")
        assert "connected" not in out
        with pytest.raises(BlockingIOError):
            listener.accept()


def test_a_udp_datagram_does_not_reach_the_host(run) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.setblocking(False)
        port = receiver.getsockname()[1]
        py_ok(run, f"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(3):
    try: s.sendto(b"exfiltrated", ("127.0.0.1", {port}))
    except OSError: pass
""")
        with pytest.raises(BlockingIOError):
            receiver.recv(64)


def test_an_abstract_unix_socket_of_the_host_is_unreachable(run) -> None:
    """Abstract unix sockets belong to the network namespace: a box must not reach the host's."""
    name = f"judge-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind("\0" + name)
        listener.listen()
        listener.setblocking(False)
        out = py_ok(run, f"""
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect("\\0{name}"); print("connected")
except OSError as e:
    print("errno", e.errno)
""")
        assert out.strip() == "errno 111"  # ECONNREFUSED
        with pytest.raises(BlockingIOError):
            listener.accept()


def test_the_cgroup_namespace_is_rooted_at_the_box(run) -> None:
    out = py_ok(run, 'print(open("/proc/self/cgroup").read())')
    lines = [line for line in out.splitlines() if line]
    assert lines
    assert all(line.rsplit(":", 1)[1] == "/" for line in lines), out


def test_the_mount_table_names_no_host_paths(run) -> None:
    out = py_ok(run, 'print(open("/proc/self/mountinfo").read())')
    for secret in ("judge-sandbox", "/work", "/root", "/home", "/var", os.getcwd()):
        assert secret not in out


def test_the_root_is_read_only(run) -> None:
    out = py_ok(run, """
import os
for path in ("/x", "/usr/x", "/etc/x", "/etc/passwd", "/dev/x", "/proc/x"):
    try:
        open(path, "a"); print(path, "written")
    except OSError as e:
        print(path, e.errno)
root = [l.split()[5] for l in open("/proc/self/mountinfo") if l.split()[4] == "/"]
print("root", root)
""")
    assert "written" not in out
    assert "/x 30" in out  # EROFS, not merely a permission error
    assert "root ['ro" in out


@pytest.mark.parametrize("where", ["/tmp", "/box", "/dev/shm"])
def test_the_scratch_places_are_writable(run, where: str) -> None:
    out = py_ok(run, f'open("{where}/f", "w").write("ok"); print(open("{where}/f").read())')
    assert out.strip() == "ok"


def test_the_hosts_dev_shm_is_not_visible(run) -> None:
    canary = Path("/dev/shm") / f"judge-canary-{uuid.uuid4().hex}"
    canary.write_text("host secret")
    try:
        out = py_ok(run, f"""
import os
print(os.listdir("/dev/shm"), os.path.exists("{canary}"))
""")
    finally:
        canary.unlink()
    assert out.strip() == "[] False"


def test_a_canary_outside_the_image_is_invisible(run, tmp_path: Path) -> None:
    """Files the image does not list do not exist in the box, wherever they are on the host."""
    canaries = [tmp_path / "canary", Path("/tmp") / f"judge-canary-{uuid.uuid4().hex}"]
    for path in canaries:
        path.write_text("host secret")
    try:
        out = py_ok(run, f"""
import os
for path in {[str(p) for p in canaries]!r} + ["/root", "/home", "/var", "/run", "/srv", "/sys",
                                              "/etc/shadow", "/etc/ssh", "/work", "{os.getcwd()}"]:
    print(path, os.path.exists(path))
""")
    finally:
        canaries[1].unlink()
    assert "True" not in out, out


def test_host_devices_are_absent(run) -> None:
    out = py_ok(run, """
import os
print(*sorted(os.listdir("/dev")))
for dev in ("/dev/mem", "/dev/kmem", "/dev/port", "/dev/vda", "/dev/sda", "/dev/kmsg", "/dev/tty",
            "/dev/console", "/dev/ptmx", "/dev/fuse", "/dev/net/tun", "/dev/kvm"):
    print(dev, os.path.exists(dev))
try:
    os.mknod("/tmp/mem", 0o600 | 0o020000, os.makedev(1, 1)); print("mknod ok")
except OSError as e:
    print("mknod", e.errno)
""")
    lines = out.splitlines()
    assert set(lines[0].split()) <= {"null", "zero", "full", "random", "urandom", "shm", "fd", "stdin",
                                   "stdout", "stderr", "pts", "ptmx", "tty"}
    assert not [line for line in lines[1:] if line.endswith("True")]
    assert lines[-1] == "mknod 1"  # EPERM


def test_the_safe_devices_work(run) -> None:
    out = py_ok(run, """
import os
print(len(open("/dev/urandom", "rb").read(16)), open("/dev/zero", "rb").read(2), open("/dev/null").read())
fd = os.open("/dev/full", os.O_WRONLY)
try:
    os.write(fd, b"x")
except OSError as e:
    print(e.errno)
""")
    assert out.splitlines() == ["16 b'\\x00\\x00' ", "28"]  # ENOSPC from /dev/full
