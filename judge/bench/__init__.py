"""`judge bench sandbox`: what a fresh box costs, beside a plain process and bubblewrap.

Latency. `/bin/true` runs `runs` times under each candidate: a fresh box
(`sandbox.default().run(["/bin/true"])`), a plain `subprocess.run(["/bin/true"])`, and
`bwrap` with every namespace unshared when it is installed. The candidates are interleaved:
each repetition runs every candidate once, in an order shuffled afresh, after a warm-up. So
whatever drifts on the machine during the run (other load, CPU frequency, caches) falls on
all candidates alike instead of on whichever ran last, and the figures can be compared.

Each figure is the wall time the caller waits, from `time.perf_counter_ns` before the call to
after it: for a box that is taking a prepared box from the pool (or making one when the
pool has none ready), GO, exec, the wait and reading the cgroup's figures. Tearing the box
down is the janitor's work, off that path, as it is for a grader.

Throughput. One thread per core this process may run on, each running `/bin/true` boxes
back to back for a few seconds; `boxes_per_second` is all boxes over the elapsed time. It
includes whatever preparing boxes costs, since the pool cannot keep up at full speed.

Every box must end OK; any other status means a broken sandbox, and BenchError says so.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import sandbox
from sandbox import RunStatus

BWRAP_ARGS = (
    "--unshare-all",
    "--die-with-parent",
    "--ro-bind",
    "/usr",
    "/usr",
    "--symlink",
    "usr/lib",
    "/lib",
    "--symlink",
    "usr/lib64",
    "/lib64",
    "--symlink",
    "usr/bin",
    "/bin",
    "/bin/true",
)
WARMUP_ROUNDS = 10
REAP_SETTLE_S = 0.5  # after the throughput phase, for the janitor to reap its last boxes


class BenchError(Exception):
    """A benchmarked box did not end OK: the sandbox is broken here, the figures mean nothing."""


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    """p50, p90 and p99, interpolated linearly between the nearest ranks, rounded to 3 decimals."""
    if not samples:
        raise ValueError("no samples")
    xs = sorted(samples)

    def at(q: float) -> float:
        pos = (len(xs) - 1) * q
        lo = int(pos)
        hi = min(lo + 1, len(xs) - 1)
        return round(xs[lo] + (xs[hi] - xs[lo]) * (pos - lo), 3)

    return {"p50": at(0.50), "p90": at(0.90), "p99": at(0.99)}


def interleave(
    candidates: Mapping[str, Callable[[], object]],
    runs: int,
    *,
    warmup: int = WARMUP_ROUNDS,
    rng: random.Random | None = None,
) -> dict[str, list[float]]:
    """Milliseconds per call of each candidate: `runs` rounds, each in a freshly shuffled order."""
    rng = rng or random.Random()
    names = list(candidates)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(warmup + runs):
        rng.shuffle(names)
        for name in names:
            t0 = time.perf_counter_ns()
            candidates[name]()
            elapsed = (time.perf_counter_ns() - t0) / 1e6
            if round_ >= warmup:
                samples[name].append(elapsed)
    return samples


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxBench:
    runs: int
    box_ms: dict[str, float]
    subprocess_ms: dict[str, float]
    bwrap_ms: dict[str, float] | None
    boxes_per_second: float
    threads: int
    seconds: float
    # CPU of this process and its children (boxinit, init, the program) per box in the
    # throughput phase, the janitor's reaping included: what bounds boxes/s on an idle machine
    cpu_ms_per_box: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def cpu_bound_boxes_per_second(self) -> float:
        """Boxes per second that `threads` CPUs could sustain at this CPU cost per box."""
        return round(self.threads * 1000 / self.cpu_ms_per_box, 1) if self.cpu_ms_per_box > 0 else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "runs": self.runs,
            "box_ms": self.box_ms,
            "subprocess_ms": self.subprocess_ms,
            "bwrap_ms": self.bwrap_ms,
            "boxes_per_second": self.boxes_per_second,
            "cpu_ms_per_box": self.cpu_ms_per_box,
            "cpu_bound_boxes_per_second": self.cpu_bound_boxes_per_second,
            "throughput_threads": self.threads,
            "throughput_seconds": self.seconds,
            "notes": self.notes,
        }


def _box_true(sb: sandbox.Sandbox) -> None:
    r = sb.run(["/bin/true"])
    if r.status is not RunStatus.OK:
        raise BenchError(f"/bin/true in a fresh box ended {r.status}: {r.message}")


def _bwrap() -> tuple[list[str] | None, str | None]:
    """The bwrap command line, or None and why it is left out."""
    path = shutil.which("bwrap")
    if path is None:
        return None, "bwrap is not installed (apt-get install bubblewrap); bwrap_ms is null"
    argv = [path, *BWRAP_ARGS]
    probe = subprocess.run(argv, capture_output=True, check=False)
    if probe.returncode != 0:
        why = probe.stderr.decode(errors="replace").strip()
        return None, f"bwrap cannot run here ({why}); bwrap_ms is null"
    return argv, None


def throughput(sb: sandbox.Sandbox, seconds: float, threads: int) -> tuple[float, float]:
    """Boxes per second with `threads` threads running /bin/true boxes back to back, and the CPU
    time per box of this process and its children (reaped by the janitor once the phase is over)."""
    counts = [0] * threads
    errors: list[Exception] = []
    start = threading.Barrier(threads + 1)
    deadline = 0.0

    def worker(i: int) -> None:
        start.wait()
        try:
            while time.monotonic() < deadline:
                _box_true(sb)
                counts[i] += 1
        except Exception as e:  # re-raised by the main thread after the join
            errors.append(e)

    pool = [threading.Thread(target=worker, args=(i,), name=f"bench-{i}") for i in range(threads)]
    for t in pool:
        t.start()
    cpu0 = os.times()
    t0 = time.monotonic()
    deadline = t0 + seconds
    start.wait()
    for t in pool:
        t.join()
    elapsed = time.monotonic() - t0
    if errors:
        raise errors[0]
    time.sleep(REAP_SETTLE_S)  # the janitor reaps the last boxes: their boxinit's CPU counts once reaped
    cpu1 = os.times()
    cpu_s = sum(cpu1[i] - cpu0[i] for i in range(4))  # user, system, children's user and system
    boxes = sum(counts)
    return round(boxes / elapsed, 1), round(cpu_s * 1000 / max(boxes, 1), 2)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageBench:
    """Boxes on a store image beside boxes on `host`, interleaved in one run."""

    image: str
    runs: int
    host_run_ms: dict[str, float]
    image_run_ms: dict[str, float]
    host_prepare_ms: dict[str, float]
    image_prepare_ms: dict[str, float]

    @property
    def run_ratio(self) -> float:
        return round(self.image_run_ms["p50"] / self.host_run_ms["p50"], 3)

    @property
    def prepare_ratio(self) -> float:
        return round(self.image_prepare_ms["p50"] / self.host_prepare_ms["p50"], 3)

    def to_json(self) -> dict[str, object]:
        return {
            "image": self.image,
            "runs": self.runs,
            "host_box_ms": self.host_run_ms,
            "image_box_ms": self.image_run_ms,
            "host_prepare_ms": self.host_prepare_ms,
            "image_prepare_ms": self.image_prepare_ms,
            "image_vs_host": self.run_ratio,
            "prepare_image_vs_host": self.prepare_ratio,
        }


def _cold(sb: sandbox.Sandbox, image: sandbox.Image) -> None:
    """Prepare a box from nothing (namespaces, root, cgroup) and let it go: a box's start."""
    sb.prepare_now(image).close()


