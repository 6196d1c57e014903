"""What the box can see of the host (sandbox/README.md's attack list, items 8-10): its own world only.

Processes, host name, network, cgroup path, the file system and devices. Where the host has
something to leak, the test plants it first (a listener, a canary file, a shared-memory
object) and checks the box cannot reach it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

import sandbox
from sandbox import RunStatus
from sandbox.store import hex_of

pytestmark = pytest.mark.sandbox

PYTHON = "/usr/bin/python3"


def py_ok(run, code: str, **limits: int) -> str:
    result = run.py(code, **limits)
    assert result.status == RunStatus.OK, f"{result.message}\n{result.stderr.decode()}"
    return result.stdout.decode()


def py_in_box_beside(sb, run, code: Callable[[int], str]) -> str:
    """Run code(pid) in a box while a host process `pid` of the box's own uid sleeps."""
    with sb.box(limits=run.limits()) as box:
        sleeper = subprocess.Popen(["sleep", "30"], user=box.uid)  # same uid as the box, on the host
        try:
            result = box.run([PYTHON, "-S", "-c", code(sleeper.pid)], run.limits())
            assert sleeper.poll() is None, "the box reached a host process"
        finally:
            sleeper.kill()
            sleeper.wait()
    assert result.status == RunStatus.OK, f"{result.message}\n{result.stderr.decode()}"
    return result.stdout.decode()


def test_the_box_sees_only_its_own_processes(sb, run) -> None:
    out = py_in_box_beside(
        sb,
        run,
        lambda _: """
import os
print(os.getpid(), *sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
""",
    )
    own, *visible = (int(x) for x in out.split())
    assert own in visible
    assert set(visible) <= {1, own}, f"the box sees processes other than its own: {visible}"


def test_the_box_cannot_signal_or_inspect_host_processes(sb, run) -> None:
    out = py_in_box_beside(
        sb,
        run,
        lambda pid: f"""
import os
try:
    os.kill({pid}, 0); print("kill=0")
except OSError as e:
    print("kill=%d" % e.errno)
print("cmdline=%s" % os.path.exists("/proc/{pid}/cmdline"))
""",
    )
    assert out.split() == ["kill=3", "cmdline=False"]  # ESRCH: no such process in the box


def test_pid_1_of_the_box_is_hidden_from_the_program(run) -> None:
    """init runs as root; hidepid=2 keeps its /proc entry (environment, cmdline) out of reach."""
    out = py_ok(
        run,
        """
import os
try:
    print(open("/proc/1/cmdline", "rb").read())
except OSError as e:
    print("errno=%d" % e.errno)
""",
    )
    assert out.strip() == "errno=2"


def test_the_host_name_is_box(run) -> None:
    out = py_ok(run, "import os, socket; print(os.uname().nodename, socket.gethostname())")
    assert out.split() == ["box", "box"]


def test_only_loopback_exists_and_it_is_up(run) -> None:
    out = py_ok(
        run,
        """
import socket
names = [l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]]
print(names)
srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); srv.bind(("127.0.0.1", 0)); srv.settimeout(1)
cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); cli.sendto(b"ping", srv.getsockname())
print(srv.recv(4).decode())
""",
    )  # UDP: TCP sockets are refused (tests/sandbox/test_limits.py)
    assert out.splitlines() == ["['lo']", "ping"]


def test_a_listener_on_the_hosts_loopback_is_unreachable(run) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        out = py_ok(
            run,
            f"""
import socket
for host in ("127.0.0.1", "10.0.2.2", "8.8.8.8"):
    try:
        socket.create_connection((host, {port}), timeout=0.5); print(host, "connected")
    except OSError as e:
        print(host, "refused", e.errno)
""",
        )
        assert "connected" not in out
        with pytest.raises(BlockingIOError):
            listener.accept()


