# Two commands do all the set-up: `make run` (baseline scenario) and `make test` (test suite).
# Both create the virtual environment .venv on first use (Python >= 3.12, found by
# scripts/find-python.sh) and install the project into it.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EXTRAS ?= france,test,dashboard,slurm,discovery,abc

.PHONY: run test lint format venv clean bench validate params dashboard regression check-wheel
ASSETS := $(VENV)/.solara-assets

$(STAMP): pyproject.toml Makefile
	@PYBIN=$$(PYTHON="$(PYTHON)" scripts/find-python.sh) || exit 1; \
	  test -x $(PY) || $$PYBIN -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip uv
	$(VENV)/bin/uv pip install --python $(PY) --quiet -e ".[$(EXTRAS)]"
	@# Bytecode of the dependencies and the project, compiled once here: every process (each
	@# sweep worker, each SLURM task) then imports instead of compiling, even when
	@# PYTHONDONTWRITEBYTECODE is set (docs/PERFORMANCE.md). Up-to-date files are skipped.
	$(PY) -m compileall -q -j 0 $$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') sim analysis hydra_plugins >/dev/null
	@touch $(STAMP)

venv: $(STAMP)

# Solara's front-end files, unpacked from the npm registry (the page cannot reach a CDN).
$(ASSETS): $(STAMP)
	@if $(PY) -m sim.dashboard.assets; then touch $@; else echo "warning: Solara's front-end files not installed (needs npm): the dashboard page and its browser test will not work"; fi

## The main job: the baseline scenario on the default synthetic territory, with figures.
run: $(STAMP)
	$(PY) -m sim $(ARGS)

## The test suite (what CI runs): lint and format check, then pytest.
test: $(STAMP) $(ASSETS) lint
	$(PY) -m pytest -n 2 -q $(ARGS)

## ruff: lint and format check (`make format` rewrites the files).
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

## Benchmarks (docs/PERFORMANCE.md): by territory size and vectorised/per-agent ratio
## (ARGS="--repeats 1" for a quick one), then sweep throughput by launcher, time split and memory
## over a sweep (SWEEP_ARGS="--runs 20 --memory-jobs 10" for a quick one).
bench: $(STAMP)
	$(PY) -m benchmarks.bench $(ARGS)
	$(PY) -m benchmarks.sweeps $(SWEEP_ARGS)

## Build the wheel, install it in a fresh environment and run it from another directory (CI does).
check-wheel: $(STAMP)
	UV=$(VENV)/bin/uv scripts/check-wheel.sh

## The web dashboard (docs/DASHBOARD.md): http://localhost:8765
dashboard: $(STAMP) $(ASSETS)
	$(PY) -m sim.dashboard $(ARGS)

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache

## Check the baseline against the stylized facts of the sources (report in outputs/validation;
## `make validate ARGS="--seeds 10 --docs"` also updates docs/VALIDATION.md).
validate: $(STAMP)
	$(PY) -m sim.validate $(ARGS)

## Compare key outcomes with the saved regression baseline; `make regression ARGS=--update`
## regenerates tests/regression_baseline.json (deliberately: its diff is read in review).
regression: $(STAMP)
	$(PY) -m sim.regression $(ARGS)

## Regenerate the parameter table docs/PARAMETERS.md from sim/config.py.
params: $(STAMP)
	$(PY) -m sim.params
