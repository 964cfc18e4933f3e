# cityops: `make run` sets everything up and serves the demo district; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Browser libraries come from npm (package-lock.json) and are served from the package.
VENDOR := src/cityops/web/static/vendor
ASSETS := $(VENDOR)/.installed
# Chinese faces for PDF documents where the system has none: Noto Serif SC (SIL OFL 1.1,
# TrueType outlines, a Song face) from the npm registry, version and contents pinned. The
# documents also find system fonts; see docs/configuration.md.
FONTS_DIR := var/fonts
FONTS := $(FONTS_DIR)/.installed
NOTO_SERIF_SC := @expo-google-fonts/noto-serif-sc@0.4.3
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install fonts run test lint typecheck check demo migrate bench clean

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

$(FONTS):
	mkdir -p $(FONTS_DIR)
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  (cd "$$tmp" && npm pack --silent --loglevel=error $(NOTO_SERIF_SC) >/dev/null && tar xzf *.tgz) && \
	  cp "$$tmp/package/400Regular/NotoSerifSC_400Regular.ttf" $(FONTS_DIR)/NotoSerifSC-Regular.ttf && \
	  cp "$$tmp/package/700Bold/NotoSerifSC_700Bold.ttf" $(FONTS_DIR)/NotoSerifSC-Bold.ttf && \
	  cp "$$tmp/package/LICENSE_FONT" $(FONTS_DIR)/NotoSerifSC-OFL.txt
	cd $(FONTS_DIR) && printf '%s  %s\n' \
	  c358a69de3df5f423a8946a7b03e3126fb6ba116f1130a463455b4e39e1f0742 NotoSerifSC-Regular.ttf \
	  9c6a2ba736e4b499c84f65ce366bd3625c0401885fd3e585ace50fb738b96ff6 NotoSerifSC-Bold.ttf \
	  | sha256sum --check --quiet
	touch $(FONTS)

fonts: $(FONTS)

install: $(STAMP) $(ASSETS) $(FONTS)
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
	$(BIN)/python bench/enforcement.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache node_modules $(VENDOR)
