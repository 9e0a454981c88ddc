"""Analysis of simulation outputs: load sweeps, compare scenarios, plot, report, sensitivity.

The loaders follow the output contract in ``docs/OUTPUTS.md``; the command line is
``python -m analysis --help`` (see ``docs/ANALYSIS.md``).

Importing this package is cheap: the names below are imported from their modules on
first use, and plotting, reporting and sensitivity analysis live in their own modules
(``analysis.plots``, ``analysis.report``, ``analysis.sensitivity``).
"""

import importlib
from typing import Any

#: Public name -> module that defines it (imported on first use, PEP 562).
_EXPORTS = {
    "LoadReport": "analysis.load",
    "RunInfo": "analysis.load",
    "load": "analysis.load",
    "load_collectivites": "analysis.load",
    "load_staff_summary": "analysis.load",
    "scan": "analysis.load",
    "compare_to_baseline": "analysis.compare",
    "cost_effectiveness": "analysis.compare",
    "rank_scenarios": "analysis.compare",
    "run_outcomes": "analysis.compare",
    "summarize": "analysis.compare",
    "summarize_timeseries": "analysis.compare",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
