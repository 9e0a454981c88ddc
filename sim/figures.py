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

import contextlib
import json
import logging
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sim.state import POP_BANDS
from sim.store import atomic_path, clean_stale_tmp

log = logging.getLogger("sim")


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


#: Started by :class:`FigureProcess` as ``python -P -c _CHILD <root>``: ``-P`` keeps the current
#: directory off the path (a ``sim/`` folder there must not be imported instead); ``<root>``,
#: where this process imports ``sim`` from, goes first on the path unless it is already on it
#: (a checkout run without installing), and the child refuses to run another copy of ``sim``.
_CHILD = """
import os, sys
root = os.path.realpath(sys.argv[1])
if root not in {os.path.realpath(p) for p in sys.path if p}:
    sys.path.insert(0, root)
import sim.figures
found = os.path.realpath(os.path.dirname(os.path.dirname(sim.figures.__file__)))
if found != root:
    sys.exit(f"the figures' process imported sim from {found}, not from {root}")
sys.exit(sim.figures._serve())
"""


class FigureProcess:
    """Draws a run's figures in a child Python process (:func:`_serve`).

    The child starts at once and imports the plotting packages while the parent goes on;
    :meth:`send` gives it the run's tables (written to it from a thread: the parent does not
    wait for the child to finish its imports), :meth:`result` waits for the files and returns
    their checksums (relative path -> sha256, like :func:`write_figures`' ``digests``), raising
    RuntimeError with the child's error if it failed or did not finish in time. ``keep_fds``:
    file descriptors the child keeps open (the run directory's lock: held until the child is
    gone, even if the parent dies first). The child writes with :func:`sim.store.atomic_path`;
    :meth:`close` kills it if it still runs (then it may leave the temporary file of the figure
    it was writing: :class:`RunFigures` removes it).
    """

    def __init__(self, keep_fds: tuple[int, ...] = ()):
        root = Path(__file__).resolve().parent.parent
        # The child's errors go to a file, not a pipe: a full pipe cannot block it.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        self._writer: threading.Thread | None = None
        self._proc = subprocess.Popen(
            [sys.executable, "-P", "-c", _CHILD, str(root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            pass_fds=keep_fds,
        )

    def send(self, timeseries, collectivites, out_dir: Path, title: str = "") -> None:
        """Give the child the tables to draw."""
        data = pickle.dumps(
            (timeseries, collectivites, str(Path(out_dir).resolve()), title), protocol=pickle.HIGHEST_PROTOCOL
        )

        def write() -> None:
            try:
                self._proc.stdin.write(data)
                self._proc.stdin.close()
            except (OSError, ValueError):  # the child died (result() says why) or was stopped
                pass

        self._writer = threading.Thread(target=write, name="figures-send", daemon=True)
        self._writer.start()

    def result(self, timeout: float | None = None) -> dict[str, str]:
        """The checksums of the figures once the child has written them; RuntimeError if it
        failed or has not finished within ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if self._writer is not None:
            self._writer.join(timeout)
            if self._writer.is_alive():
                raise RuntimeError(f"the figures' process did not read the tables within {timeout} s")
            self._proc.stdin = None  # written and closed by the writer (communicate would flush it)
        try:
            out, _ = self._proc.communicate(timeout=None if deadline is None else max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"the figures' process did not finish within {timeout} s") from None
        code = self._proc.returncode
        if code != 0:
            how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
            raise RuntimeError(f"drawing the figures failed ({how}): " + "\n".join(self.messages().splitlines()[-20:]))
        if not out:
            raise RuntimeError("the figures' process ended without drawing (it was given no tables)")
        return json.loads(out)

    @property
    def sent(self) -> bool:
        """Whether :meth:`send` gave the child its tables."""
        return self._writer is not None

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        """The child's exit status once it has ended (negative: the signal that killed it)."""
        return self._proc.returncode

    def messages(self) -> str:
        """What the child wrote on its standard error (warnings, or its error)."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace").strip()

    def close(self) -> bool:
        """Stop the child if it still runs; return whether it had to be killed (it may then
        leave the temporary file of the figure it was writing)."""
        killed = self._proc.poll() is None
        if killed:
            self._proc.kill()
            self._proc.wait()
        if self._writer is not None:
            self._writer.join()  # the child is gone: its write has ended
        for stream in (self._proc.stdin, self._proc.stdout, self._stderr):
            if stream is not None and not stream.closed:
                with contextlib.suppress(OSError):  # stdin's unwritten rest to a dead child
                    stream.close()
        return killed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


#: Runs of at least this many staff-steps (staff at the start times steps, history included)
#: draw their figures in a child process started once the model is built, when this process may
#: use at least two CPUs (its affinity; not a measure of their load) and has not imported the
#: plotting packages yet. The child costs about 2 s of CPU (an interpreter, pandas, matplotlib,
#: seaborn, the drawing) and 250-270 MiB on the other CPU; it takes the 1.3 s of importing the
#: plotting packages and most of the drawing off the run's wall time when the run lasts long
#: enough to hide them. Measured here on runs of 50
#: steps (docs/PERFORMANCE.md, "Figures beside the run"): no gain at the default territory's
#: 59,000 staff (3.0 M staff-steps), 0.45 s saved at 186,000 staff, 0.8 s at 287,000, 1.2 s for
#: France (1.93 M). Smaller runs, and processes that have already drawn, draw in-process.
IN_CHILD_MIN_STAFF_STEPS = 5_000_000
#: How long a run waits for its figures' process once it has the tables (it needs about 1 s
#: for France; importing can take longer the first time, when matplotlib builds its font cache).
#: After that the child is stopped and the figures are drawn in the run's process.
CHILD_TIMEOUT_S = 300.0


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
    tables, :meth:`finish` waits for it and returns the checksums of the files. Without a child,
    or if the child fails or does not finish within :data:`CHILD_TIMEOUT_S` (a warning says
    why), :meth:`finish` draws in this process. ``lock_fd``: the run directory's lock, kept by
    the child. As a context manager, a child left behind is stopped and what it was writing
    removed."""

    def __init__(self, out_dir: Path, title: str = "", lock_fd: int | None = None):
        self.out_dir, self.title = Path(out_dir), title
        self.keep_fds = () if lock_fd is None else (lock_fd,)
        self.child: FigureProcess | None = None

    def model_built(self, model) -> None:
        if draw_in_child(model.staff.n_active, model.n_history + model.n_steps):
            try:
                self.child = FigureProcess(self.keep_fds)
            except OSError as exc:
                log.warning("could not start the figures' process (%s): they will be drawn here", exc)
            else:
                log.info("figures: drawn in a child process (pid %d) while the model runs", self.child.pid)

    def tables_ready(self, timeseries, collectivites) -> None:
        if self.child is not None:  # it draws while the run makes and writes its other tables
            self.child.send(timeseries, collectivites, self.out_dir, self.title)

    def finish(self, timeseries, collectivites) -> dict[str, str]:
        if self.child is not None:
            if not self.child.sent:
                self.tables_ready(timeseries, collectivites)
            try:
                digests = self.child.result(CHILD_TIMEOUT_S)
                if messages := self.child.messages():
                    log.debug("the figures' process said: %s", messages)
                return digests
            except RuntimeError as exc:
                log.warning("%s; drawing the figures here instead", exc)
                self._stop_child()
        digests: dict[str, str] = {}
        write_figures(timeseries, collectivites, self.out_dir, self.title, digests)
        return digests

    def _stop_child(self) -> None:
        if self.child is not None:
            killed = self.child.close()
            if killed or self.child.returncode != 0:
                # Killed mid-write (here: an error, Ctrl-C, a timeout; or by a signal, e.g. the
                # out-of-memory killer), the child leaves the temporary file of the figure it
                # was writing: removed now, as a run in-process does (the caller holds the run
                # directory's lock; the child is gone).
                clean_stale_tmp(self.out_dir)
            self.child = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._stop_child()


def _serve() -> int:
    """The child of :class:`FigureProcess` (started through :data:`_CHILD`): import, read one job
    from stdin, draw, print the checksums as JSON. No job (the parent closed stdin without one,
    or died): exit quietly."""
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
