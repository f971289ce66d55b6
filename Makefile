# hashdemo: `make app` installs and starts the app; `make test` installs and runs the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: app test zoo bench chromium clean

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	@touch $(STAMP)

app: $(STAMP)
	$(PY) -m streamlit run app.py --browser.gatherUsageStats false

test: $(STAMP) chromium
	$(PY) -m pytest

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
