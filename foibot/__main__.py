"""`python -m foibot` runs the CLI."""

from foibot.cli import main

main()
