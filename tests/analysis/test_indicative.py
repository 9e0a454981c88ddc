"""experiments/indicative.py: the indicative table of docs/SCENARIOS.md is written from the
robustness tables, between its markers, and nothing else of the document changes."""

from __future__ import annotations

import pandas as pd

from experiments import indicative


def _table() -> pd.DataFrame:
    rows = []
    for scenario, diff, better in [("mediation", -0.05, 1.0), ("training", 0.002, 0.6)]:
        rows.append(
            {
                "metric": "inhabitants_excluded_share",
                "scenario": scenario,
                "baseline": "business_as_usual",
                "p_better": better,
                "mean_diff": diff,
                "param_lo": diff * 2,
                "param_hi": diff / 2,
                "share_param": 0.9,
            }
        )
    # a scenario that leaves the outcome as it is under every parameter set, and a cost
    rows.append({**rows[0], "scenario": "leadership", "mean_diff": 0.0, "param_lo": 0.0, "param_hi": 0.0, "p_tie": 1.0})
    rows.append(
        {
            **rows[0],
            "metric": "cum_spend_levers_eur",
            "mean_diff": 3e7,
            "param_lo": 2e7,
            "param_hi": 4e7,
            "p_better": 0.0,
        }
    )
    return pd.DataFrame(rows)


def test_the_table_replaces_only_what_lies_between_the_markers(tmp_path):
    robust = tmp_path / "robust"
    robust.mkdir()
    _table().to_csv(robust / "versus_baseline.csv", index=False)
    doc = tmp_path / "SCENARIOS.md"
    doc.write_text(f"# Title\n\nbefore\n\n{indicative.BEGIN}\nold text\n{indicative.END}\n\nafter\n")
    args = [str(robust), "--doc", str(doc), "--metrics", "inhabitants_excluded_share", "cum_spend_levers_eur"]
    assert indicative.main(args) == 0
    text = doc.read_text()
    assert text.startswith("# Title\n\nbefore\n\n") and text.endswith("\n\nafter\n")
    assert "old text" not in text
    inside = text.split(indicative.BEGIN)[1].split(indicative.END)[0]
    # one row per scenario: the mean difference in points (typographic minus), its range, the share better
    assert "| `mediation` | \u22125.0\u00a0pp (\u221210.0\u00a0pp to \u22122.5\u00a0pp) · 100% |" in inside
    assert "| `training` | +0.2\u00a0pp (+0.4\u00a0pp to +0.1\u00a0pp) · 60% |" in inside
    assert "| `leadership` | none (identical runs) |" in inside
    eur = "+30\u00a0M\u00a0EUR (+20\u00a0M\u00a0EUR to +40\u00a0M\u00a0EUR)"
    assert f"{eur} |" in inside and f"{eur} ·" not in inside  # no share for costs
    assert "business_as_usual" in inside and "median 90%" in inside
    # rerunning gives the same document (the markers are kept)
    assert indicative.main(args) == 0
    assert doc.read_text() == text


def test_missing_tables_or_markers_are_refused_with_a_message(tmp_path, capsys):
    doc = tmp_path / "SCENARIOS.md"
    doc.write_text("no markers\n")
    assert indicative.main([str(tmp_path), "--doc", str(doc)]) == 2
    assert "versus_baseline.csv" in capsys.readouterr().err
    _table().to_csv(tmp_path / "versus_baseline.csv", index=False)
    assert indicative.main([str(tmp_path), "--doc", str(doc)]) == 2
    assert "markers" in capsys.readouterr().err
    assert doc.read_text() == "no markers\n"


def test_the_provenance_line_is_read_from_the_runs(tmp_path):
    import fake_runs as fr

    sweep = fr.make_robust_sweep(tmp_path)
    line = indicative.provenance(sweep)
    runs = len(fr.ROBUST_TRAINING_EFFECT) * len(fr.ROBUST_SPEND) * 2
    assert line.startswith(f"{runs} runs: {len(fr.ROBUST_TRAINING_EFFECT)} parameter sets of ")
    assert f"`{fr.ROBUST_ENSEMBLE['path']}` (version {fr.ROBUST_ENSEMBLE['version']}) x 2 seeds" in line
    # the fake runs' territory says only its size: that is written, nothing more is claimed
    assert line.endswith("1 year of policy, territory of 40 communes.") and "None" not in line
