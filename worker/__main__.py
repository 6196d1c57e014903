"""`python -m worker`: what `judge worker` runs (judge/cli/service_commands.py starts it by name)."""

from sandbox.delegation import ensure
from worker.main import main

ensure(reexec=True)  # before any pool process starts: on a stock cgroup v2 host, a delegated subtree
main(prog_name="judge worker")
