# Træningsguide — see README.md. Every target installs what it needs first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: help install browser redis lint check validate train test test-rasa eval run shell lock cluster-test forget bench quality

help:
	@echo "make run        start the assistant: action server + Rasa (REST and socket.io on port 5005)"
	@echo "make shell      chat with the assistant in the terminal"
	@echo "make test       lint, knowledge check, rasa data validate, train, pytest, Rasa test stories, NLU gate"
	@echo "make install    Python 3.10 venv, pinned packages, Danish spaCy pipeline (idempotent)"
	@echo "make train      train models/traeningsguide.tar.gz if the data changed"
	@echo "make check      validate the knowledge base and print counts and source coverage"
	@echo "make validate   rasa data validate (unexplained warnings fail)"
	@echo "make test-rasa  the end-to-end test stories and the NLU held-out gate on the trained model"
	@echo "make eval       the answer-level gate: the blind-written conversations through the REST channel (tests/eval)"
	@echo "make bench      speed against a stock \`rasa init\` assistant + NLU quality (held-out, 5-fold CV); appends to bench/results.md"
	@echo "make quality    only the NLU quality report (held-out set and 5-fold cross-validation)"
	@echo "make lock       re-resolve the dependencies into constraints.txt"
	@echo "make cluster-test  two Rasa replicas behind nginx with Redis and PostgreSQL: 200 turns (installs them)"
	@echo "make forget SENDER=<id>  delete one conversation from the tracker store (scripts/conversations.py)"

install:
	@bash scripts/install.sh

browser: install
	@bash scripts/install_browser.sh

redis:
	@bash scripts/install_redis.sh

lint: install
	$(VENV)/bin/ruff check traeningsguide actions channels tests scripts

check: install
	$(PY) -m traeningsguide check

validate: install
	$(PY) scripts/gen_nlu_from_knowledge.py --check
	@bash scripts/validate.sh

train: install
	@bash scripts/train.sh

test-rasa: train
	@bash scripts/test_rasa.sh

eval: train
	$(PY) -m pytest tests/test_eval.py -q

test: install browser redis lint check validate train
	$(PY) -m pytest
	@bash scripts/test_rasa.sh

run: install
	@bash scripts/run.sh server

shell: install
	@bash scripts/run.sh shell

lock:
	@bash scripts/lock.sh

forget: install
	@if [ -z "$$SENDER" ]; then echo "usage: make forget SENDER=<sender id>  (list them: $(PY) scripts/conversations.py list)"; exit 2; fi
	@$(PY) scripts/conversations.py forget "$$SENDER"

cluster-test: train
	@bash scripts/cluster_test.sh

bench: install
	$(PY) scripts/bench.py

quality: train
	$(PY) scripts/nlu_report.py
