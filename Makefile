# Two commands do all the set-up: `make run` (baseline scenario) and `make test` (test suite).
# Both create the virtual environment .venv on first use (Python >= 3.12, found by
# scripts/find-python.sh) and install the project into it.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EXTRAS ?= france,test,dashboard,slurm

.PHONY: run test venv clean bench validate report params

$(STAMP): pyproject.toml
	@PYBIN=$$(PYTHON="$(PYTHON)" scripts/find-python.sh) || exit 1; \
	  test -x $(PY) || $$PYBIN -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip uv
	$(VENV)/bin/uv pip install --python $(PY) --quiet -e ".[$(EXTRAS)]"
	@touch $(STAMP)

venv: $(STAMP)

## The main job: the baseline scenario on the default synthetic territory, with figures.
run: $(STAMP)
	$(PY) -m sim $(ARGS)

## The test suite (what CI runs).
test: $(STAMP)
	$(PY) -m pytest -n 2 -q $(ARGS)

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache

## Check the baseline against the stylized facts of the sources (report in outputs/validation;
## `make validate ARGS="--seeds 10 --docs"` also updates docs/VALIDATION.md).
validate: $(STAMP)
	$(PY) -m sim.validate $(ARGS)

## Regenerate the parameter table docs/PARAMETERS.md from sim/config.py.
params: $(STAMP)
	$(PY) -m sim.params
