# fastseg: `make run` and `make test` do all the set-up on a fresh Debian machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.fastseg-installed
TEST_STAMP := $(VENV)/.fastseg-test-deps
PYTEST_ARGS ?=
# Test workers (pytest-xdist): one per core; JOBS=0 runs the suite in this process.
JOBS ?= auto
XDIST := -n $(JOBS) --dist loadgroup
BASE ?=
URL ?=

.PHONY: all install build run test test-quick bench bench-gate bench-smoke lint clean

all: build

# System packages for running (ffmpeg, PostgreSQL, a compiler), the venv, and the
# package with its test tools. Re-runs when the package metadata changes.
$(STAMP): pyproject.toml setup.py scripts/install-system-deps
	@echo "fastseg: setting up: missing Debian packages, then $(VENV) with the package (first time: a few minutes)"
	scripts/install-system-deps run
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

# What only tests and benchmarks use: browsers, nginx, wrk, rsync, prometheus.
$(TEST_STAMP): scripts/install-system-deps | $(STAMP)
	scripts/install-system-deps test
	touch $@

install: $(STAMP)

# Compile the Cython twin in place (incremental: only a changed .pyx rebuilds).
build: $(STAMP)
	$(if $(wildcard fastseg/_segments_c*.so),,@echo "fastseg: compiling the Cython extension (first time: a minute or two)")
	$(PY) setup.py -q build_ext --inplace

# A live test stream (or URL=...) recorded, served and cut by a node; Ctrl-C stops it.
run: build
	@echo "fastseg: the fastseg command is $(CURDIR)/$(VENV)/bin/fastseg; to type just fastseg: export PATH=\"$(CURDIR)/$(VENV)/bin:\$$PATH\""
	$(PY) -m services.demo $(if $(BASE),--base-dir $(BASE),) $(if $(URL),--url $(URL),)

# Whole suite on both twins, then again with the pure twin forced, so the
# loader and every caller are tested both ways (slow end-to-end tests once); first
# the editor page's JavaScript modules, with Node's own test runner.
# Tests run on $(JOBS) workers; each has its own PostgreSQL and test media.
test: build $(TEST_STAMP)
	node --test tests/editor/js/*.test.mjs
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)
	FASTSEG_PURE=1 $(PY) -m pytest $(XDIST) -q -m "not slow" $(PYTEST_ARGS)

# For a quick local loop: skips the slow end-to-end tests.
test-quick: build $(TEST_STAMP)
	$(PY) -m pytest $(XDIST) -q -m "not slow" $(PYTEST_ARGS)

bench: build $(TEST_STAMP)
	$(PY) -m pytest benchmarks --benchmark-enable --benchmark-columns=min,median,mean,rounds \
		--benchmark-group-by=group -p no:cacheprovider $(PYTEST_ARGS)

# The CI gate: the README's speed figures as same-run ratios (benchmarks/test_gate.py).
bench-gate: build $(TEST_STAMP)
	$(PY) -m pytest benchmarks -q -s -m gate -p no:cacheprovider $(PYTEST_ARGS)

# Every other benchmark once, untimed (--benchmark-disable), so none of them rots.
bench-smoke: build $(TEST_STAMP)
	$(PY) -m pytest benchmarks -q -m "not gate" --benchmark-disable -p no:cacheprovider $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/cython-lint fastseg
	$(VENV)/bin/hadolint Dockerfile

clean:
	rm -rf build fastseg/*.so fastseg/_segments_c.c fastseg/_segments_c.html
