"""What the page shows: a summary card, the map of communes and four charts over time.

Every component takes the :class:`~sim.dashboard.model.DashboardModel` that SolaraViz passes and
subscribes to Mesa's ``update_counter`` (bumped after each step or run).

Drawing must not cost more than a step (about 40-60 ms at 1,000 communes), so each figure is
blitted: a :class:`BlitChart` renders its static part once per model (axes, ticks, labels,
legend, colour bar; again only when its y range has to grow) and keeps that image; a step
restores it and draws only the artists that changed (the lines, the recoloured communes, the
title), then encodes the PNG. Images are memoised on the number of completed records, so a
render without a new step costs nothing. Figures are plain matplotlib ``Figure`` objects with
an Agg canvas (no pyplot: safe in Solara's threads).
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import reacton
import solara
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from mesa.visualization.utils import force_update, update_counter
from PIL import Image

from sim import outcomes as reg
from sim.dashboard.model import LEVER_SPEND, DashboardModel
from sim.state import CATEGORIES, POP_BANDS

DPI = 80
EMPTY = pd.Series([], dtype=float)
FIGSIZE = (5.6, 3.6)  # inches: 448 x 288 px, one cell of SolaraViz's grid
#: Headline metrics of the summary (labels and formats from the outcome registry, sim/outcomes.py).
HEADLINES = ("maturity_mean", "services_online_mean", "staff_illectronism_share", "inhabitants_excluded_share")


def _fmt(metric: str, value: float) -> str:
    text = reg.format_value(metric, value)
    return text or "n/a"


def euros(value: float) -> str:
    """Euros with a readable unit (the registry's format): 950 EUR, 12 k EUR, 4.8 M EUR, 1.2 bn EUR."""
    return reg.euros(value)


# ---------------------------------------------------------------------------- summary
@solara.component
def Summary(model: DashboardModel):
    """Scenario, step and year, headline values at the start and now, "Run to the end"."""
    update_counter.get()
    busy = solara.use_reactive(False)

    with solara.Card(classes=["dash-summary"], style={"height": "100%", "overflow": "auto"}):
        if model.error:
            solara.Error(label="The model was not built: fix the input, then press Reset.", classes=["dash-error"])
            solara.v.Html(
                tag="pre",
                class_="dash-error-message",
                style_="white-space: pre-wrap; font-size: 0.85em",
                children=[model.error],
            )
            return
        i = model.inputs
        # Plain HTML, not solara.Markdown: Markdown loads mermaid from Solara's CDN proxy.
        solara.v.Html(
            tag="div",
            class_="dash-territory",
            style_="font-size: 0.9em",
            children=[
                solara.v.Html(tag="b", children=["Scenario "]),
                solara.v.Html(tag="code", children=[i["scenario_name"]]),
                (
                    f" · {len(model.communes):,} communes and {model.sim.colls.n - len(model.communes)} EPCI, "
                    f"départements, régions · seed {i['seed']}"
                ),
            ],
        )
        solara.Text(
            f"Step {model.step_index} / {model.n_steps} · year {model.year:.2f}",
            classes=["dash-step"],
            style={"font-size": "1.25em", "font-weight": "bold"},
        )
        solara.v.Html(tag="table", style_="width: 100%; font-size: 0.9em; margin: 6px 0", children=_table_rows(model))

        def run_to_end():
            busy.set(True)
            try:
                model.run_to_end()
            finally:
                busy.set(False)
                force_update()

        with solara.Row(style={"align-items": "center"}):
            solara.Button(
                "Run to the end",
                color="primary",
                on_click=run_to_end,
                disabled=busy.value or not model.running,
                classes=["dash-run-end"],
            )
            solara.Text("Horizon reached." if not model.running else "", classes=["dash-done"])
        note = "font-size: 0.75em; color: #666; margin-top: 4px"
        solara.v.Html(
            tag="div",
            style_=note,
            children=[
                (
                    "Change the inputs in the sidebar, then press Reset to rebuild the model (the lever fields "
                    "show the scenario's values; a blank field keeps them). Step: one quarter; ▶: play."
                )
            ],
        )
        solara.v.Html(
            tag="div", class_="dash-overrides", style_=note, children=["Overrides: " + " ".join(model.overrides)]
        )


def _table_rows(model: DashboardModel) -> list:
    """Rows (ipyvue Html elements) of the headline table; each value cell has a CSS class."""
    td = lambda text, css="", bold=False: solara.v.Html(
        tag="td", class_=css, style_="font-weight: bold" if bold else "", children=[text]
    )
    rows = [solara.v.Html(tag="tr", children=[td("", bold=True), td("start", bold=True), td("now", bold=True)])]
    for metric in HEADLINES:
        start, now = model.first(metric), model.latest(metric)
        cells = [
            td(reg.label(metric)),
            td(_fmt(metric, start), f"dash-start-{metric}"),
            td(_fmt(metric, now), f"dash-value-{metric}"),
        ]
        rows.append(solara.v.Html(tag="tr", children=cells))
    policy = model.spend_cumulative()
    own = model.spend_cumulative(("investment", "own_training", "pool_contributions"))
    for metric, label, spend in (
        ("spend_levers_eur", "Policy spending so far (all levers)", policy),
        ("spend_own_eur", "Collectivités' own digital spending so far", own),
    ):
        value = float(spend.iloc[-1].sum()) if len(spend) else 0.0
        rows.append(solara.v.Html(tag="tr", children=[td(label), td("-"), td(euros(value), f"dash-value-{metric}")]))
    return rows


# ---------------------------------------------------------------------------- blitting
def nice_ceiling(value: float, floor: float) -> float:
    """Smallest of 1, 2, 2.5, 5 x 10^k at or above ``value`` (and at least ``floor``)."""
    if not np.isfinite(value) or value <= floor:
        return floor
    exp = math.floor(math.log10(value))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * 10**exp >= value - 1e-12:
            return m * 10**exp
    return 10.0 ** (exp + 1)


class BlitChart:
    """A figure whose static part is rendered once; :meth:`png` redraws only :meth:`dynamic`."""

    figsize = FIGSIZE

    def __init__(self, model: DashboardModel):
        self.fig = Figure(figsize=self.figsize, dpi=DPI)
        FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_subplot()
        self._background = None
        self._key = None
        self.redraws = 0  # full renders of the static part (for tests)
        self.build(model)

    def build(self, model: DashboardModel) -> None:
        """Create the artists (static and dynamic) once."""

    def dynamic(self) -> list:
        """Artists drawn at every update."""
        return []

    def update(self, model: DashboardModel):
        """Update the dynamic artists; return a key of the static part (redrawn when it changes)."""

    def png(self, model: DashboardModel) -> bytes:
        key = self.update(model)
        canvas = self.fig.canvas
        artists = self.dynamic()
        if self._background is None or key != self._key:
            for a in artists:
                a.set_visible(False)
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            self._key = key
            self.redraws += 1
            for a in artists:
                a.set_visible(True)
        canvas.restore_region(self._background)
        renderer = canvas.get_renderer()
        for a in artists:
            a.draw(renderer)
        out = io.BytesIO()
        Image.fromarray(np.asarray(canvas.buffer_rgba())).save(out, format="png", compress_level=1)
        return out.getvalue()


class TimeChart(BlitChart):
    """Lines over the simulated years; x spans the whole horizon, y grows by nice steps."""

    title = ""
    ylabel = ""
    percent = False
    floor = 0.2  # smallest top of the y axis
    cap = 1.0  # largest top of the y axis (shares and maturity are at most 1)

    def curves(self, model: DashboardModel) -> list[tuple[str, object]]:
        """(label, pandas Series indexed by year) of each line."""
        return []

    def build(self, model: DashboardModel) -> None:
        ax = self.ax
        self.fig.subplots_adjust(left=0.13, right=0.97, bottom=0.14, top=0.9)
        start = model.sim.cfg.simulation.start_year
        ax.set_xlim(start, start + model.sim.cfg.simulation.years)
        ax.set_title(self.title, fontsize=11)
        ax.set_xlabel("year")
        ax.set_ylabel(self.ylabel)
        ax.grid(alpha=0.3)
        if self.percent:
            ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        self.lines = [ax.plot([], [], lw=1.8, marker="o", ms=2, label=label)[0] for label, _ in self.curves(model)]
        if self.lines:
            ax.legend(fontsize=8, loc="upper left", ncols=2)

    def dynamic(self) -> list:
        return self.lines

    def update(self, model: DashboardModel):
        top = 0.0
        for line, (_, s) in zip(self.lines, self.curves(model)):
            line.set_data(s.index.to_numpy(), s.to_numpy())
            if len(s):
                top = max(top, float(np.nanmax(s.to_numpy())))
        ymax = min(nice_ceiling(top * 1.25, self.floor), self.cap)
        self.ax.set_ylim(0.0, ymax)
        return ymax


class BandChart(TimeChart):
    title = "Maturity by population band (communes)"
    ylabel = "mean maturity"

    def curves(self, model):
        s = model.series("maturity_mean", "pop_band")
        return [(band, s[band]) for band in POP_BANDS if band in s]


class CategoryChart(TimeChart):
    title = "Staff in illectronism by category"
    ylabel = "share of staff"
    percent = True

    def curves(self, model):
        s = model.series("staff_illectronism_share", "category")
        return [(f"category {c}", s[c]) for c in CATEGORIES if c in s]


class ServicesChart(TimeChart):
    title = "Services online and inhabitants excluded"
    ylabel = "share"
    percent = True
    floor = 1.0

    def curves(self, model):
        return [
            (label, model.series(metric).get("all", EMPTY))
            for metric, label in (
                ("services_online_mean", "services online (mean)"),
                ("eservice_use_share", "transactions made online"),
                ("inhabitants_excluded_share", "inhabitants excluded"),
            )
        ]


class SpendChart(TimeChart):
    """Cumulative policy spending, stacked by lever (the areas are redrawn at each step)."""

    title = "Policy money spent, cumulative, by lever"
    ylabel = "million EUR"
    floor = 1.0

    def build(self, model):
        super().build(model)
        self.areas: list = []
        for i, lever in enumerate(LEVER_SPEND):  # legend proxies: fixed colours, drawn once
            self.ax.fill_between([], [], [], color=f"C{i}", alpha=0.85, label=lever)
        self.ax.legend(fontsize=8, loc="upper left", ncols=2)
        self.empty = self.ax.text(
            0.5,
            0.5,
            "no policy lever has spent money yet",
            ha="center",
            va="center",
            transform=self.ax.transAxes,
            color="#666",
        )

    def curves(self, model):
        return []

    def dynamic(self) -> list:
        return [*self.areas, self.empty]

    def update(self, model):
        spend = model.spend_cumulative() / 1e6
        for area in self.areas:
            area.remove()
        self.areas = []
        bottom = np.zeros(len(spend))
        x = spend.index.to_numpy()
        for i, lever in enumerate(LEVER_SPEND):
            values = spend[lever].to_numpy() if len(spend) else np.zeros(0)
            if len(values) and values[-1] > 0:
                self.areas.append(self.ax.fill_between(x, bottom, bottom + values, color=f"C{i}", alpha=0.85))
                bottom = bottom + values
        self.empty.set_text("" if self.areas else "no policy lever has spent money yet")
        # Spending is about steady over steps: size the axis for the horizon, not for today.
        total = float(bottom[-1]) if len(bottom) else 0.0
        projected = total * model.n_steps / max(model.step_index, 1)
        ymax = nice_ceiling(max(total, projected) * 1.1, self.floor)
        self.ax.set_ylim(0.0, ymax)
        return ymax


class MapChart(BlitChart):
    """Communes at their synthetic coordinates, sized by population, coloured by maturity."""

    figsize = (5.4, 4.2)

    def build(self, model):
        c = model.sim.colls
        rows = model.communes
        pop = c.population[rows]
        self.fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.92)
        ax = self.ax
        self.order = np.argsort(-pop)  # small communes drawn over large ones
        sizes = 3.0 + 150.0 * np.sqrt(pop / pop.max())
        self.points = ax.scatter(
            c.x[rows][self.order], c.y[rows][self.order], s=sizes[self.order], c=model.maturity[self.order],
            cmap="viridis", vmin=0.0, vmax=1.0, linewidths=0.3, edgecolors="white",
        )  # fmt: skip
        self.fig.colorbar(self.points, ax=ax, label="digital maturity", shrink=0.85)
        ax.set_xticks([])
        ax.set_yticks([])
        x, y = c.x[rows], c.y[rows]
        geographic = len(x) and (x.min() < -0.01 or x.max() > 1.01 or y.min() < -0.01 or y.max() > 1.01)
        # longitude and latitude (territory=france): a degree of longitude is cos(latitude) of one of latitude
        ax.set_aspect(1.0 / max(math.cos(math.radians(float(y.mean()))), 0.1) if geographic else "equal")
        self.title = self.fig.text(0.5, 0.975, "", ha="center", va="top", fontsize=11)

    def dynamic(self) -> list:
        return [self.points, self.title]

    def update(self, model):
        self.points.set_array(model.maturity[self.order])
        self.title.set_text(f"Communes (size: population), year {model.year:.2f}")


