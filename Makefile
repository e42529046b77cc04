# Træningsguide — see README.md. `make test` and `make run` install what they need first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: install test lint check run help lock

help:
	@echo "make run      start the assistant (placeholder until the Rasa assistant lands)"
	@echo "make test     install if needed, then lint, validate the knowledge base and run pytest"
	@echo "make install  Python 3.10 venv, pinned packages, Danish spaCy pipeline (idempotent)"
	@echo "make check    validate the knowledge base and print counts and source coverage"

install:
	@bash scripts/install.sh

lint: install
	$(VENV)/bin/ruff check traeningsguide tests scripts

check: install
	$(PY) -m traeningsguide check

test: install lint
	$(PY) -m traeningsguide check
	$(PY) -m pytest

run: install
	@echo "Træningsguide: the chat assistant (Rasa) is not built yet; it lands with the assistant issue."
	@echo "What works today is the call-center lookup on the command line, for example:"
	@echo "  $(PY) -m traeningsguide ask koege transport"
	@echo "  $(PY) -m traeningsguide compare cost"
	@echo "  $(PY) -m traeningsguide eligibility hedensted --discharged-with-plan"
	@echo "  $(PY) -m traeningsguide contacts hedensted"

# Re-resolve the pinned dependencies from pyproject.toml into constraints.txt (needs the registry).
lock:
	@bash scripts/lock.sh
