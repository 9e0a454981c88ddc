"""The Solara page: ``solara run sim.dashboard.app`` (or ``python -m sim.dashboard``).

Sidebar: the inputs (:func:`sim.dashboard.panels.InputsCard`), the controls of one run (Reset, Step,
▶/❚❚, Run to the end) and the comparison (seeds, Compare with business as usual, progress). Main area,
two tabs: the comparison (:func:`sim.dashboard.panels.ComparisonPanel`) and one run quarter by quarter
(the summary, the map of communes and the charts of :mod:`sim.dashboard.components`). Each browser
session holds its own model and comparison.
"""

from __future__ import annotations

import time

import solara
import solara.lab
from mesa.visualization.utils import force_update

from sim.config import ConfigError
from sim.dashboard import compare as cmpmod
from sim.dashboard.components import COMPONENTS, export_run_bytes
from sim.dashboard.model import DashboardModel, InputError, _name_fields, default_inputs
from sim.dashboard.panels import ComparisonPanel, InputsCard

TITLE = "Digital transition of collectivités territoriales"
PLAY_INTERVAL_S = 0.05
SEED_CHOICES = (1, 2, 3, 4, 5)


@solara.component
def Controls(model: solara.Reactive, inputs: solara.Reactive, playing: solara.Reactive):
    """Reset (a new run with the fields' values), Step, ▶/❚❚."""
    m = model.value

    def reset():
        playing.set(False)
        model.set(DashboardModel(**inputs.value))

    def step():
        m.step()
        force_update()

    with solara.Card("One run", classes=["dash-controls"]), solara.Row(justify="space-between"):
        solara.Button("Reset", color="primary", on_click=reset)
        solara.Button("❚❚" if playing.value else "▶", color="primary", on_click=lambda: playing.set(not playing.value),
                      disabled=not m.running)  # fmt: skip
        solara.Button("Step", color="primary", on_click=step, disabled=playing.value or not m.running)


@solara.component
def CompareControls(inputs: solara.Reactive, comparison: solara.Reactive, n_seeds: solara.Reactive):
    """Run the comparison in a thread, with progress; errors shown, nothing run on bad input."""
    request = solara.use_reactive(0)
    progress = solara.use_reactive("")
    error = solara.use_reactive(None)

    def work():
        if request.value == 0:
            return
        snapshot = dict(inputs.value)
        try:
            result = cmpmod.run_comparison(
                snapshot, n_seeds.value, progress=lambda i, n, text: progress.set(f"run {min(i + 1, n)} of {n}: {text}")
            )
            error.set(None)
            comparison.set(result)
        except (InputError, ConfigError) as exc:
            error.set(_name_fields(str(exc)))
        finally:
            progress.set("")

    task = solara.lab.use_task(work, dependencies=[request.value], prefer_threaded=True)
    with solara.Card("Compare with business as usual", classes=["dash-compare-controls"]):
        solara.Select("Seeds to compare", values=list(SEED_CHOICES), value=n_seeds.value, on_value=n_seeds.set)
        solara.Button("Compare with business as usual", color="primary", on_click=lambda: request.set(request.value + 1),
                      disabled=bool(progress.value) or task.pending, classes=["dash-compare"])  # fmt: skip
        if progress.value or task.pending:
            solara.ProgressLinear(True)
            solara.Text(progress.value or "starting...", classes=["dash-compare-progress"])
        if error.value:
            solara.Error(label="Not compared: fix the input, then press Compare again.")
            solara.v.Html(tag="pre", class_="dash-compare-error", style_="white-space: pre-wrap; font-size: 0.8em",
                          children=[error.value])  # fmt: skip


@solara.component
def Page():
    inputs = solara.use_reactive(solara.use_memo(default_inputs, []))
    model = solara.use_reactive(solara.use_memo(lambda: DashboardModel(**default_inputs()), []))
    comparison = solara.use_reactive(None)
    n_seeds = solara.use_reactive(3)
    playing = solara.use_reactive(False)
    tab = solara.use_reactive(0)

    def play():
        while playing.value and model.value.running:
            time.sleep(PLAY_INTERVAL_S)
            model.value.step()
            force_update()
        if playing.value:
            playing.set(False)

    solara.lab.use_task(play, dependencies=[playing.value, id(model.value)], prefer_threaded=True)
    cmp = comparison.value

    with solara.AppBar():
        solara.AppBarTitle(TITLE)
    with solara.Sidebar(), solara.Column():
        InputsCard(inputs, model.value.inputs, cmp.inputs if cmp is not None else None)
        Controls(model, inputs, playing)
        CompareControls(inputs, comparison, n_seeds)
        with solara.Card("Export", classes=["dash-export-run"]):
            m = model.value
            solara.FileDownload(lambda: export_run_bytes(m, "parquet"), filename="run_timeseries.parquet",
                                label="This run (Parquet)")  # fmt: skip
            solara.FileDownload(
                lambda: export_run_bytes(m, "csv"), filename="run_timeseries.csv", label="This run (CSV)"
            )
            solara.FileDownload(lambda: export_run_bytes(m, "figures.zip"), filename="run_figures.zip",
                                label="This run's figures (ZIP)")  # fmt: skip
    with solara.lab.Tabs(value=tab.value, on_value=tab.set):
        with solara.lab.Tab("Comparison", classes=["dash-tab-compare"]):
            ComparisonPanel(cmp)
        with solara.lab.Tab("One run, quarter by quarter", classes=["dash-tab-run"]), solara.Columns([1, 1]):
            with solara.Column():
                for component in COMPONENTS[::2]:
                    component(model.value)
            with solara.Column():
                for component in COMPONENTS[1::2]:
                    component(model.value)
