# hashdemo: `make app` installs and starts the app; `make test` installs and runs the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: app class test lint zoo bench chromium clean

# the app's packages, then hashdemo itself (editable: the `hashdemo` command runs this checkout)
$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)

$(TEST_STAMP): $(STAMP) requirements-test.txt requirements-ray.txt
	$(PY) -m pip install -q -r requirements-test.txt -r requirements-ray.txt
	@touch $(TEST_STAMP)

app: $(STAMP)
	$(PY) -m hashdemo.ui.serve --browser.gatherUsageStats false

# A lecturer's laptop on a room's network: every address of this machine, links limited to what it was started with
class: $(STAMP)
	$(PY) -m hashdemo.ui.serve --class --server.address 0.0.0.0 --server.maxUploadSize 20 --browser.gatherUsageStats false

test: $(TEST_STAMP) chromium lint
	$(PY) -m pytest

lint: $(TEST_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

chromium:
	@bash .ci/ensure-chromium.sh

# Rebuild the shipped model zoo from scratch (70 minutes on 2 CPU cores); reproduces assets/zoo.
zoo: $(STAMP)
	$(PY) -m hashdemo zoo --build --jobs 2

bench: $(STAMP)
	PYTHONPATH=. $(PY) bench/ranking.py
	PYTHONPATH=. $(PY) bench/lab_latency.py
	PYTHONPATH=. $(PY) bench/attack_speed.py

clean:
	rm -rf $(VENV) .cache .pytest_cache
