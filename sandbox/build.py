"""Building layers: a Debian base with debootstrap, then packages installed over it in a chroot.

Two kinds of step, each making one layer of the store (sandbox/store.py):

- `Debootstrap(suite, variant)`: `debootstrap --variant=minbase` into an empty directory. The
  package lists and downloaded packages are removed afterwards: they would only make every
  box's image bigger.
- `Npm(package, integrity, into)`: one package tarball from the npm registry (JUDGE_NPM_REGISTRY,
  by default registry.npmjs.org), checked against the `integrity` written in the definition
  (npm's own SRI form, `sha512-...`) before anything is unpacked, and unpacked under `into`
  with tarfile's `data` filter (no links out, no devices, no setuid bits). Nothing runs: that
  is how JetBrains' Kotlin compiler, a JVM jar that Debian only has as 1.3, gets into an image.
- `Apt(packages)`: the layers below are stacked read-only with overlayfs, a new empty
  directory is the upper layer, and `apt-get install --no-install-recommends` runs in a chroot
  of the stack, inside a mount and pid namespace of its own (`unshare`) so that nothing it
  mounts or starts outlives it. /proc, /dev and the host's resolv.conf are mounted for apt;
  downloaded packages go to the store's cache (shared by every build, never into a layer).
  What apt changed lands in the upper directory, deletions as overlayfs whiteouts: that
  directory, minus apt's package lists and caches, is the layer.

Builds run apt from Debian's mirror (JUDGE_DEBIAN_MIRROR, by default deb.debian.org), with
the host's network: a build is the organiser's act, never a contestant's. Programs never run
here; boxes on the result are made by boxinit like any other.

A layer's digest is the sha256 of its step's definition and of the digest of the layer under
it (`layer_digest`): a layer is rebuilt exactly when its definition, or a layer under it,
changes, and a build whose layers are all in the store does nothing. The mirror is not part
of the definition: it is where packages come from, not what the layer is.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from .store import ImageStore, StoreError

BUILDER_VERSION = 1  # bump when the way layers are made changes what they hold
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_NPM_REGISTRY = "https://registry.npmjs.org"
NPM_PACKAGE = re.compile(r"^(?:@[a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*@[0-9][0-9A-Za-z.+-]*$")
PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.:=~-]*$")
APT_OPTIONS = (
    "-q",
    "-o",
    "Acquire::Check-Valid-Until=false",
    "-o",
    "APT::Sandbox::User=root",
    "-o",
    "Dpkg::Use-Pty=0",
)
CHROOT_ENV = {
    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
    "DEBIAN_FRONTEND": "noninteractive",
    "LC_ALL": "C",
    "HOME": "/root",
}
Progress = Callable[[str], None]


class BuildFailed(StoreError):
    """A build step failed; the message ends with the last lines of its log."""


@dataclass(frozen=True, slots=True)
class Debootstrap:
    suite: str
    variant: str = "minbase"

    def definition(self) -> dict[str, object]:
        return {"kind": "debootstrap", "suite": self.suite, "variant": self.variant}

    def describe(self) -> str:
        return f"debootstrap --variant={self.variant} {self.suite}"


@dataclass(frozen=True, slots=True)
class Apt:
    packages: tuple[str, ...]

    def __post_init__(self) -> None:
        bad = [p for p in self.packages if not PACKAGE.match(p)]
        if bad or not self.packages:
            raise StoreError(f"not Debian package names: {bad or 'none given'}")

    def definition(self) -> dict[str, object]:
        return {"kind": "apt", "packages": sorted(self.packages)}

    def describe(self) -> str:
        return "apt-get install " + " ".join(self.packages)


@dataclass(frozen=True, slots=True)
class Npm:
    package: str  # name@version, an exact version
    integrity: str  # the registry's `dist.integrity`: "sha512-" and the base64 digest
    into: str  # an absolute path in the image; the tarball's package/ folder becomes it

    def __post_init__(self) -> None:
        if not NPM_PACKAGE.match(self.package):
            raise StoreError(f"not an npm package at an exact version (name@1.2.3): {self.package!r}")
        if not self.integrity.startswith("sha512-"):
            raise StoreError(
                f"{self.package}: integrity must be npm's sha512-... form, not {self.integrity!r}"
            )
        parts = self.into.split("/")
        if not self.into.startswith("/") or any(p in ("", ".", "..") for p in parts[1:]):
            raise StoreError(f"{self.package}: `into` must be a plain absolute path, not {self.into!r}")

    def definition(self) -> dict[str, object]:
        return {"kind": "npm", "package": self.package, "integrity": self.integrity, "into": self.into}

    def describe(self) -> str:
        return f"npm {self.package} into {self.into}"

    def tarball_url(self, registry: str) -> str:
        name, version = self.package.rsplit("@", 1)
        return f"{registry.rstrip('/')}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"


Step = Debootstrap | Apt | Npm


def layer_digest(step: Step, parent: str | None) -> str:
    doc = {"builder": BUILDER_VERSION, "step": step.definition(), "parent": parent}
    return "sha256:" + hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def mirror() -> str:
    return os.environ.get("JUDGE_DEBIAN_MIRROR", DEFAULT_MIRROR)


def build_layer(store: ImageStore, step: Step, below: list[str], progress: Progress) -> str:
    """Make the layer of `step` over the layers `below` (bottom first); returns its digest.

    Call with the store's lock held. Does nothing if the layer is already in the store.
    """
    digest = layer_digest(step, below[-1] if below else None)
    if store.has_layer(digest):
        return digest
    if isinstance(step, Debootstrap) and below:
        raise StoreError("a debootstrap layer must be the bottom one")
    if isinstance(step, Apt | Npm) and not below:
        raise StoreError("packages need a layer to install over (a debootstrap one)")
    info = {
        "source": "build",
        "step": step.definition(),
        "parent": below[-1] if below else None,
        "description": step.describe(),
    }
    with store.new_layer(digest, info) as tree:
        log = os.path.join(os.path.dirname(tree), "build.log")
        if isinstance(step, Debootstrap):
            _debootstrap(store, step, tree, log, progress)
        elif isinstance(step, Npm):
            _npm(store, step, tree, progress)
        else:
            _apt(store, step, below, tree, log, progress)
    return digest


def _debootstrap(store: ImageStore, step: Debootstrap, tree: str, log: str, progress: Progress) -> None:
    tool = shutil.which("debootstrap")
    if tool is None:
        raise StoreError("debootstrap is not installed; `apt-get install debootstrap` (bash .ci/setup does)")
    cache = os.path.join(store.cache_dir, "debootstrap")
    os.makedirs(cache, exist_ok=True)
    # in a mount namespace of its own: whatever debootstrap mounts in the tree (/proc, /sys)
    # goes with it, even if it is interrupted, so removing an unfinished tree never meets a mount
    _run(
        "debootstrap",
        [
            _unshare(),
            "--mount",
            "--propagation",
            "private",
            tool,
            f"--variant={step.variant}",
            f"--cache-dir={cache}",
            step.suite,
            tree,
            mirror(),
        ],
        log,
        progress,
    )
    for rel in ("var/lib/apt/lists", "var/cache/apt/archives"):
        _empty(os.path.join(tree, rel), keep=("lock", "partial"))


SCRIPT = r"""
set -eu
mount -t overlay overlay -o "lowerdir=$LOWERS,upperdir=$UPPER,workdir=$WORK" "$ROOT"
mount -t proc proc "$ROOT/proc"
mount --rbind /dev "$ROOT/dev"
mount -t tmpfs tmpfs "$ROOT/tmp"
[ -e "$ROOT/etc/resolv.conf" ] || touch "$ROOT/etc/resolv.conf"
mount --bind /etc/resolv.conf "$ROOT/etc/resolv.conf"
mount --bind "$CACHE" "$ROOT/var/cache/apt/archives"
chroot "$ROOT" apt-get $APT_OPTIONS update
chroot "$ROOT" apt-get $APT_OPTIONS install -y --no-install-recommends $PACKAGES
"""


def _apt(store: ImageStore, step: Apt, below: list[str], tree: str, log: str, progress: Progress) -> None:
    base = os.path.dirname(tree)
    work, root = os.path.join(base, "work"), os.path.join(base, "root")
    os.mkdir(work, 0o700)
    os.mkdir(root, 0o755)
    cache = os.path.join(store.cache_dir, "apt")
    os.makedirs(os.path.join(cache, "partial"), exist_ok=True)
    env = {
        **CHROOT_ENV,
        "LOWERS": ":".join(store.layer_path(d) for d in reversed(below)),
        "UPPER": tree,
        "WORK": work,
        "ROOT": root,
        "CACHE": cache,
        "APT_OPTIONS": " ".join(APT_OPTIONS),
        "PACKAGES": " ".join(step.packages),
    }
    argv = [_unshare(), "--mount", "--pid", "--fork", "--propagation", "private", "/bin/sh", "-c", SCRIPT]
    _run("apt-get", argv, log, progress, env=env)
    _empty(os.path.join(tree, "var/lib/apt/lists"), keep=("lock", "partial"))
    for name in ("pkgcache.bin", "srcpkgcache.bin"):
        path = os.path.join(tree, "var/cache/apt", name)
        if os.path.isfile(path) and not os.path.islink(path):
            os.unlink(path)


def _npm(store: ImageStore, step: Npm, tree: str, progress: Progress) -> None:
    """Fetch the tarball (once: kept in the store's cache), check its integrity, unpack package/."""
    cache = os.path.join(store.cache_dir, "npm")
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, step.package.replace("/", "+") + ".tgz")
    if not os.path.isfile(path) or not _integrity_ok(path, step.integrity):
        url = step.tarball_url(os.environ.get("JUDGE_NPM_REGISTRY", DEFAULT_NPM_REGISTRY))
        progress(f"fetching {url}")
        part = path + ".part"
        try:
            with urllib.request.urlopen(url, timeout=60) as answer, open(part, "wb") as out:
                shutil.copyfileobj(answer, out, 1 << 20)
        except OSError as e:
            raise BuildFailed(f"cannot fetch {url}: {e}") from e
        if not _integrity_ok(part, step.integrity):
            os.unlink(part)
            raise BuildFailed(
                f"{url} does not match the integrity {step.integrity[:24]}... written in its "
                "definition; nothing was unpacked"
            )
        os.replace(part, path)
    dest = os.path.join(tree, step.into.lstrip("/"))
    os.makedirs(os.path.dirname(dest), mode=0o755, exist_ok=True)
    unpack = os.path.join(tree, ".npm-unpack")
    with tarfile.open(path, "r:gz") as tar:
        if hasattr(tarfile, "data_filter"):
            try:  # refuses absolute names, `..`, links out, devices
                tar.extractall(unpack, filter="data")
            except (tarfile.TarError, OSError) as e:
                raise BuildFailed(
                    f"{step.package}: cannot unpack its tarball ({e}); nothing was unpacked"
                ) from e
        else:  # Python before 3.11.4 (Debian 12 has 3.11.2): the same refusals, by hand
            members = tar.getmembers()
            for m in members:
                parts = m.name.split("/")
                if not (m.isfile() or m.isdir()) or m.name.startswith("/") or ".." in parts:
                    raise BuildFailed(
                        f"{step.package}: the tarball's entry {m.name!r} is not a plain "
                        "file or folder inside it; nothing was unpacked"
                    )
                m.mode = (m.mode & 0o755) | (0o644 if m.isfile() else 0o755)  # no setuid, no 0700
            tar.extractall(unpack, members)
    top = os.listdir(unpack)
    if top != ["package"]:
        raise BuildFailed(f"{step.package}: the tarball holds {sorted(top)}, not one package/ folder")
    os.rename(os.path.join(unpack, "package"), dest)
    os.rmdir(unpack)
    for dirpath, dirnames, _ in os.walk(dest):  # npm tarballs may carry 0700 folders; boxes are not root
        for d in dirnames:
            os.chmod(os.path.join(dirpath, d), 0o755)
    os.chmod(dest, 0o755)
    progress(f"{step.package}: unpacked into {step.into}")


