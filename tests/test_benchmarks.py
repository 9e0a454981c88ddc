"""The benchmark scripts still run against the model (they are run by hand, `make bench`, so a change
of an interface they wrap would otherwise go unseen): tiny sizes, no timing asserted."""

from __future__ import annotations

import os
import signal

import pytest

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


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads /proc (Linux)")
def test_the_memory_of_a_command_counts_its_children():
    import subprocess
    import sys
    import time

    child = "x = bytearray(150_000_000); import time; time.sleep(30)"  # 150 MB, touched
    parent = f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {child!r}]); time.sleep(30)"
    proc = subprocess.Popen([sys.executable, "-c", parent])

    def own_mb():
        with open(f"/proc/{proc.pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024.0

    try:
        for _ in range(200):  # until the child has its memory (at most 10 s)
            time.sleep(0.05)
            if bench._tree_rss_mb(proc.pid) - own_mb() > 150:
                break
        assert own_mb() < 100  # the parent itself is small...
        assert bench._tree_rss_mb(proc.pid) - own_mb() > 150  # ...its child is counted
    finally:
        with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
            children = [int(c) for c in f.read().split()]
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        proc.kill()
        proc.wait()