def export_run_bytes(model: DashboardModel, kind: str) -> bytes:
    """The current run's completed steps as a tidy table (``parquet`` or ``csv``, the columns of
    timeseries.parquet), or its charts as ``figures.zip``."""
    import zipfile

    records = model.sim.records[: model.completed] if model.sim is not None else []
    frame = pd.DataFrame(records, columns=["step", "year", "stratum_kind", "stratum", "metric", "value"])
    frame.insert(0, "scenario", model.inputs.get("scenario_name"))
    frame.insert(1, "seed", model.inputs.get("seed"))
    if kind == "parquet":
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        return buf.getvalue()
    if kind == "csv":
        return frame.to_csv(index=False).encode()
    if kind == "figures.zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            if model.sim is not None:
                for chart in (MapChart, BandChart, CategoryChart, ServicesChart, SpendChart):
                    z.writestr(f"{chart.__name__.removesuffix('Chart').lower()}.png", chart_png(model, chart))
        return buf.getvalue()
    raise ValueError(f"unknown export {kind!r}")


def chart_png(model: DashboardModel, kind: type[BlitChart]) -> bytes:
    """PNG of one chart for the model's completed steps (the chart object is kept per model)."""
    chart = model.cache.get(kind)
    if chart is None:
        chart = model.cache[kind] = kind(model)
    return chart.png(model)


