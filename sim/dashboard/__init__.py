"""Interactive web dashboard (Mesa SolaraViz) for policy staff: ``python -m sim.dashboard``.

See docs/DASHBOARD.md. :mod:`sim.dashboard.model` turns the page's inputs into a validated
configuration; :mod:`sim.dashboard.components` draws the summary, the map and the charts;
:mod:`sim.dashboard.app` is the Solara page; :mod:`sim.dashboard.assets` installs Solara's
front-end files. Nothing heavy is imported here: ``python -m sim.dashboard`` starts fast.
"""

__all__ = ["AS_SCENARIO", "DashboardModel", "InputError", "build_overrides", "default_inputs", "list_scenarios"]


def __getattr__(name: str):
    if name in __all__:
        from sim.dashboard import model

        return getattr(model, name)
    raise AttributeError(f"module 'sim.dashboard' has no attribute {name!r}")
