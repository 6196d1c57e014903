"""`python -m worker`: what `judge worker` runs (judge/service_commands.py starts it by name)."""

from worker.main import main

main(prog_name="judge worker")
