#!/usr/bin/env bash
# Build the wheel, install it into a fresh virtual environment and use it as a new user would,
# from a directory that is not the repository: a run, a sweep in two worker processes, --help
# and an analysis of the sweep. Run by CI (.ci/run) and by `make check-wheel`.
#   scripts/check-wheel.sh [PYTHON]     (default: the interpreter scripts/find-python.sh finds)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYBIN=${1:-$(PYTHON="${PYTHON:-}" scripts/find-python.sh)}
UV=${UV:-$(command -v uv || echo "$ROOT/.venv/bin/uv")}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "== building the wheel"
"$UV" build --wheel --quiet --out-dir "$WORK/dist" "$ROOT"
rm -rf "$ROOT/build"
WHEEL=$(ls "$WORK"/dist/*.whl)
# The listing goes to a file first: `grep -q` stops reading at the first match, and under
# `set -o pipefail` the listing's broken pipe would fail the check.
python3 -m zipfile -l "$WHEEL" >"$WORK/wheel-files.txt"
grep -q "sim/conf/config.yaml" "$WORK/wheel-files.txt" || { echo "error: conf/ is not in the wheel" >&2; exit 1; }
grep -q "hydra_plugins/sim_sweeps/sweeper.py" "$WORK/wheel-files.txt" || { echo "error: the Hydra plugins are not in the wheel" >&2; exit 1; }

echo "== installing it into a fresh virtual environment ($("$PYBIN" --version))"
"$UV" venv --quiet --python "$PYBIN" "$WORK/venv"
"$UV" pip install --quiet --python "$WORK/venv/bin/python" --compile-bytecode "$WHEEL"

quiet() { "$@" >"$WORK/log" 2>&1 || { cat "$WORK/log"; echo "error: failed: $*" >&2; exit 1; }; }

echo "== using it from $WORK/elsewhere"
mkdir "$WORK/elsewhere" && cd "$WORK/elsewhere"
export PATH="$WORK/venv/bin:$PATH"
unset PYTHONPATH
dtsim --help >"$WORK/help.txt"
grep -q "Config groups" "$WORK/help.txt" || { echo "error: dtsim --help is not the tool's help" >&2; exit 1; }
quiet dtsim territory=small simulation=short hydra.run.dir=run
test -f run/manifest.json && grep -q '"git_commit": "unknown"' run/manifest.json
# Large enough (6 M staff-steps) to draw its figures in a child process (sim.figures.RunFigures)
# where a second CPU is free: the child must find the installed package.
quiet dtsim territory.n_communes=2500 hydra.run.dir=big
test "$(ls big/figures/*.png | wc -l)" = 4 && test -f big/manifest.json
if [ "$(python -c 'import os; print(len(os.sched_getaffinity(0)))')" -ge 2 ]; then
  grep -q "figures: drawn in a child process" big/cli.log || { cat big/cli.log; echo "error: the figures were not drawn in the child process" >&2; exit 1; }
  ! grep -q "drawing the figures here instead" big/cli.log || { cat big/cli.log; echo "error: the figures' process failed" >&2; exit 1; }
fi
quiet dtsim -m territory=small simulation=short seed=0,1,2 hydra.launcher.n_jobs=2 hydra.sweep.dir=sweep
test "$(ls sweep/*/manifest.json | wc -l)" = 3
quiet dtsim-analysis compare sweep --by seed -o comparison
test -n "$(ls comparison)" || { echo "error: the analysis wrote nothing" >&2; exit 1; }
python -c "import sim.api, sys; d = sim.api.CONF_DIR; print('configs in', d); sys.exit('site-packages' not in str(d))"
echo "== the installed wheel works"