def measure_image(image: sandbox.Image, runs: int = 200, *, sb: sandbox.Sandbox | None = None) -> ImageBench:
    """`judge bench sandbox --image NAME`: /bin/true on the image and on host, interleaved.

    Two figures each: a run as a caller sees it (a box from the pool, GO, exit), and a cold
    prepare (a box built from nothing in the caller's thread: namespaces, mounts of the root,
    the cgroup, init's READY), which is where the image's root is put together.
    """
    box_sb = sb if sb is not None else sandbox.default()

    def run_on(img: sandbox.Image) -> Callable[[], object]:
        def go() -> None:
            r = box_sb.run(["/bin/true"], image=img)
            if r.status is not RunStatus.OK:
                raise BenchError(f"/bin/true in a box of {img.name} ended {r.status}: {r.message}")

        return go

    samples = interleave(
        {
            "host_run": run_on(sandbox.HOST),
            "image_run": run_on(image),
            "host_prepare": lambda: _cold(box_sb, sandbox.HOST),
            "image_prepare": lambda: _cold(box_sb, image),
        },
        runs,
    )
    return ImageBench(
        image=image.name,
        runs=runs,
        host_run_ms=percentiles(samples["host_run"]),
        image_run_ms=percentiles(samples["image_run"]),
        host_prepare_ms=percentiles(samples["host_prepare"]),
        image_prepare_ms=percentiles(samples["image_prepare"]),
    )


