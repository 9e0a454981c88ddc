"""The parameter table (docs/PARAMETERS.md) is generated from sim/config.py and kept up to date."""

from __future__ import annotations

import dataclasses

import pytest

from sim import params
from sim.config import GROUPS, Config, iter_params


def test_every_parameter_has_a_meaning_and_a_source():
    missing = [
        path
        for path, f, _ in iter_params()
        if not f.metadata.get("help", "").strip() or not f.metadata.get("source", "").strip()
    ]
    assert missing == []


def test_committed_parameter_table_is_up_to_date():
    problems = params.check()
    assert problems == [], "\n".join(problems) + "\nrun: python -m sim.params"


def test_table_has_one_row_per_parameter_under_its_group():
    text = params.render()
    paths = [path for path, _, _ in iter_params()]
    assert len(paths) > 100
    for path in paths:
        assert f"| `{path}` |" in text, path
    # Each group's rows sit under that group's heading, in the order of the Config fields.
    positions = [text.index(f"## {params.GROUP_TITLES[g]}\n") for g in GROUPS]
    assert positions == sorted(positions)
    training = text.index("## Policy lever: training\n")
    mutualisation = text.index("## Policy lever: mutualisation")
    assert training < text.index("| `training.modality` |") < mutualisation


def test_table_shows_default_range_unit_and_source():
    text = params.render()
    row = next(line for line in text.splitlines() if line.startswith("| `drivers.online_target` |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "`0.7`"
    assert cells[2] == "0 .. 1"
    assert "seed 000 L47" in cells[6]
    modality = next(line for line in text.splitlines() if line.startswith("| `training.modality` |"))
    assert "`elearning` / `blended` / `tutoring`" in modality
    kinds = next(line for line in text.splitlines() if line.startswith("| `territory.staff_per_1000_inh` |"))
    assert "{commune: 14, epci: 3.95, departement: 4.4, region: 1.23}" in kinds


def test_check_reports_a_stale_file(tmp_path):
    stale = tmp_path / "PARAMETERS.md"
    stale.write_text(params.render().replace("0 .. 1", "0 .. 2", 1), encoding="utf-8")
    assert any("stale" in p for p in params.check(stale))
    assert params.main(["--check", "--out", str(stale)]) == 1
    assert params.main(["--out", str(stale)]) == 0
    assert params.check(stale) == []
    assert params.main(["--check", "--out", str(stale)]) == 0


@pytest.mark.parametrize(
    "source, expected",
    [
        ("seed 000 L47", [("000", 47, 47)]),
        ("seed 002 L2128-2130 (10 %)", [("002", 2128, 2130)]),
        ("assumption; seed 000 L59 (x), seed 002 L1535-1538", [("000", 59, 59), ("002", 1535, 1538)]),
        ("seed 003 L52 (recommendation 11), L54-58 (recommendation 13)", [("003", 52, 52), ("003", 54, 58)]),
        ("seed 003 L52, L54-58", [("003", 52, 52), ("003", 54, 58)]),
        ("DESIGN.md (Territories)", []),
        ("research/anchors.md C.4 (Attour 2013)", []),
    ],
)
def test_citations_are_parsed(source, expected):
    assert params.cited_lines(source) == expected


def test_citation_errors_catch_unknown_seeds_and_lines_out_of_range():
    assert params.citation_errors("seed 000 L117") == []
    assert params.citation_errors("seed 000 L118")
    assert params.citation_errors("seed 001 L3")
    assert params.citation_errors("seed 004 L70-60")


def test_every_seed_citation_of_the_config_is_in_range():
    errors = [(path, e) for path, f, _ in iter_params() for e in params.citation_errors(f.metadata.get("source", ""))]
    assert errors == []
    cited = {seed for _, f, _ in iter_params() for seed, _, _ in params.cited_lines(f.metadata.get("source", ""))}
    assert cited == set(params.SEED_LINES)


def test_groups_cover_every_config_field():
    names = {f.name for f in dataclasses.fields(Config)}
    assert set(GROUPS) <= names
    assert set(params.GROUP_TITLES) == {""} | set(GROUPS)


def test_every_parameter_is_read_by_the_model():
    """No parameter without effect: each one is read (as an attribute or by name) somewhere in the
    model's code outside its declaration (sim/config.py). A dead parameter fails here with its path."""
    import re
    from pathlib import Path

    root = Path(params.__file__).resolve().parent
    code = "\n".join(p.read_text(encoding="utf-8") for p in root.rglob("*.py") if p.name != "config.py")
    unread = [
        path
        for path, _, _ in iter_params()
        if not re.search(r"(\.{0}\b|[\"']{0}[\"'])".format(re.escape(path.rsplit(".", 1)[-1])), code)
    ]
    assert unread == [], f"parameters read nowhere in sim/: {unread}"
