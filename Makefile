# Everything runs inside a local virtual environment (.venv) built from
# pyproject.toml + constraints.txt. Targets refresh it when either changes.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8888
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/sanitize.cfg

.PHONY: help venv lab test unit notebooks execute book assign grade bench lint clean

help:
	@echo "make lab       install (first time) and open the course in JupyterLab"
	@echo "make test      the whole test suite: unit tests, every notebook, book + browser"
	@echo "make book      build the website into book/_build/html"
	@echo "make execute   re-execute the lecture notebooks and store their outputs"
	@echo "make assign    regenerate exercises/ (and build/grading/) from solutions/"
	@echo "make grade     grade SUBMISSIONS=dir for ASSIGNMENT=name into OUT=dir"
	@echo "make bench     run the benchmarks in benchmarks/"

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[test,book]"
	@touch $@

venv: $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.allow_root=True --ServerApp.port=$(PORT) \
		--ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/notebooks/00_introduction.ipynb \
		--LabApp.news_url=None \
		--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate

unit: $(STAMP)
	$(BIN)/python -m pytest tests

notebooks: $(STAMP)
	$(BIN)/python -m pytest $(NBVAL) notebooks

# Tests and stored notebook outputs are computed single-threaded: results then
# do not depend on the number of cores, and two processes sharing two cores do
# not slow each other down by oversubscription (JupyterLab keeps all threads).
test unit notebooks execute bench: export OMP_NUM_THREADS = 1
test unit notebooks execute bench: export OPENBLAS_NUM_THREADS = 1
test unit notebooks execute bench: export MKL_NUM_THREADS = 1

# One pytest run: unit tests, grader, book + browser (tests/) and every notebook
# re-executed and compared with its stored outputs (notebooks/).
test: $(STAMP)
	$(BIN)/python -m pytest $(NBVAL) tests notebooks

execute: $(STAMP)
	$(BIN)/python -m coursekit.execute notebooks/*.ipynb

# npm ci (when book/node_modules is missing or stale), copy the JavaScript the
# pages load into book/_local_static/, link notebooks/, then jupyter-book build.
book: $(STAMP)
	$(BIN)/python book/build.py

lint: $(STAMP)
	$(BIN)/ruff check coursekit tests benchmarks book

# student notebooks (exercises/), public tests (package data), bundles (build/grading/)
assign: $(STAMP)
	$(BIN)/coursekit assign solutions --out exercises

# make grade ASSIGNMENT=01_linear_models SUBMISSIONS=dir OUT=dir [WORKERS=n]
grade: $(STAMP)
	@test -n "$(ASSIGNMENT)" -a -n "$(SUBMISSIONS)" -a -n "$(OUT)" || \
		{ echo "usage: make grade ASSIGNMENT=name SUBMISSIONS=dir OUT=dir"; exit 2; }
	@test -f build/grading/$(ASSIGNMENT)/bundle.json || $(MAKE) assign
	$(BIN)/coursekit grade --assignment $(ASSIGNMENT) --submissions $(SUBMISSIONS) \
		--out $(OUT) $(if $(WORKERS),--workers $(WORKERS))

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf book/_build build .pytest_cache
