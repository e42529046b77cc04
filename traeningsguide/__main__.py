"""`python -m traeningsguide …` — the call-center command line."""

from traeningsguide.cli import main

main(prog_name="python -m traeningsguide")
