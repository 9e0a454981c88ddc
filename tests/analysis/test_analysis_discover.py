"""analysis.discover: PRIM boxes and feature scores recover conditions built into the data."""

from __future__ import annotations

import fake_runs as fr
import numpy as np
import pandas as pd
import pytest

pytest.importorskip("ema_workbench", reason="the discovery extra (ema-workbench) is not installed")

from analysis.cli import main
from analysis.compare import run_outcomes
from analysis.discover import beats_cases, discover, threshold_cases
from analysis.load import load


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    return fr.make_discovery_sweep(tmp_path_factory.mktemp("disc"))


@pytest.fixture(scope="module")
def outcomes(sweep):
    return run_outcomes(load(sweep)[0])


def test_prim_finds_a_box_built_into_random_cases():
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.uniform(0, 1, 600), "b": rng.uniform(0, 1, 600), "c": rng.uniform(0, 1, 600)})
    y = ((x["a"] > 0.6) & (x["b"] < 0.4)).to_numpy()
    d = discover(x, y, density=0.9)
    box = d.boxes[0]
    lims = box.limits.set_index("input")
    assert set(lims.index) == {"a", "b"}  # the irrelevant input is not restricted
    assert lims.loc["a", "low"] == pytest.approx(0.6, abs=0.05) and lims.loc["b", "high"] == pytest.approx(
        0.4, abs=0.05
    )
    assert box.coverage > 0.8 and box.density >= 0.9
    assert list(d.scores["input"][:2]) in (["a", "b"], ["b", "a"])
    assert d.scores["score"].iloc[2] < d.scores["score"].iloc[1] / 2


def test_beats_cases_pair_runs_on_seed_and_inputs(outcomes):
    x, y, gain = beats_cases(outcomes, "good", "business_as_usual", "maturity_gini")
    assert list(x.columns) == ["behaviour.training_effect", "mutualisation.coverage"]
    assert len(x) == 6 * 6 * 2  # one case per cell and seed
    expected = [fr.discovery_gain(e, c) > 0 for e, c in zip(x.iloc[:, 0], x.iloc[:, 1], strict=True)]
    assert y.tolist() == expected
    assert gain.max() == pytest.approx(0.05)  # lower Gini is better: the gain is positive


def test_threshold_cases(outcomes):
    x, y, values = threshold_cases(outcomes, "maturity_gini<0.37", scenario="good")
    assert len(x) == 72 and y.sum() == int((values < 0.37).sum()) > 0
    with pytest.raises(ValueError, match="look like"):
        threshold_cases(outcomes, "maturity_gini about 0.3")


def test_discover_command_writes_boxes_scores_and_figures(sweep, tmp_path, capsys):
    out = tmp_path / "disc"
    code = main(["discover", str(sweep), "--beats", "good", "--over", "business_as_usual", "--metric",
                 "maturity_gini", "-o", str(out), "--density", "0.9"])  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "When does good do better than business_as_usual" in text and "Box 1: coverage" in text
    boxes = pd.read_csv(out / "boxes.csv").set_index("input")
    grid = [round((i + 0.5) / 6, 4) for i in range(6)]
    effect, coverage = boxes.loc["behaviour.training_effect"], boxes.loc["mutualisation.coverage"]
    # the box holds exactly the grid values where good beats the baseline (effect > 0.5, coverage < 0.5)
    assert [effect["low"] <= v <= effect["high"] for v in grid] == [v > 0.5 for v in grid]
    assert [coverage["low"] <= v <= coverage["high"] for v in grid] == [v < 0.5 for v in grid]
    assert boxes["density"].iloc[0] == 1.0 and boxes["coverage"].iloc[0] == 1.0
    scores = pd.read_csv(out / "feature_scores.csv")
    assert set(scores["input"]) == {"behaviour.training_effect", "mutualisation.coverage"}
    for name in ("box1_tradeoff.png", "box1_limits.svg", "feature_scores.png", "summary.txt", "cases.csv"):
        assert (out / name).stat().st_size > 0


def test_discover_command_errors_are_clear(sweep, capsys):
    assert main(["discover", str(sweep), "--beats", "good", "--metric", "nope"]) == 2
    assert "nope" in capsys.readouterr().err
