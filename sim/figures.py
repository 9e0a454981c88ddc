"""Figures of a single run (the main job), written as PNG next to its tables.

Each figure is declared once in :data:`FIGURES` (its file and the function that draws it).
:func:`write_figures` draws them in this process. :class:`FigureProcess` draws them in another
process, started while the model runs, so that importing the plotting packages (matplotlib and
seaborn: about 1.3 s) and drawing overlap the run and the writing of its tables on a second core.
:class:`RunFigures` is what a run uses: it picks one or the other (:func:`draw_in_child`;
docs/PERFORMANCE.md, "Figures beside the run"). Both write the same files.

The plotting packages are imported on first use, not with this module.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import sysconfig
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sim.state import POP_BANDS
from sim.store import atomic_path, clean_stale_tmp


def _plotting():
    """matplotlib.pyplot and seaborn, imported on first use (non-interactive backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    return plt, sns


def _maturity_by_population_band(timeseries, collectivites, title, plt, sns):
    band = timeseries[(timeseries["stratum_kind"] == "pop_band") & (timeseries["metric"] == "maturity_mean")]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    sns.lineplot(
        data=band,
        x="year",
        y="value",
        hue="stratum",
        hue_order=[b for b in POP_BANDS if b in set(band["stratum"])],
        ax=ax,
    )
    ax.set(
        xlabel="Year",
        ylabel="Mean digital maturity (0-1)",
        title=f"Territorial fracture: maturity of communes by population {title}".strip(),
    )
    ax.legend(title="Inhabitants")
    return fig


#: Indicators of the overview figure and their labels.
OVERVIEW_LABELS = {
    "maturity_mean": "Mean maturity of collectivités",
    "services_online_mean": "Services online (mean share)",
    "staff_proficient_share": "Staff up to date (share)",
    "staff_illectronism_share": "Staff in illectronism (share)",
    "eservice_use_share": "Inhabitants' e-service use (share)",
    "inhabitants_excluded_share": "Inhabitants excluded (share)",
    "pooled_share": "Communes in a pool (share)",
}


def _adoption_overview(timeseries, collectivites, title, plt, sns):
    overall = timeseries[timeseries["stratum_kind"] == "all"]
    sel = overall[overall["metric"].isin(OVERVIEW_LABELS)].assign(indicator=lambda d: d["metric"].map(OVERVIEW_LABELS))
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    sns.lineplot(data=sel, x="year", y="value", hue="indicator", ax=ax)
    ax.set(xlabel="Year", ylabel="Share (0-1)", ylim=(0, 1), title="Adoption and fracture")
    ax.legend(title=None, fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def _staff_illectronism_by_category(timeseries, collectivites, title, plt, sns):
    cat = timeseries[(timeseries["stratum_kind"] == "category") & (timeseries["metric"] == "staff_illectronism_share")]
    fig, ax = plt.subplots(figsize=(7, 4))
    sns.lineplot(data=cat, x="year", y="value", hue="stratum", hue_order=["A", "B", "C"], ax=ax)
    ax.set(xlabel="Year", ylabel="Share of staff in illectronism", title="Staff in illectronism by category")
    ax.legend(title="Category")
    return fig


def _final_maturity_by_band(timeseries, collectivites, title, plt, sns):
    # The columns drawn, the bands as Python strings: seaborn and set() go through them one by
    # one, which costs 0.1 s on France's 34,875 communes with pandas' Arrow-backed strings.
    communes = collectivites.loc[collectivites["kind"] == "commune", ["pop_band", "maturity", "pooled"]]
    communes = communes.astype({"pop_band": object})
    fig, ax = plt.subplots(figsize=(7, 4))
    sns.boxplot(
        data=communes,
        x="pop_band",
        y="maturity",
        order=[b for b in POP_BANDS if b in set(communes["pop_band"].unique())],
        hue="pooled",
        ax=ax,
    )
    ax.set(
        xlabel="Inhabitants", ylabel="Maturity at the end (0-1)", title="End-of-run maturity of communes, pooled or not"
    )
    return fig


@dataclass(frozen=True)
class Figure:
    """A figure of a run: its file (relative to the run directory) and what draws it,
    ``draw(timeseries, collectivites, title, plt, sns) -> matplotlib Figure``."""

    path: str
    draw: Callable


FIGURES = (
    Figure("figures/maturity_by_population_band.png", _maturity_by_population_band),
    Figure("figures/adoption_overview.png", _adoption_overview),
    Figure("figures/final_maturity_by_band.png", _final_maturity_by_band),
    Figure("figures/staff_illectronism_by_category.png", _staff_illectronism_by_category),
)


def write_figures(
    timeseries, collectivites, out_dir: Path, title: str = "", digests: dict | None = None, figures=FIGURES
) -> list[str]:
    """Write the run's figures (``figures``: by default all of :data:`FIGURES`); return their
    paths relative to ``out_dir``. With ``digests``, the sha256 of each file written is stored
    under its relative path."""
    plt, sns = _plotting()
    sns.set_theme(style="whitegrid", context="notebook")
    written = []
    for figure in figures:
        fig = figure.draw(timeseries, collectivites, title, plt, sns)
        path = Path(out_dir) / figure.path
        sums: dict[str, str] = {}
        try:
            with atomic_path(path, sums) as tmp:
                fig.savefig(tmp, format=path.suffix.lstrip("."), dpi=120, bbox_inches="tight")
        finally:
            plt.close(fig)
        if digests is not None:
            digests[figure.path] = sums[str(path)]
        written.append(figure.path)
    return written


class FigureProcess:
    """Draws a run's figures in a child process (``python -m sim.figures --serve``).

    The child starts at once and imports the plotting packages while the parent goes on;
    :meth:`send` gives it the run's tables, :meth:`result` waits for the files and returns their
    checksums (relative path -> sha256, like :func:`write_figures`' ``digests``), raising
    RuntimeError with the child's error if it failed. As a context manager, the child is killed
    if the parent leaves without its result (an error, Ctrl-C). The child writes with
    :func:`sim.store.atomic_path`: a killed child leaves no partial figure.
    """

    def __init__(self):
        env = dict(os.environ)
        # Where ``sim`` is imported from, for the child to import the same code: a checkout run
        # without installing (from another directory than the checkout's, or after a change of
        # directory). Not an installed package's site-packages: in PYTHONPATH it would come
        # before the standard library.
        root = Path(__file__).resolve().parent.parent
        site_dirs = {Path(p).resolve() for p in (sysconfig.get_path("purelib"), sysconfig.get_path("platlib"))}
        if root not in site_dirs:
            env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
        # The child's errors go to a file, not a pipe: a full pipe cannot block it.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "sim.figures", "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
        )

    def send(self, timeseries, collectivites, out_dir: Path, title: str = "") -> None:
        """Give the child the tables to draw (it may still be importing: this waits for it to
        read them)."""
        job = (timeseries, collectivites, str(Path(out_dir).resolve()), title)
        try:
            self._proc.stdin.write(pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))
            self._proc.stdin.close()
        except BrokenPipeError:  # the child died: result() reports why
            pass

    def result(self) -> dict[str, str]:
        out = self._proc.stdout.read()
        code = self._proc.wait()
        if code != 0:
            self._stderr.seek(0)
            err = self._stderr.read().decode(errors="replace").strip().splitlines()
            raise RuntimeError(f"drawing the figures failed (exit status {code}): " + "\n".join(err[-20:]))
        return json.loads(out)

    def close(self) -> bool:
        """Stop the child if it still runs; return whether it had to be killed (it may then
        leave the temporary file of the figure it was writing)."""
        killed = self._proc.poll() is None
        if killed:
            self._proc.kill()
            self._proc.wait()
        for stream in (self._proc.stdin, self._proc.stdout, self._stderr):
            if stream is not None and not stream.closed:
                stream.close()
        return killed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


