"""The outcome measures on constructed inputs whose value is known by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim import metrics
from sim.model import TransitionModel
from sim.processes import drivers
from tests.conftest import small_config


def test_gini_of_known_distributions_whatever_their_order():
    assert metrics.gini(np.array([1.0, 1.0, 1.0, 1.0])) == 0.0
    # One holds everything among n: (n - 1) / n.
    assert metrics.gini(np.array([0.0, 0.0, 0.0, 4.0])) == pytest.approx(0.75)
    assert metrics.gini(np.array([4.0, 0.0, 0.0, 0.0])) == pytest.approx(0.75)  # unsorted input
    # 1, 2, 3, 4: sum |xi - xj| over ordered pairs = 20, / (2 n^2 mean) = 20 / 80 = 0.25.
    assert metrics.gini(np.array([3.0, 1.0, 4.0, 2.0])) == pytest.approx(0.25)
    assert metrics.gini(np.array([])) == 0.0


def test_theil_and_its_between_within_decomposition():
    x = np.array([1.0, 1.0, 3.0, 3.0])
    # mean 2: (1/4) * sum (x/2) ln(x/2) = 0.5 * (0.5 ln 0.5 + 1.5 ln 1.5)
    expected = 0.5 * (0.5 * math.log(0.5) + 1.5 * math.log(1.5))
    assert metrics.theil(x) == pytest.approx(expected)
    # Groups equal inside: everything is between groups.
    between, within = metrics.theil_decomposition(x, np.array([0, 0, 1, 1]))
    assert between == pytest.approx(expected) and within == pytest.approx(0.0)
    # Groups with the same mean: everything is within groups.
    between, within = metrics.theil_decomposition(x, np.array([0, 1, 0, 1]))
    assert between == pytest.approx(0.0) and within == pytest.approx(expected)
    # In general the two parts add up to the whole.
    rng = np.random.default_rng(0)
    y, g = rng.random(200) + 0.01, rng.integers(0, 5, 200)
    b, w = metrics.theil_decomposition(y, g)
    assert b + w == pytest.approx(metrics.theil(y)) and b > 0 and w > 0


def test_top_decile_gap():
    x = np.arange(1.0, 21.0)  # 1..20: top decile 19, 20 (mean 19.5); rest 1..18 (mean 9.5)
    assert metrics.top_decile_gap(np.random.default_rng(1).permutation(x)) == pytest.approx(10.0)
    assert math.isnan(metrics.top_decile_gap(np.arange(5.0)))


def _collect(model):
    model.records.clear()
    metrics.collect(model)
    return {r[4]: r[5] for r in model.records if r[2] == "all"}


def test_size_and_rural_urban_gaps_have_the_documented_signs():
    model = TransitionModel(small_config(n_communes=200))
    c = model.colls
    communes = c.kind == 0
    top, bottom = c.pop_band[communes].max(), c.pop_band[communes].min()
    c.maturity[:] = 0.3
    c.maturity[communes & (c.pop_band == top)] = 0.8  # the largest band ahead
    c.maturity[communes & (c.pop_band == bottom)] = 0.1
    assert _collect(model)["gap_size"] == pytest.approx(0.7)  # largest band minus smallest band
    c.maturity[communes & ~c.rural] = 0.8
    c.maturity[communes & c.rural] = 0.1
    assert _collect(model)["gap_rural_urban"] == pytest.approx(0.7)  # urban minus rural


def test_shares_of_staff_and_inhabitants_on_a_constructed_state():
    model = TransitionModel(small_config(n_communes=40))
    st, c = model.staff, model.colls
    rows = st.active_rows()
    st.skill[rows] = 0.0
    st.skill[rows[: len(rows) // 4]] = 1.0  # a quarter up to date, the rest in illectronism
    c.excluded[:] = 0.0
    communes = np.flatnonzero(c.kind == 0)
    c.excluded[communes[0]] = 1.0
    values = _collect(model)
    assert values["staff_proficient_share"] == pytest.approx((len(rows) // 4) / len(rows))
    assert values["staff_illectronism_share"] == pytest.approx(1 - (len(rows) // 4) / len(rows))
    pop = c.population[communes]
    assert values["inhabitants_excluded_share"] == pytest.approx(pop[0] / pop.sum())


def test_the_budget_cut_applies_only_after_its_year():
    cfg = small_config(years=4, drivers={"budget_cut": True, "budget_cut_year": 2023.0, "budget_cut_share": 0.2})
    model = TransitionModel(cfg)
    factors = {}
    for year in (2022.75, 2023.0, 2023.25):
        model.year = year
        drivers.step(model)
        factors[year] = model.budget_factor
    assert factors[2022.75] == factors[2023.0] == 1.0 and factors[2023.25] == pytest.approx(0.8)
