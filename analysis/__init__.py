"""Analysis of simulation outputs: load sweeps, compare scenarios, plot, report, sensitivity.

The loaders follow the output contract in ``docs/OUTPUTS.md``; the command line is
``python -m analysis --help`` (see ``docs/ANALYSIS.md``).

Plotting, reporting and sensitivity analysis live in their own modules
(``analysis.plots``, ``analysis.report``, ``analysis.sensitivity``) so that importing
this package does not pull in matplotlib or SALib.  Note that ``analysis.load`` is the
function (as ``from analysis import load`` gives); the module is ``sys.modules["analysis.load"]``
(``from analysis.load import ...`` works as usual).
"""

from analysis.compare import (
    compare_to_baseline,
    cost_effectiveness,
    rank_scenarios,
    run_outcomes,
    summarize,
    summarize_timeseries,
)
from analysis.load import (
    LoadReport,
    RunInfo,
    load,
    load_collectivites,
    load_staff_summary,
    scan,
)

__all__ = [
    "LoadReport",
    "RunInfo",
    "compare_to_baseline",
    "cost_effectiveness",
    "load",
    "load_collectivites",
    "load_staff_summary",
    "rank_scenarios",
    "run_outcomes",
    "scan",
    "summarize",
    "summarize_timeseries",
]
