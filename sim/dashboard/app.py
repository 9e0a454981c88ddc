"""The Solara page: ``solara run sim.dashboard.app`` (or ``python -m sim.dashboard``).

Mesa's SolaraViz gives the sidebar (Reset / Play / Step, play and render intervals, the model
inputs of :func:`sim.dashboard.model.model_params`) and lays out the components of
:mod:`sim.dashboard.components`. Each browser session builds its own model.
"""

from __future__ import annotations

import solara
from mesa.visualization import SolaraViz

from sim.dashboard.components import COMPONENTS
from sim.dashboard.model import DashboardModel, model_params

TITLE = "Digital transition of collectivités territoriales"


@solara.component
def Page():
    # One model per session (a module-level model would be shared by every browser tab).
    model = solara.use_memo(DashboardModel, [])
    params = solara.use_memo(model_params, [])
    return SolaraViz(model, components=list(COMPONENTS), model_params=params, name=TITLE, play_interval=50)