def test_a_udp_datagram_does_not_reach_the_host(run) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.setblocking(False)
        port = receiver.getsockname()[1]
        py_ok(
            run,
            f"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(3):
    try: s.sendto(b"exfiltrated", ("127.0.0.1", {port}))
    except OSError: pass
""",
        )
        with pytest.raises(BlockingIOError):
            receiver.recv(64)


def test_an_abstract_unix_socket_of_the_host_is_unreachable(run) -> None:
    """Abstract unix sockets belong to the network namespace: a box must not reach the host's."""
    name = f"judge-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind("\0" + name)
        listener.listen()
        listener.setblocking(False)
        out = py_ok(
            run,
            f"""
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect("\\0{name}"); print("connected")
except OSError as e:
    print("errno", e.errno)
""",
        )
        assert out.strip() == "errno 111"  # ECONNREFUSED
        with pytest.raises(BlockingIOError):
            listener.accept()


def test_the_cgroup_namespace_is_rooted_at_the_box(run) -> None:
    out = py_ok(run, 'print(open("/proc/self/cgroup").read())')
    lines = [line for line in out.splitlines() if line]
    assert lines
    assert all(line.rsplit(":", 1)[1] == "/" for line in lines), out


def image_names() -> list[str]:
    """host and every image judge/images.toml defines (.ci/setup builds them all; CI fails on one missing)."""
    from judge import images

    return ["host", *sorted(n for n in images.definitions() if n != "base")]


@pytest.mark.parametrize("name", image_names())
def test_the_mount_table_names_no_host_paths(sb, name: str) -> None:
    """On every image: the overlay's options (layers, upper and work directories) included."""
    from judge import images

    if name != "host" and name not in images.names() and os.environ.get("CI") != "true":
        pytest.skip(f"image {name} is not built here (`judge images build {name}`)")
    image = sandbox.HOST if name == "host" else images.get(name)
    result = sb.run(["/bin/cat", "/proc/self/mountinfo"], image=image)
    assert result.status == RunStatus.OK, f"{result.message}\n{result.stderr.decode()}"
    out = result.stdout.decode()
    secrets = ["judge-sandbox", "/run", "/work", "/root", "/home", "/var", os.getcwd()]
    if name != "host":
        # the store's path and the layers' digests: the overlay's options list what they were given
        secrets += [image.layers_dir, *(hex_of(d)[:12] for d in image.layers)]
    for secret in secrets:
        assert secret not in out, f"{secret!r} in the box's mount table:\n{out}"


STDIN_PROBE = r"""
int main(void) {
    char link[4096] = "", buf[64] = "";
    ssize_t n = readlink("/proc/self/fd/0", link, sizeof link - 1);
    printf("link=%s\n", n > 0 ? (link[n] = 0, link) : "?");
    int w = open("/proc/self/fd/0", O_WRONLY);
    printf("reopen_for_writing=%d\n", w >= 0 ? 0 : errno);
    if (w >= 0)
        printf("wrote=%ld\n", (long)write(w, "pwned", 5));
    printf("write_fd0=%ld\n", (long)write(0, "pwned", 5));
    printf("truncate=%d\n", ftruncate(0, 0) == 0 ? 0 : errno);
    n = read(0, buf, sizeof buf - 1);
    printf("read=%s\n", n > 0 ? (buf[strcspn(buf, "\n")] = 0, buf) : "");
    return 0;
}
"""


def test_a_test_file_on_stdin_names_no_host_path_and_cannot_be_changed(run, tmp_path: Path) -> None:
    """What judge/grading.py does: the case's .in opened and passed as a descriptor."""
    case = tmp_path / "package" / "data" / "secret" / "1.in"
    case.parent.mkdir(parents=True)
    case.write_bytes(b"1 2\n")
    case.chmod(0o666)  # as a careless unzip leaves it
    with open(case, "rb") as f:
        result = run.c(STDIN_PROBE, stdin=f.fileno())
    assert result.status == RunStatus.OK, result.message
    fields = run.fields(result.stdout)
    assert str(tmp_path) not in result.stdout.decode()
    assert fields["link"] == "/memfd:stdin (deleted)"
    assert fields["read"] == "1 2"
    assert "wrote" not in fields or fields["wrote"] == "-1"
    assert fields["write_fd0"] == "-1"
    assert fields["truncate"] != "0"
    assert case.read_bytes() == b"1 2\n", "the program changed the package's test data"


def test_stdin_given_as_bytes_is_a_sealed_copy_too(run) -> None:
    result = run.c(STDIN_PROBE, stdin=b"3 4\n")
    fields = run.fields(result.stdout)
    assert fields["link"] == "/memfd:stdin (deleted)"
    assert fields["read"] == "3 4"
    assert "wrote" not in fields or fields["wrote"] == "-1"


def test_the_root_is_read_only(run) -> None:
    out = py_ok(
        run,
        """
import os
for path in ("/x", "/usr/x", "/etc/x", "/etc/passwd", "/dev/x", "/proc/x"):
    try:
        open(path, "a"); print(path, "written")
    except OSError as e:
        print(path, e.errno)
root = [l.split()[5] for l in open("/proc/self/mountinfo") if l.split()[4] == "/"]
print("root", root)
""",
    )
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
        out = py_ok(
            run,
            f"""
import os
print(os.listdir("/dev/shm"), os.path.exists("{canary}"))
""",
        )
    finally:
        canary.unlink()
    assert out.strip() == "[] False"


def test_a_canary_outside_the_image_is_invisible(run, tmp_path: Path) -> None:
    """Files the image does not list do not exist in the box, wherever they are on the host."""
    canaries = [tmp_path / "canary", Path("/tmp") / f"judge-canary-{uuid.uuid4().hex}"]
    for path in canaries:
        path.write_text("host secret")
    try:
        out = py_ok(
            run,
            f"""
import os
for path in {[str(p) for p in canaries]!r} + ["/root", "/home", "/var", "/run", "/srv", "/sys",
                                              "/etc/shadow", "/etc/ssh", "/work", "{os.getcwd()}"]:
    print(path, os.path.exists(path))
""",
        )
    finally:
        canaries[1].unlink()
    assert "True" not in out, out


def test_host_devices_are_absent(run) -> None:
    out = py_ok(
        run,
        """
import os
print(*sorted(os.listdir("/dev")))
for dev in ("/dev/mem", "/dev/kmem", "/dev/port", "/dev/vda", "/dev/sda", "/dev/kmsg", "/dev/tty",
            "/dev/console", "/dev/ptmx", "/dev/fuse", "/dev/net/tun", "/dev/kvm"):
    print(dev, os.path.exists(dev))
try:
    os.mknod("/tmp/mem", 0o600 | 0o020000, os.makedev(1, 1)); print("mknod ok")
except OSError as e:
    print("mknod", e.errno)
""",
    )
    lines = out.splitlines()
    assert set(lines[0].split()) <= {
        "null",
        "zero",
        "full",
        "random",
        "urandom",
        "shm",
        "fd",
        "stdin",
        "stdout",
        "stderr",
        "pts",
        "ptmx",
        "tty",
    }
    assert not [line for line in lines[1:] if line.endswith("True")]
    assert lines[-1] == "mknod 1"  # EPERM


def test_the_safe_devices_work(run) -> None:
    out = py_ok(
        run,
        """
import os
print(len(open("/dev/urandom", "rb").read(16)), open("/dev/zero", "rb").read(2), open("/dev/null").read())
fd = os.open("/dev/full", os.O_WRONLY)
try:
    os.write(fd, b"x")
except OSError as e:
    print(e.errno)
""",
    )
    assert out.splitlines() == ["16 b'\\x00\\x00' ", "28"]  # ENOSPC from /dev/full
