"""Diagnostic figures of a calibration (``python -m analysis calibrate`` writes them in
``<out>/figures/``, PNG and SVG):

- ``plausible_share``: share of the prior box still plausible after each wave;
- ``loo_wave_<k>``: leave-one-out check of each target's emulator (predicted vs simulated, ±2 sd);
- ``target_fit``: each target's simulated values, wave by wave and in the final ensemble, against
  the observation and its cut-off band (validation targets too, marked);
- ``constraints``: for each parameter, the density of the space not ruled out against the flat
  prior (what the data constrain) and the ensemble's members.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, stem: Path) -> list[Path]:
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    fig.savefig(paths[0], dpi=110, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    _plt().close(fig)
    return paths


def _grid(n: int, ncol: int = 3):
    plt = _plt()
    ncol = min(ncol, n)
    nrow = math.ceil(n / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def plausible_share(cal, out: Path) -> list[Path]:
    shares = [s["plausible_share_after"] for s in cal.summaries]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    waves = np.arange(0, len(shares) + 1)
    ax.plot(waves, [1.0, *shares], marker="o")
    ax.set_yscale("log")
    ax.set_xticks(waves)
    ax.set_xlabel("wave (0 = prior)")
    ax.set_ylabel("share of the prior box still plausible")
    ax.set_title(f"History matching: cut-off {cal.s.cutoff:g} ({cal.s.criterion})")
    ax.grid(alpha=0.3)
    return _save(fig, out / "plausible_share")


def loo(cal, out: Path) -> list[Path]:
    paths = []
    for wave in cal.hm.waves:
        fig, axes = _grid(len(cal.targets))
        for ax, t in zip(axes, cal.targets, strict=False):
            df = wave.loo[t.id]
            ax.errorbar(df["y"], df["mean"], yerr=2 * df["sd"], fmt="o", ms=2.5, alpha=0.6, elinewidth=0.6)
            lo, hi = float(min(df["y"].min(), df["mean"].min())), float(max(df["y"].max(), df["mean"].max()))
            ax.plot([lo, hi], [lo, hi], color="k", lw=0.8)
            within = float(np.mean(np.abs(df["z"]) <= 2))
            ax.set_title(f"{t.id}\n{within:.0%} within ±2 sd", fontsize=8)
            ax.set_xlabel("simulated (mean over seeds)", fontsize=8)
            ax.set_ylabel("leave-one-out prediction", fontsize=8)
            ax.tick_params(labelsize=7)
        fig.suptitle(f"Emulator leave-one-out check, wave {wave.index}")
        fig.tight_layout()
        paths += _save(fig, out / f"loo_wave_{wave.index}")
    return paths


def target_fit(cal, out: Path) -> list[Path]:
    ens = pd.read_parquet(cal.out / "ensemble.parquet")
    targets = [t for t in [*cal.targets, *cal.validation] if all(t.id in o for o in cal.outputs.values())]
    fig, axes = _grid(len(targets))
    rng = np.random.default_rng(0)
    sv = cal.hm.waves[-1].seed_var
    for ax, t in zip(axes, targets, strict=False):
        for k, o in cal.outputs.items():
            m = o.groupby("member")[t.id].mean()
            ax.scatter(k + rng.uniform(-0.25, 0.25, len(m)), m, s=4, alpha=0.35, color="tab:blue")
        em = []
        for _, row in ens.iterrows():
            o = cal.outputs[int(row["wave"])]
            em.append(float(o.loc[o["member"] == row["design_member"], t.id].mean()))
        x_ens = len(cal.outputs) + 1
        ax.scatter(x_ens + rng.uniform(-0.25, 0.25, len(em)), em, s=5, alpha=0.6, color="tab:green")
        width = cal.s.cutoff * math.sqrt(t.obs_var + t.discrepancy_sd**2 + sv.get(t.id, 0.0))
        lo, hi = (t.lo, t.hi) if t.is_range else (t.value, t.value)
        ax.axhspan(lo - width, hi + width, color="tab:orange", alpha=0.2, lw=0)
        for v in (t.lo, t.hi) if t.is_range else (t.value,):
            ax.axhline(v, color="tab:orange", lw=1)
        ax.set_xticks([*cal.outputs.keys(), x_ens], [*(f"w{k}" for k in cal.outputs), "ens."], fontsize=7)
        ax.set_title(f"{t.id} ({t.use})", fontsize=8, color="k" if t.use == "calibration" else "tab:purple")
        ax.tick_params(labelsize=7)
    fig.suptitle("Simulated values by wave and in the ensemble; observation and cut-off band (orange)")
    fig.tight_layout()
    return _save(fig, out / "target_fit")


def constraints(cal, out: Path) -> list[Path]:
    sample = pd.read_parquet(cal.out / "plausible_sample.parquet")
    ens = pd.read_parquet(cal.out / "ensemble.parquet")
    alive = sample[sample["ruled_out_by_wave"] == 0]
    fig, axes = _grid(len(cal.params), ncol=4)
    for ax, p in zip(axes, cal.params, strict=False):
        bins = np.linspace(p.lo, p.hi, 21)
        if len(alive):
            ax.hist(alive[p.path], bins=bins, density=True, color="tab:blue", alpha=0.6, label="not ruled out")
        ax.axhline(1.0 / (p.hi - p.lo), color="k", lw=0.8, ls="--", label="prior")
        ax.plot(ens[p.path], np.zeros(len(ens)), "|", color="tab:green", ms=10, label="ensemble")
        ax.set_title(p.path, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
    axes[0].legend(fontsize=7)
    share = len(alive) / max(len(sample), 1)
    fig.suptitle(f"What the targets constrain: density of the space not ruled out ({share:.2%} of the prior box)")
    fig.tight_layout()
    return _save(fig, out / "constraints")


def all_figures(cal, out: Path) -> list[Path]:
    out = Path(out)
    paths = []
    for f in (plausible_share, loo, target_fit, constraints):
        paths += f(cal, out)
    return paths