#: Runs of at least this many staff-steps (staff at the start times steps, history included)
#: draw their figures in a child process started once the model is built, when a second CPU is
#: free and the plotting packages are not imported in this process yet. The child costs about
#: 2 s of CPU (an interpreter, pandas, matplotlib, seaborn, the drawing) and 270 MB on the other
#: CPU; it takes the 1.3 s of importing the plotting packages and most of the drawing off the
#: run's wall time when the run lasts long enough to hide them. Measured here on runs of 50
#: steps (docs/PERFORMANCE.md, "Figures beside the run"): about even at 48,000 staff (the
#: default territory: 2.4 M staff-steps), 0.45 s saved at 145,000, 0.8 s at 290,000, 1.2 s for
#: France (1.93 M). Smaller runs, and processes that have already drawn, draw in-process.
IN_CHILD_MIN_STAFF_STEPS = 5_000_000


def draw_in_child(n_staff: int, n_steps: int) -> bool:
    """Whether a run of ``n_staff`` staff over ``n_steps`` steps draws its figures in a child."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    big = n_staff * n_steps >= IN_CHILD_MIN_STAFF_STEPS
    return big and cpus >= 2 and "matplotlib.pyplot" not in sys.modules


class RunFigures:
    """The figures of one run, written into ``out_dir``: :meth:`model_built` starts a
    :class:`FigureProcess` if :func:`draw_in_child` says so, :meth:`tables_ready` hands it the
    tables, :meth:`finish` waits for it, or draws here when there is none, and returns the
    checksums of the files. As a context manager, a child left behind is stopped."""

    def __init__(self, out_dir: Path, title: str = ""):
        self.out_dir, self.title = Path(out_dir), title
        self.child: FigureProcess | None = None

    def model_built(self, model) -> None:
        if draw_in_child(model.staff.n_active, model.n_history + model.n_steps):
            self.child = FigureProcess()

    def tables_ready(self, timeseries, collectivites) -> None:
        if self.child is not None:  # it draws while the run makes and writes its other tables
            self.child.send(timeseries, collectivites, self.out_dir, self.title)

    def finish(self, timeseries, collectivites) -> dict[str, str]:
        if self.child is not None:
            return self.child.result()
        digests: dict[str, str] = {}
        write_figures(timeseries, collectivites, self.out_dir, self.title, digests)
        return digests

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.child is not None and self.child.close():
            # Killed mid-write (an error here, Ctrl-C), the child leaves the temporary file of
            # the figure it was writing: removed now, as a run in-process does (the caller holds
            # the run directory's lock; the child is gone).
            clean_stale_tmp(self.out_dir)


def _serve() -> int:
    """The child of :class:`FigureProcess`: import, read one job from stdin, draw, print the
    checksums as JSON. No job (the parent closed stdin without one, or died): exit quietly."""
    try:
        _plotting()
        import pandas  # noqa: F401  (unpickling the tables)

        try:
            timeseries, collectivites, out_dir, title = pickle.load(sys.stdin.buffer)
        except EOFError:
            return 0
        digests: dict[str, str] = {}
        write_figures(timeseries, collectivites, Path(out_dir), title, digests)
        sys.stdout.write(json.dumps({f.path: digests[f.path] for f in FIGURES}))
        sys.stdout.flush()
        os._exit(0)  # done: not the 0.3-0.4 s of tearing down the plotting packages
    except KeyboardInterrupt:
        return 130
    except Exception:  # noqa: BLE001 (reported to the parent through stderr and the exit status)
        traceback.print_exc()
        return 1


if __name__ == "__main__":
    if sys.argv[1:] != ["--serve"]:
        sys.exit("usage: python -m sim.figures --serve  (the child process of sim.figures.FigureProcess)")
    sys.exit(_serve())
