"""Interactive web dashboard (Mesa SolaraViz) for policy staff: ``python -m sim.dashboard``.

See docs/DASHBOARD.md. :mod:`sim.dashboard.model` turns the page's inputs into a validated
configuration; :mod:`sim.dashboard.components` draws the map and the charts;
:mod:`sim.dashboard.app` is the Solara page.
"""

from sim.dashboard.model import AS_SCENARIO, DashboardModel, InputError, build_overrides, list_scenarios, model_params

__all__ = ["AS_SCENARIO", "DashboardModel", "InputError", "build_overrides", "list_scenarios", "model_params"]
