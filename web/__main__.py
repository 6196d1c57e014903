"""`python -m web`: what `judge web` runs (judge/cli/service_commands.py starts it by name)."""

from web.main import main

main(prog_name="judge web")