def _integrity_ok(path: str, integrity: str) -> bool:
    h = hashlib.sha512()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return "sha512-" + base64.b64encode(h.digest()).decode() == integrity


def _unshare() -> str:
    path = shutil.which("unshare")
    if path is None:
        raise StoreError("unshare (util-linux) is not installed")
    return path


def _run(what: str, argv: list[str], log: str, progress: Progress, env: dict[str, str] | None = None) -> None:
    """Run a build command, its output to the log and, line by line, to `progress`."""
    tail: collections.deque[str] = collections.deque(maxlen=25)
    env = env if env is not None else dict(CHROOT_ENV)
    pipe = subprocess.PIPE
    with (
        open(log, "ab") as logf,
        subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=pipe, stderr=subprocess.STDOUT, env=env
        ) as proc,
    ):
        assert proc.stdout is not None
        for raw in proc.stdout:
            logf.write(raw)
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                tail.append(line)
                progress(line)
        code = proc.wait()
    if code != 0:
        raise BuildFailed(f"{what} failed (exit {code}); its last lines:\n" + "\n".join(tail))


def _empty(directory: str, keep: tuple[str, ...]) -> None:
    if not os.path.isdir(directory) or os.path.islink(directory):
        return
    for entry in os.listdir(directory):
        if entry in keep:
            continue
        path = os.path.join(directory, entry)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
