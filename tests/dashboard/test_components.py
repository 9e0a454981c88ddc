"""The page's components rendered in Python (Solara's widget tree, no browser), and the charts."""

from __future__ import annotations

import io

import numpy as np
import pytest

solara = pytest.importorskip("solara", reason="the dashboard extra (solara) is not installed")

import ipyvue
import ipyvuetify
from mesa.visualization.utils import force_update
from PIL import Image

from sim.dashboard import components as C
from sim.dashboard.model import TEXT_LEVERS, DashboardModel

CHARTS = (C.MapChart, C.BandChart, C.CategoryChart, C.ServicesChart, C.SpendChart)


def _text(rc, css: str) -> str:
    return rc.find(ipyvue.Html, class_=css).widget.children[0]


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def test_summary_shows_step_and_values_and_follows_the_model():
    m = DashboardModel(n_communes=80, years=2, training_budget="300")
    _box, rc = solara.render(C.Summary(m), handle_error=False)
    assert _text(rc, "dash-step") == "Step 0 / 8 · year 2021.00"
    start = _text(rc, "dash-value-maturity_mean")
    assert start == _text(rc, "dash-start-maturity_mean") == f"{m.first('maturity_mean'):.3f}"
    assert _text(rc, "dash-value-spend_levers_eur") == "0\u00a0EUR"
    m.step()
    m.step()
    force_update()  # what SolaraViz does after a step
    assert _text(rc, "dash-step") == "Step 2 / 8 · year 2021.50"
    assert _text(rc, "dash-value-maturity_mean") == f"{m.latest('maturity_mean'):.3f}" != start
    assert _text(rc, "dash-value-spend_levers_eur").endswith(("k\u00a0EUR", "M\u00a0EUR"))
    # "Run to the end" runs the remaining steps.
    rc.find(ipyvue.Html, class_="dash-done")  # present, empty while running
    button = rc.find(class_="dash-run-end").widget
    button.click()
    assert m.step_index == 8 and not m.running
    assert _text(rc, "dash-step") == "Step 8 / 8 · year 2023.00"
    assert _text(rc, "dash-done") == "Horizon reached."
    assert rc.find(class_="dash-run-end").widget.disabled
    rc.close()


def test_summary_shows_the_refusal_of_an_invalid_input():
    m = DashboardModel(n_communes=80, years=2, training_budget="-5")
    _box, rc = solara.render(C.Summary(m), handle_error=False)
    message = _text(rc, "dash-error-message")
    assert "training.budget_eur_per_staff [Training: EUR/staff/yr]=-5.0 is below its minimum 0.0" in message
    assert rc.find(class_="dash-step").widgets == []
    # The charts show nothing instead of failing.
    for component in (C.TerritoryMap, C.MaturityByBand, C.SpendingByLever):
        solara.render(component(m), handle_error=False)[1].close()
    rc.close()


@pytest.mark.parametrize("kind", CHARTS, ids=lambda k: k.__name__)
def test_blitted_chart_equals_a_full_redraw_and_changes_with_the_steps(kind):
    m = DashboardModel(n_communes=120, years=2, training_budget="300", mediation_budget="50")
    first = C.chart_png(m, kind)
    for _ in range(3):
        m.step()
    blitted = C.chart_png(m, kind)
    assert not np.array_equal(_pixels(first), _pixels(blitted))
    chart = m.cache[kind]
    chart.fig.canvas.draw()  # everything drawn the normal way
    full = np.asarray(chart.fig.canvas.buffer_rgba())
    got = _pixels(blitted)
    assert got.shape == full.shape
    # Only the stacking order of legend and lines may differ (the legend is in the background).
    assert (np.abs(got.astype(int) - full.astype(int)).max(axis=2) > 8).mean() < 0.01


def test_charts_reuse_their_background_over_a_run():
    m = DashboardModel(n_communes=120, years=3, training_budget="300")
    for _ in range(m.n_steps):
        m.step()
        for kind in CHARTS:
            C.chart_png(m, kind)
    redraws = {kind.__name__: m.cache[kind].redraws for kind in CHARTS}
    # The static part is drawn once, plus a few times when a y axis has to grow.
    assert redraws["MapChart"] == 1 and max(redraws.values()) <= 4, redraws


def test_nice_ceiling():
    assert C.nice_ceiling(0.13, 0.2) == 0.2
    assert C.nice_ceiling(0.31, 0.2) == 0.5
    assert C.nice_ceiling(2.2, 1.0) == 2.5
    assert C.nice_ceiling(730.0, 1.0) == 1000.0
    assert C.nice_ceiling(float("nan"), 1.0) == 1.0


