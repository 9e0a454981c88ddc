"""The calibrate and robustness commands explain themselves and reject bad input clearly."""

from __future__ import annotations

import pytest

from analysis.cli import build_parser, main


@pytest.mark.parametrize("command", ["calibrate", "robustness"])
def test_help_describes_the_command(command, capsys):
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([command, "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text
    assert "ensemble" in text


def test_calibrate_rejects_a_parameter_without_prior(capsys, tmp_path):
    code = main(["calibrate", "--out", str(tmp_path), "--params", "territory.n_communes", "--dry-run"])
    assert code == 2
    assert "has no prior" in capsys.readouterr().err


def test_calibrate_rejects_validation_targets(capsys, tmp_path):
    code = main(["calibrate", "--out", str(tmp_path), "--targets", "odf_open_data_2022", "--dry-run"])
    assert code == 2
    assert "not tagged 'calibration'" in capsys.readouterr().err
