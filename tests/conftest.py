"""Shared fixtures: small configurations that run in a fraction of a second."""

from __future__ import annotations

import dataclasses

import pytest

from sim.config import Config, SimulationConfig, TerritoryConfig


def small_config(n_communes: int = 60, years: int = 2, seed: int = 0, **groups) -> Config:
    """A small synthetic territory, no progress bar, no figures; override groups with dicts."""
    cfg = Config(
        seed=seed,
        territory=TerritoryConfig(n_communes=n_communes),
        simulation=SimulationConfig(years=years, progress=False, figures=False),
    )
    for group, values in groups.items():
        setattr(cfg, group, dataclasses.replace(getattr(cfg, group), **values))
    return cfg


@pytest.fixture
def cfg() -> Config:
    return small_config()
