"""The default synthetic territory: communes, EPCI, départements and régions.

Commune populations follow a lognormal body with a Pareto tail (a heavy-tailed size
distribution: median a few hundred inhabitants, a few large cities). Communes are placed on a
unit square; départements are the cells of a grid, EPCI are contiguous groups of communes
inside a département, régions are groups of départements. Every figure that shapes it is a
parameter of :class:`sim.config.TerritoryConfig` with its source.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.config import TerritoryConfig


def commune_populations(cfg: TerritoryConfig, rng: np.random.Generator, n: int) -> np.ndarray:
    """Lognormal body and Pareto tail. The m tail communes get stratified quantiles (one
    uniform draw in each slice [i/m, (i+1)/m), in random order): with a Pareto exponent near 1
    the total population of independent draws swings by +-10 % between seeds (a few draws
    decide how many cities of a million there are); stratified, by about +-2 %."""
    body = cfg.pop_median * np.exp(cfg.pop_sigma * rng.standard_normal(n))
    in_tail = rng.random(n) < cfg.pop_tail_share
    m = int(in_tail.sum())
    u = (rng.permutation(m) + rng.random(m)) / max(m, 1)
    pop = body
    pop[in_tail] = cfg.pop_tail_min * (1.0 - u) ** (-1.0 / cfg.pop_tail_alpha)
    return np.clip(np.round(pop), 10, cfg.pop_max)


def _split(n_items: int, n_groups: int) -> np.ndarray:
    """Group index of each of n_items ordered items cut into n_groups nearly equal runs."""
    return (np.arange(n_items) * n_groups // max(n_items, 1)).astype(np.int64)


def build_synthetic(cfg: TerritoryConfig, rng: np.random.Generator) -> pd.DataFrame:
    n = int(cfg.n_communes)
    n_dep = max(1, round(n / cfg.communes_per_departement))
    n_reg = max(1, round(n_dep / cfg.departements_per_region))
    pop = commune_populations(cfg, rng, n)

    # Départements as cells of a near-square grid; communes scattered in their cell.
    side = int(np.ceil(np.sqrt(n_dep)))
    dep = _split(n, n_dep)  # equal-sized départements
    cx, cy = (dep % side) / side, (dep // side) / side
    x = cx + rng.random(n) / side
    y = cy + rng.random(n) / side

    # EPCI: within each département, communes sorted along x are cut into contiguous groups.
    epci = np.empty(n, dtype=np.int64)
    next_id = 0
    for d in range(n_dep):
        members = np.flatnonzero(dep == d)
        members = members[np.argsort(x[members], kind="stable")]
        k = max(1, round(len(members) / cfg.communes_per_epci))
        epci[members] = next_id + _split(len(members), k)
        next_id += k
    n_epci = next_id
    region_of_dep = _split(n_dep, n_reg)

    ids = np.arange(n)
    communes = pd.DataFrame(
        {
            "code": [f"C{i:05d}" for i in ids],
            "name": [f"Commune {i}" for i in ids],
            "kind": "commune",
            "population": pop,
            "dep": dep,
            "reg": region_of_dep[dep],
            "epc": epci,
            "x": x,
            "y": y,
        }
    )
    groups = []
    for kind, key, prefix, label in (
        ("epci", "epc", "E", "EPCI"),
        ("departement", "dep", "D", "Département"),
        ("region", "reg", "R", "Région"),
    ):
        g = (
            communes.groupby(key)
            .agg(
                population=("population", "sum"),
                dep=("dep", "first"),
                reg=("reg", "first"),
                epc=("epc", "first"),
                x=("x", "mean"),
                y=("y", "mean"),
            )
            .reset_index(drop=True)
        )
        g["code"] = [f"{prefix}{int(v):04d}" for v in g[key]]
        g["name"] = [f"{label} {int(v)}" for v in g[key]]
        g["kind"] = kind
        groups.append(g[communes.columns])
    table = pd.concat([communes, *groups], ignore_index=True)
    table["departement"] = [f"D{v:04d}" for v in table["dep"]]
    table["region"] = [f"R{v:04d}" for v in table["reg"]]
    table["epci"] = np.where(table["kind"].isin(["commune", "epci"]), [f"E{v:04d}" for v in table["epc"]], "")
    assert n_epci == (table["kind"] == "epci").sum()
    return table[["code", "name", "kind", "population", "departement", "region", "epci", "x", "y"]]
