"""The key outcomes of a few configurations match the saved baseline (sim/regression.py).

A model change that moves results fails here until the baseline is regenerated on purpose
(``python -m sim.regression --update``), so that the diff of tests/regression_baseline.json shows
in review what moved and by how much.
"""

from __future__ import annotations

import json

import pytest

from sim import regression


@pytest.mark.parametrize("name", sorted(regression.CONFIGURATIONS))
def test_key_outcomes_match_the_saved_baseline(name):
    saved = json.loads(regression.BASELINE.read_text(encoding="utf-8"))
    diffs = regression.differences({name: saved[name]}, {name: regression.key_outcomes(name)})
    assert diffs == [], "\n".join(diffs) + "\n(regenerate deliberately: python -m sim.regression --update)"


def test_the_comparison_flags_a_five_percent_shift_and_ignores_the_last_bits():
    saved = {"a": {"x": 1.0, "y": 2.0}}
    assert regression.differences(saved, {"a": {"x": 1.05, "y": 2.0}}) == ["a.x: 1 -> 1.05 (+5.00%)"]
    assert regression.differences(saved, {"a": {"x": 1.0 + 1e-12, "y": 2.0}}) == []
    assert regression.differences(saved, {"a": {"x": 1.0}}) == ["a.y: gone"]