@solara.component
def ChartView(model: DashboardModel, kind: type, css: str):
    """One blitted chart, re-encoded only when a step has completed."""
    update_counter.get()
    png = solara.use_memo(
        lambda: chart_png(model, kind) if model.sim is not None else None, [id(model), model.completed]
    )
    if png is None:
        return solara.Text("")
    with solara.Column(classes=[css], style={"width": "100%"}) as main:
        # The step in a class of the image (sent with the image): tests wait for it.
        solara.Image(png, format="png", classes=[f"dash-at-{model.step_index}"])
    return main


def _chart_component(name: str, kind: type[BlitChart], css: str):
    """A component ``name(model)`` showing one chart (made once, at import)."""

    def view(model: DashboardModel):
        return ChartView(model, kind, css)

    view.__name__ = view.__qualname__ = name
    # reacton.component is solara.component without its hook check, which cannot parse the
    # source of a nested function (``view`` has no hook anyway).
    return reacton.component(view)


TerritoryMap = _chart_component("TerritoryMap", MapChart, "dash-map")
MaturityByBand = _chart_component("MaturityByBand", BandChart, "dash-bands")
IllectronismByCategory = _chart_component("IllectronismByCategory", CategoryChart, "dash-categories")
ServicesAndExclusion = _chart_component("ServicesAndExclusion", ServicesChart, "dash-services")
SpendingByLever = _chart_component("SpendingByLever", SpendChart, "dash-spend")

# Reacton components, made once (not plain functions): SolaraViz would wrap a plain function
# in a new component class at every render, which remounts it and loses the memoised images.
COMPONENTS = [Summary, TerritoryMap, MaturityByBand, IllectronismByCategory, ServicesAndExclusion, SpendingByLever]
