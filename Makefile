# cityops: `make run` sets everything up and serves the demo district; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Browser libraries come from npm (package-lock.json) and are served from the package.
VENDOR := src/cityops/web/static/vendor
ASSETS := $(VENDOR)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint typecheck check demo migrate bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(ASSETS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/leaflet $(VENDOR)/leaflet.vectorgrid $(VENDOR)/echarts
	cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css \
	      node_modules/leaflet/dist/images $(VENDOR)/leaflet/
	cp node_modules/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js \
	   $(VENDOR)/leaflet.vectorgrid/
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts/
	touch $(ASSETS)

install: $(STAMP) $(ASSETS)
	$(BIN)/cityops migrate

run: install
	$(BIN)/cityops demo --if-empty
	$(BIN)/cityops serve --host $(HOST) --port $(PORT)

demo: install
	$(BIN)/cityops demo

migrate: $(STAMP)
	$(BIN)/cityops migrate

test: $(STAMP) $(ASSETS)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src
	$(BIN)/lint-imports

check: lint test

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/latency.py
	$(BIN)/python bench/readings.py
	$(BIN)/python bench/video.py
	$(BIN)/python bench/classify.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache node_modules $(VENDOR)