def test_euros():
    nb = "\u00a0"
    assert C.euros(950) == f"950{nb}EUR"
    assert C.euros(12_345) == f"12{nb}k{nb}EUR"
    assert C.euros(4_790_000) == f"4.8{nb}M{nb}EUR"
    assert C.euros(1.2e9) == f"1.2{nb}bn{nb}EUR"


def test_run_export_holds_the_completed_steps():
    import zipfile

    import pandas as pd

    m = DashboardModel(n_communes=60, years=1, training_budget="300")
    m.step()
    table = pd.read_parquet(io.BytesIO(C.export_run_bytes(m, "parquet")))
    policy = table[table["step"] >= 0]  # a history period before the policies, if any, has negative steps
    assert set(policy["step"]) == {0, 1} and (table["scenario"] == "business_as_usual").all()
    assert pd.read_csv(io.BytesIO(C.export_run_bytes(m, "csv"))).shape == table.shape
    names = zipfile.ZipFile(io.BytesIO(C.export_run_bytes(m, "figures.zip"))).namelist()
    assert names == ["map.png", "band.png", "category.png", "services.png", "spend.png"]


def test_the_page_in_python_levers_follow_the_scenario_changes_are_flagged_and_reset_applies_them():
    """The page as Solara serves it (AppLayout around it), driven through its widgets."""
    from sim.dashboard.app import Page

    _box, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    selects = [w.label for w in rc.find(ipyvuetify.Select).widgets]
    assert selects[:7] == ["Scenario", "Territory", "Communes (territory size)", "Years simulated",
                           "Training modality", "Training targeting", "Pooling structure"]  # fmt: skip
    assert _text(rc, "dash-step") == "Step 0 / 40 · year 2021.00"

    def field(label: str):
        return rc.find(ipyvuetify.TextField, label=label).widget

    def type_in(label: str, text: str) -> None:
        field(label).v_model = text
        field(label).fire_event("keyup.enter", None)  # Solara's InputText commits on Enter or focus-out

    def press(label: str) -> None:
        rc.find(ipyvuetify.Btn, children=[label]).widget.click()

    # A change makes the "not applied" banner appear above the fields: no field takes another's text.
    type_in("Training: EUR/staff/yr", "-5")
    assert field("Training: EUR/staff/yr").v_model == "-5"
    assert [field(lever.label).v_model for lever in TEXT_LEVERS[1:]] == ["0"] * (len(TEXT_LEVERS) - 1)
    press("Reset")
    assert "training.budget_eur_per_staff [Training: EUR/staff/yr]=-5.0" in _text(rc, "dash-error-message")
    type_in("Training: EUR/staff/yr", "0")
    assert [field(lever.label).v_model for lever in TEXT_LEVERS] == ["0"] * len(TEXT_LEVERS)
    press("Reset")
    assert _text(rc, "dash-step") == "Step 0 / 40 · year 2021.00"

    # Picking a scenario shows its lever values in the fields; nothing applied yet, and the page says so.
    rc.find(ipyvuetify.Select, label="Scenario").widget.v_model = "massive_targeted_training"
    assert field("Training: EUR/staff/yr").v_model == "200"
    assert rc.find(ipyvuetify.Select, label="Training targeting").widget.v_model == "furthest"
    assert "Changed since the last Reset: Scenario" in rc.find(class_="dash-not-applied").widget.children[0]
    type_in("Training: EUR/staff/yr", "300")
    assert "dash-changed" in field("Training: EUR/staff/yr").class_
    assert "Training: EUR/staff/yr" in rc.find(class_="dash-not-applied").widget.children[0]
    rc.find(ipyvuetify.Select, label="Years simulated").widget.v_model = 2
    press("Reset")
    assert rc.find(class_="dash-not-applied").widgets == []  # applied: no flag left
    assert "dash-changed" not in (field("Training: EUR/staff/yr").class_ or "")
    assert _text(rc, "dash-step") == "Step 0 / 8 · year 2021.00"
    assert "scenario=massive_targeted_training" in _text(rc, "dash-overrides")
    assert "training.budget_eur_per_staff=300.0" in _text(rc, "dash-overrides")
    press("Step")
    press("Step")
    assert _text(rc, "dash-step") == "Step 2 / 8 · year 2021.50"
    assert _text(rc, "dash-value-spend_levers_eur").endswith("EUR")

    type_in("Training: EUR/staff/yr", "abc")
    press("Reset")
    assert "Training: EUR/staff/yr: 'abc' is not a number" in _text(rc, "dash-error-message")
    type_in("Training: EUR/staff/yr", "200")
    press("Reset")
    assert _text(rc, "dash-step") == "Step 0 / 8 · year 2021.00"
    assert "training.budget" not in _text(rc, "dash-overrides")  # the scenario's own value: no override
    rc.close()
