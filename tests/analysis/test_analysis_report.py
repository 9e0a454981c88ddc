"""analysis.report: one self-contained HTML file with the numbers, the figures and the skipped runs."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import fake_runs as fr
import pytest

from analysis.report import build_report, collect, fmt, fmt_interval, render


class _Tags(HTMLParser):
    """Collects tags and their attributes to check what the page would fetch."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


@pytest.fixture(scope="module")
def report_html(sweep_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.html"
    build_report(sweep_root, out, metrics=["maturity_mean", "maturity_gini", "cum_spend_total_eur"])
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
    assert "<style>" in report_html


def test_report_embeds_real_png_figures(report_html):
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', report_html)
    # 2 time series + cumulative spending + 3 distributions (with cost) + trade-off + maturity by band
    # + collectivités
    assert len(images) == 9
    for img in images:
        data = base64.b64decode(img)
        assert data.startswith(b"\x89PNG") and len(data) > 10_000


def test_report_shows_the_computed_numbers(report_html):
    # baseline maturity: mean 0.31, t interval [0.2904, 0.3296]
    assert "0.31 [0.2904, 0.3296]" in report_html
    # training_first minus baseline, paired: 0.06 [0.05122, 0.06878]
    assert "0.06 [0.05122, 0.06878]" in report_html
    # cost: 12,000 euros for training_first; 1,333 euros per Gini point
    assert "12,000" in report_html and "1,333" in report_html
    assert "paired t" in report_html
    assert "training_first" in report_html and "mediation" in report_html


def test_report_lists_skipped_runs_with_reasons(report_html):
    assert "Skipped runs" in report_html
    assert "15 of 19 runs loaded" in report_html
    for job, words in ((15, "sha256"), (16, "sha256"), (17, "budget must be &gt;= 0"), (18, "no manifest.json")):
        row = re.search(rf"<td>multirun/2026-11-23/17-45-00/{job}</td>(.*?)</tr>", report_html, re.DOTALL)
        assert row is not None and words in row.group(1)


def test_report_csv_downloads_hold_the_tables(report_html):
    links = dict(re.findall(r'download="([^"]+)" href="data:text/csv;base64,([^"]+)"', report_html))
    assert {"summary.csv", "differences.csv", "ranking.csv", "skipped_runs.csv"} <= set(links)
    summary = base64.b64decode(links["summary.csv"]).decode()
    assert summary.splitlines()[0] == "scenario,metric,n,mean,sd,ci_low,ci_high"
    assert "baseline,maturity_mean,5,0.31" in summary


def test_without_a_baseline_the_report_says_so(grid_root, tmp_path):
    out = tmp_path / "grid.html"
    build_report(grid_root, out, metrics=["maturity_mean"], figures=False)
    html = out.read_text(encoding="utf-8")
    assert "No baseline given" in html
    assert "training.budget_eur_per_agent" in html and "<img" not in html


def test_baseline_option_and_heatmap(grid_root):
    data = collect(grid_root, by=["training.budget_eur_per_agent"], baseline=0, metrics=["maturity_mean"])
    assert data.differences is not None
    assert data.differences["diff"].tolist() == pytest.approx([0.1, 0.2])
    assert any("maturity" in caption and "training.budget_eur_per_agent" in caption for caption, _ in data.figures)
    html = render(data)
    assert "Differences against the baseline" in html


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
