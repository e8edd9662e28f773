# Everything runs inside a local virtual environment (.venv) built from
# pyproject.toml + constraints.txt. Targets refresh it when either changes.
SHELL  := /bin/bash
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
LAB_STAMP := $(VENV)/.installed-course
STAMP  := $(VENV)/.installed
PORT   ?= 8888
WORK   ?= work
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/sanitize.cfg

.PHONY: help venv lab fresh test unit notebooks execute book assign grade release bench lint clean

help:
	@echo "make lab       install (first time), copy the notebooks into work/ and open JupyterLab"
	@echo "make fresh     NB=work/exercises/X_exercises.ipynb: a fresh copy (yours is kept beside it)"
	@echo "make test      the whole test suite: unit tests, every notebook, book + browser"
	@echo "make book      build the website into book/_build/html"
	@echo "make execute   re-execute the lecture notebooks and store their outputs"
	@echo "make assign    regenerate exercises/ (and build/grading/) from solutions/"
	@echo "make grade     grade SUBMISSIONS=dir for ASSIGNMENT=name into OUT=dir"
	@echo "make release   OUT=dir: the tree students get (no solutions, hidden tests, bundles)"
	@echo "make bench     run the benchmarks in benchmarks/"

# A student's install: the course and JupyterLab only (pip shows its progress; the first
# time takes a few minutes). make test and make book add what only they need.
$(LAB_STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the course into $(VENV) (first time: a few minutes, about 1.5 GB) ..."
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -c constraints.txt -e . 2>&1 \
		| grep -v -e "^WARNING: Location" -e "BuildBackendWarning" -e "^ *[!*]" -e "careful with folders" \
		-e "name as your package" -e "WheelFile(wheel_path" ; test $${PIPESTATUS[0]} -eq 0
	@touch $@

$(STAMP): $(LAB_STAMP)
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[test,book,cluster]"
	@touch $@

venv: $(STAMP)

# Students work in their own copies (WORK=work, ignored by git): a git pull never conflicts
# with their edits. LAB_ARGS passes more options to jupyter lab (e.g. LAB_ARGS=--no-browser).
# No news or update pop-ups: the server fetches no news and checks for no update, and the
# default settings in lab-settings/overrides.json (fetchNews "false", checkForUpdates false)
# keep JupyterLab from asking "Would you like to get notified about official Jupyter news?".
# tests/test_lab.py starts JupyterLab with these options (LAB_OPTIONS) in Chromium.
LAB_OPTIONS = --ServerApp.allow_root=True --ServerApp.port=$(PORT) \
	--ServerApp.root_dir=$(CURDIR)/$(WORK) --LabApp.default_url=/lab/tree/notebooks/00_introduction.ipynb \
	--LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate \
	--LabApp.app_settings_dir=$(CURDIR)/lab-settings
lab: $(LAB_STAMP)
	@$(BIN)/python -m coursekit.workspace --work $(WORK) sync
	$(BIN)/jupyter lab $(LAB_OPTIONS) $(LAB_ARGS)

fresh: $(LAB_STAMP)
	@test -n "$(NB)" || { echo "usage: make fresh NB=$(WORK)/exercises/NAME_exercises.ipynb"; exit 2; }
	@$(BIN)/python -m coursekit.workspace --work $(WORK) fresh $(NB)

# The execution environment has one definition, in coursekit.utils: one thread, and for
# `forced` CPU code paths below this machine's own (torch ATen/MKL/oneDNN, NumPy SIMD).
# Stored outputs are made natively (make execute); make test re-executes every notebook
# with the forced paths, so each CI run checks that stored numbers hold on another CPU.
# CODE_PATHS=native make notebooks checks them with this machine's own kernels.
CODE_PATHS ?= forced
NATIVE := $(BIN)/python -m coursekit.utils env native --
FORCED := $(BIN)/python -m coursekit.utils env $(CODE_PATHS) --

# A plain `pytest` deselects the `slow` tests (pyproject addopts); these targets run them too.
ALL_TESTS := -m "slow or not slow"

unit: $(STAMP)
	$(FORCED) $(BIN)/python -m pytest $(ALL_TESTS) tests

notebooks: $(STAMP)
	$(FORCED) $(BIN)/python -m pytest $(NBVAL) $(or $(NB),notebooks)

# One pytest run: unit tests, grader, book + browser (tests/) and every notebook
# re-executed and compared with its stored outputs (notebooks/).
test: $(STAMP)
	$(FORCED) $(BIN)/python -m pytest $(ALL_TESTS) $(NBVAL) tests notebooks

execute: $(LAB_STAMP)
	$(NATIVE) $(BIN)/python -m coursekit.execute $(or $(NB),notebooks/*.ipynb)

# npm ci (when book/node_modules is missing or stale), copy the JavaScript the
# pages load into book/_local_static/, link notebooks/, then jupyter-book build.
book: $(STAMP)
	$(BIN)/python book/build.py

lint: $(STAMP)
	$(BIN)/ruff check coursekit tests benchmarks book experiments conftest.py

# student notebooks (exercises/), public tests (package data), bundles (build/grading/)
assign: $(LAB_STAMP)
	$(BIN)/coursekit assign solutions --out exercises

# make grade ASSIGNMENT=01_linear_models SUBMISSIONS=dir OUT=dir [WORKERS=n]
grade: $(LAB_STAMP)
	@test -n "$(ASSIGNMENT)" -a -n "$(SUBMISSIONS)" -a -n "$(OUT)" || \
		{ echo "usage: make grade ASSIGNMENT=name SUBMISSIONS=dir OUT=dir"; exit 2; }
	@test -f build/grading/$(ASSIGNMENT)/bundle.json || $(MAKE) assign
	$(BIN)/coursekit grade --assignment $(ASSIGNMENT) --submissions $(SUBMISSIONS) \
		--out $(OUT) $(if $(WORKERS),--workers $(WORKERS))

# make release OUT=dir: a copy of the tracked files minus solutions/, tests/, bundles, secrets
release: $(LAB_STAMP)
	@test -n "$(OUT)" || { echo "usage: make release OUT=dir"; exit 2; }
	$(BIN)/coursekit release --out $(OUT)

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(FORCED) $(BIN)/python $$f || exit 1; done

clean:
	rm -rf book/_build build .pytest_cache
