# Thin wrappers: the logic lives in tools/*.py and in the widgets package.
# `make lab` to learn, `make test` to check everything (what CI runs via .ci/run).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
# Reinstall only when a dependency file changes: the stamp's name is their hash.
DEPS_HASH := $(shell cat pyproject.toml binder/apt.txt tools/apt-test.txt 2>/dev/null | sha256sum | cut -c1-16)
STAMP     := $(VENV)/.installed-$(DEPS_HASH)
# nbval needs matplotlib's inline backend: an inherited MPLBACKEND breaks figure outputs.
RUN    := env -u MPLBACKEND
PYTEST := $(RUN) $(PY) -m pytest
NBVAL_ARGS := --nbval-lax --nbval-sanitize-with tests/nbval-sanitize.cfg --nbval-cell-timeout=300 -n 2 --dist loadscope

.PHONY: lab test setup data sync notebooks student bench lint clean-venv

# Local only (127.0.0.1); opens on the setup check, with the whole course in the file browser.
lab: setup data
	$(RUN) $(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=. \
	  --ServerApp.default_url=/lab/tree/lessons/00-setup-check.ipynb \
	  $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

test: setup data lint
	$(PYTEST) -m "not browser" tests
	$(PYTEST) $(NBVAL_ARGS) lessons
	$(PYTEST) -m browser tests

setup: $(STAMP)

$(STAMP):
	$(PYTHON) tools/system_packages.py
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) tools/lab_settings.py $(VENV)
	rm -f $(VENV)/.installed-*
	touch $@

# Fashion-MNIST is required (offline from Debian's package); MNIST and CIFAR-10 are
# fetched when online and reported, not fatal, when not.
data: setup
	$(PY) -m widgets.data fetch fashion-mnist
	$(PY) -m widgets.data fetch mnist cifar10 --optional

sync: setup
	$(PY) tools/notebooks.py sync

notebooks: setup data
	$(RUN) $(PY) tools/notebooks.py build

student: setup
	$(PY) tools/make_student.py

bench: setup data
	$(RUN) $(PY) bench/run_all.py

lint: setup
	$(BIN)/ruff check .

clean-venv:
	rm -rf $(VENV)
