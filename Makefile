# Developer checks; CI runs .ci/run (the README's test command).
PY ?= .venv/bin/python

.PHONY: check format lint types test bench

check: format lint types test

format:
	$(PY) -m ruff format --check kb assistant tests scripts bench

lint:
	$(PY) -m ruff check kb assistant tests scripts bench

types:
	$(PY) -m mypy kb assistant

test:
	$(PY) -m pytest -q

bench:
	$(PY) bench/search_speed.py
	$(PY) bench/search_quality.py
	$(PY) bench/search_quality.py bench/search_holdout.tsv