def measure_sandbox(
    runs: int = 200, seconds: float = 3.0, *, sb: sandbox.Sandbox | None = None, threads: int | None = None
) -> SandboxBench:
    """The whole `judge bench sandbox`: interleaved latency, then sustained throughput."""
    if runs < 1:
        raise ValueError("runs must be at least 1")
    box_sb = sb if sb is not None else sandbox.default()
    notes: list[str] = []
    candidates: dict[str, Callable[[], object]] = {
        "box": lambda: _box_true(box_sb),
        "subprocess": lambda: subprocess.run(["/bin/true"], check=True),
    }
    bwrap_argv, note = _bwrap()
    if bwrap_argv is not None:
        candidates["bwrap"] = lambda: subprocess.run(bwrap_argv, check=True)
    if note:
        notes.append(note)
    samples = interleave(candidates, runs)
    n = threads if threads is not None else len(os.sched_getaffinity(0))
    rate, cpu_ms = throughput(box_sb, seconds, n)
    return SandboxBench(
        runs=runs,
        box_ms=percentiles(samples["box"]),
        subprocess_ms=percentiles(samples["subprocess"]),
        bwrap_ms=percentiles(samples["bwrap"]) if "bwrap" in samples else None,
        boxes_per_second=rate,
        threads=n,
        seconds=seconds,
        cpu_ms_per_box=cpu_ms,
        notes=notes,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyBench:
    """`judge verify` beside problemtools' `verifyproblem -p data submissions`, per package, interleaved."""

    rounds: int
    packages: dict[str, dict[str, float]]  # name -> {"judge_s", "problemtools_s"} medians
    notes: list[str] = field(default_factory=list)
    # name -> where judge verify's time went (its report's `timings`, medians), and the package's size
    judge_timings: dict[str, dict[str, float]] = field(default_factory=dict)
    sizes: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        judge_total = sum(p["judge_s"] for p in self.packages.values())
        pt_total = sum(p["problemtools_s"] for p in self.packages.values())
        return {
            "rounds": self.rounds,
            "packages": self.packages,
            "judge_total_s": round(judge_total, 2),
            "problemtools_total_s": round(pt_total, 2),
            "problemtools_vs_judge": round(pt_total / judge_total, 2) if judge_total else None,
            "judge_timings": self.judge_timings,
            "sizes": self.sizes,
            "notes": self.notes,
        }


def measure_verify(packages: Sequence[str], verifyproblem: str, rounds: int = 3) -> VerifyBench:
    """Wall time of a whole `judge verify PKG` and `verifyproblem PKG -p data submissions`, each a
    fresh process, interleaved per round in a shuffled order; medians per package.

    problemtools runs each submission under rlimits only; our boxes are in force. It gets a copy
    of each package (it may write into it). Both compile and judge every submission; problemtools
    skips the languages whose compiler this host lacks (it says so), which only flatters it.
    Both run every input validator on every input. `judge_timings` splits judge verify's time
    as its report does (phases, compiling, the programs' runs, boxes and checking).
    """
    import json
    import statistics
    import sys
    import tempfile

    work = tempfile.mkdtemp(prefix="bench-verify-")
    times: dict[str, dict[str, list[float]]] = {}
    phases: dict[str, dict[str, list[float]]] = {}
    sizes: dict[str, dict[str, int]] = {}
    notes: list[str] = []
    for pkg in packages:
        name = os.path.basename(pkg.rstrip("/"))
        copy = os.path.join(work, name)
        shutil.copytree(pkg, copy, symlinks=True)
        times[name] = {"judge_s": [], "problemtools_s": []}
        phases[name] = {}
        sizes[name] = _package_size(pkg)
        runs: dict[str, list[str]] = {
            "judge_s": [sys.executable, "-c", "from judge.cli import main; main()", "verify", pkg, "--json"],
            # the same work as judge verify: the submissions, and the input validators on the data
            "problemtools_s": [verifyproblem, copy, "-p", "data", "submissions"],
        }
        for _ in range(rounds):
            order = list(runs)
            random.shuffle(order)
            for key in order:
                t0 = time.perf_counter()
                proc = subprocess.run(runs[key], capture_output=True, check=False)
                times[name][key].append(time.perf_counter() - t0)
                try:
                    report = json.loads(proc.stdout) if key == "judge_s" else {}
                except ValueError:
                    report = None
                if key == "judge_s" and (proc.returncode not in (0, 1) or report is None):
                    why = proc.stderr.decode(errors="replace")[-1500:]
                    raise BenchError(f"judge verify {pkg} failed (exit {proc.returncode}): {why}")
                if key == "judge_s" and proc.returncode == 1:
                    notes.append(f"{name}: judge verify found a submission with an unexpected verdict")
                if key == "judge_s" and report:
                    for phase, seconds in report.get("timings", {}).items():
                        phases[name].setdefault(phase, []).append(float(seconds))
                if key == "problemtools_s" and proc.returncode != 0:
                    tail = proc.stdout.decode(errors="replace").strip().splitlines()[-1:]
                    notes.append(f"{name}: verifyproblem exited {proc.returncode}: {' '.join(tail)[:200]}")
    shutil.rmtree(work, ignore_errors=True)
    medians = {name: {k: round(statistics.median(v), 2) for k, v in t.items()} for name, t in times.items()}
    split = {name: {k: round(statistics.median(v), 2) for k, v in t.items()} for name, t in phases.items()}
    return VerifyBench(
        rounds=rounds, packages=medians, notes=sorted(set(notes)), judge_timings=split, sizes=sizes
    )


def _package_size(pkg: str) -> dict[str, int]:
    """Submissions (files or folders under submissions/<verdict>/), test inputs and their bytes."""
    root = os.path.join(pkg, "data")
    inputs = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(".in")]
    subs = os.path.join(pkg, "submissions")
    folders = [os.path.join(subs, d) for d in (os.listdir(subs) if os.path.isdir(subs) else [])]
    count = sum(len([e for e in os.listdir(f) if not e.startswith(".")]) for f in folders if os.path.isdir(f))
    return {
        "submissions": count,
        "test_inputs": len(inputs),
        "input_bytes": sum(os.path.getsize(p) for p in inputs),
    }
