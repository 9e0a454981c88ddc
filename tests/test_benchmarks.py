"""The benchmark scripts still run against the model (they are run by hand, `make bench`, so a change
of an interface they wrap would otherwise go unseen): tiny sizes, no timing asserted."""

from __future__ import annotations

from benchmarks import bench
from benchmarks.results import keyed, write_results


def test_the_vectorised_and_reference_models_step_side_by_side_and_agree():
    row = bench.worker_ratio("60", steps=2, seed=0)
    assert row["steps"] == 2 and row["communes"] == 60 and row["staff"] > 0
    assert row["identical"] is True  # the per-agent reference gives the same bits
    assert row["vectorised_s_per_step"] > 0 and row["reference_s_per_step"] > 0


def test_results_are_written_as_markdown_and_a_long_csv(tmp_path, capsys):
    md = write_results(tmp_path, "demo", "| a |", [("machine", "cores", 2), *keyed("t", {"x": {"y": 1}})])
    assert md.read_text() == "| a |"
    assert md.with_suffix(".csv").read_text().splitlines() == [
        "table,key,value",
        "machine,cores,2",
        't,x,"{""y"": 1}"',
    ]
    assert "| a |" in capsys.readouterr().out
