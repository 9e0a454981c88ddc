"""analysis.report: one self-contained HTML file a director can read, with the computed numbers,
formatted for people, in English or French."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import fake_runs as fr
import pytest

from analysis.report import build_report, collect, fmt, fmt_interval, render

NB = "\u00a0"  # numbers and units are kept together by no-break spaces
MINUS = "\u2212"


class _Tags(HTMLParser):
    """Collects tags and their attributes to check what the page would fetch."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def text_of(page: str) -> str:
    """The page's text without tags (entities decoded)."""
    import html

    return re.sub(r"[ \n\t]+", " ", html.unescape(re.sub(r"<[^>]+>", "", page)))


@pytest.fixture(scope="module")
def report_html(sweep_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.html"
    build_report(sweep_root, out)
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def report_fr(sweep_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("report_fr") / "rapport.html"
    build_report(sweep_root, out, lang="fr", figures=False)
    return out.read_text(encoding="utf-8")


def test_report_is_self_contained(report_html):
    parser = _Tags()
    parser.feed(report_html)
    tags = {t for t, _ in parser.tags}
    assert "script" not in tags and "link" not in tags and "iframe" not in tags
    for tag, attrs in parser.tags:
        for key in ("src", "href"):
            value = attrs.get(key)
            if value is not None:
                assert value.startswith(("data:", "#")), (tag, value)
    assert "http://" not in report_html and "https://" not in report_html
    assert "<style>" in report_html and "@page{size:A4" in report_html


def test_report_opens_on_a_summary_then_caveats_then_figures(report_html):
    positions = [report_html.index(f'id="{k}"') for k in ("summary", "caveats", "figures", "territory", "tables")]
    assert positions == sorted(positions)
    text = text_of(report_html)
    assert "Not a forecast" in text and "seed noise only" in text
    assert "same seed = same territory" in text


def test_summary_says_who_does_best_by_how_much_how_sure_and_at_what_cost(report_html):
    summary = text_of(report_html.split('id="caveats"')[0])
    # adoption: training_first, maturity +0.06 (paired t interval 0.0512..0.0688), better in every seed,
    # 8,000 EUR more for 6 points of maturity: 1.3 k EUR per point
    assert "Adoption: Training first does best" in summary
    assert "Mean digital maturity +0.060 [+0.051, +0.069]" in summary
    assert "better in 5 of 5 seeds" in summary and "interval excludes zero" in summary
    assert f"1.3{NB}k{NB}EUR per point" in summary
    # every fracture dimension, each with its best scenario: mediation for inhabitants excluded (15 % -> 8 %)
    assert f"Inhabitants excluded from e-services: Digital mediation {MINUS}7.0{NB}pp" in summary
    assert f"571{NB}EUR per point" in summary  # 4,000 EUR for 7 points
    assert "Multi-criteria ranking" in summary and "Training first (0.55)" in summary


def test_report_embeds_real_png_figures(report_html):
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', report_html)
    # differences (adoption, fracture, cost), 2 differences over time, 2 levels over time, bands, 2 maps
    assert len(images) == 10
    for img in images:
        data = base64.b64decode(img)
        assert data.startswith(b"\x89PNG") and len(data) > 10_000


def test_tables_show_people_formats(report_html):
    text = text_of(report_html)
    assert "0.310" in text and "[0.290, 0.330]" in text  # baseline maturity and its t interval
    assert f"20.0{NB}%" in text and f"[18.0{NB}%, 22.0{NB}%]" in text  # staff in illectronism, a share
    assert f"+8.0{NB}k{NB}EUR" in text  # training_first's extra cost over the run (12,000 - 4,000)
    assert "maturity_gini" not in text.split("Runs loaded")[0]  # no raw metric names before the annexes


def test_french_report(report_fr):
    text = text_of(report_fr)
    assert '<html lang="fr">' in report_fr
    assert "Synthèse" in text and "Pas une prévision" in text
    assert f"20,0{NB}%" in text and "0,310" in text
    assert f"{MINUS}7,0{NB}pt" in text  # exclusion: points de pourcentage
    assert f"571{NB}€ par point" in text
    assert "mieux pour 5 graines sur 5" in text


def test_report_lists_skipped_runs_with_reasons(report_html):
    assert "Skipped runs" in report_html
    assert "15 of 19 runs loaded" in report_html
    for job, words in ((15, "sha256"), (16, "sha256"), (17, "budget must be &gt;= 0"), (18, "no manifest.json")):
        row = re.search(rf"<td>multirun/2026-11-23/17-45-00/{job}</td>(.*?)</tr>", report_html, re.DOTALL)
        assert row is not None and words in row.group(1)


def test_report_csv_downloads_hold_the_tables(report_html):
    links = dict(re.findall(r'download="([^"]+)" href="data:text/csv;base64,([^"]+)"', report_html))
    assert {"summary.csv", "differences.csv", "ranking.csv", "cost_per_point.csv", "skipped_runs.csv"} <= set(links)
    summary = base64.b64decode(links["summary.csv"]).decode()
    assert summary.splitlines()[0] == "scenario,metric,n,mean,sd,ci_low,ci_high"
    assert "baseline,maturity_mean,5,0.31" in summary


def test_without_a_baseline_the_report_says_so(tmp_path):
    root = tmp_path / "nobase"
    fr.make_sweep(root, scenarios=("training_first", "mediation"), bad=())
    out = build_report(root, tmp_path / "r.html", figures=False)
    html = out.read_text(encoding="utf-8")
    assert "No baseline given" in html and "--baseline" in html


def test_grid_sweep_gives_heatmaps(grid_root):
    data = collect(grid_root, metrics=["maturity_mean"])
    assert data.design.kind == "grid"
    assert any("training.budget_eur_per_agent" in caption for caption, _ in data.figures)


def test_baseline_option_compares_level_by_level(grid_root):
    data = collect(
        grid_root, by=["training.budget_eur_per_agent"], baseline=0, metrics=["maturity_mean"], figures=False
    )
    assert data.design.panels == ["mediation.coverage"]
    d = data.differences.set_index(["mediation.coverage", "training.budget_eur_per_agent"])["diff"]
    assert d.to_dict() == pytest.approx({(0.1, 100): 0.1, (0.1, 200): 0.2, (0.2, 100): 0.1, (0.2, 200): 0.2})
    assert "differences against 0" in text_of(render(data))


def test_equal_budget_report_by_level_with_one_shared_baseline(tmp_path):
    root = fr.make_equal_budget_sweep(tmp_path)
    data = collect(root, figures=False)
    assert data.design.shared_baseline and data.design.panels == ["equal_budget_eur_per_staff"]
    assert (data.differences["n_baseline"] == 3).all()  # the three identical copies count once
    text = text_of(render(data))
    assert "counted once" in text
    for level in ("50", "100", "200"):
        assert f"{level}{NB}EUR per staff a year" in text
    # at 200 EUR, mutualisation (+0.03 per 100 EUR) does best on adoption: +0.060
    summary = text.split("Not a forecast")[0]
    assert summary.index(f"50{NB}EUR per staff") < summary.index(f"100{NB}EUR per staff") < summary.index(f"200{NB}EUR")
    at_200 = summary.split(f"200{NB}EUR per staff a year")[1]
    assert "Equal budget: mutualisation does best: Mean digital maturity +0.060" in at_200


def test_empty_folder_still_gives_a_report(tmp_path):
    out = build_report(tmp_path, tmp_path / "r.html")
    html = out.read_text(encoding="utf-8")
    assert "0 of 0 runs loaded" in html and "No complete run" in html


def test_number_formats():
    assert fmt(12000.4, "cum_spend_total_eur") == "12,000"
    assert fmt(0.123456) == "0.1235"
    assert fmt(float("nan")) == ""
    assert fmt(True) == "yes"
    assert fmt_interval(0.31, 0.2903676, 0.3296324) == "0.31 [0.2904, 0.3296]"
    assert fmt_interval(1.0, float("nan"), float("nan")) == "1"
    assert fr.N_STEPS == 4  # the numbers above assume the fake sweep's 4 steps
