"""The report in a real browser (headless Chromium): no table wider than the page, on screen and in
print, and ``--pdf`` prints A4 pages. Screenshots and the PDF go to ``test-artifacts/`` (git-ignored).

Needs Debian's ``chromium`` (or ``REPORT_CHROMIUM``) and the Python package ``playwright`` (its own
browser download is not used); skipped without them, an error with ``DASHBOARD_REQUIRE_BROWSER=1`` (CI).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import fake_runs as fr
import pytest

from analysis.cli import main
from analysis.report import find_chromium

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
A4_PT = (595.28, 841.89)  # an A4 page in PDF points


def _reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed"
    if find_chromium() is None:
        return "no Chromium on this machine (apt-get install chromium, or set REPORT_CHROMIUM)"
    return None


REASON = _reason()
if REASON and os.environ.get("DASHBOARD_REQUIRE_BROWSER") == "1":
    raise RuntimeError(f"DASHBOARD_REQUIRE_BROWSER=1 but {REASON}")
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The report (and its PDF, through the command line's --pdf) of nine scenarios, in French (longer words)."""
    root = fr.make_many_scenarios(tmp_path_factory.mktemp("many"))
    ARTIFACTS.mkdir(exist_ok=True)
    html = ARTIFACTS / "report.html"
    assert main(["report", str(root), "-o", str(html), "--lang", "fr", "--pdf", str(ARTIFACTS / "report.pdf")]) == 0
    return html


OVERFLOW_JS = """() => {
  const bad = [];
  const body = document.body.getBoundingClientRect();
  for (const t of document.querySelectorAll('table')) {
    const r = t.getBoundingClientRect();
    if (t.scrollWidth > t.parentElement.clientWidth + 1 || r.right > body.right + 1) {
      bad.push(t.rows[0].innerText.slice(0, 80) + ` (${t.scrollWidth} > ${t.parentElement.clientWidth})`);
    }
  }
  for (const img of document.querySelectorAll('img')) {
    if (img.getBoundingClientRect().right > body.right + 1) bad.push('image ' + img.alt.slice(0, 60));
  }
  return {bad, tables: document.querySelectorAll('table').length, width: document.documentElement.scrollWidth,
          viewport: window.innerWidth};
}"""


def test_no_table_wider_than_the_page_on_screen_and_in_print(report):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), headless=True, args=["--no-sandbox"])
        try:
            for width in (1280, 760):  # a desktop window, and a narrow one (half a screen)
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.goto(report.as_uri())
                got = page.evaluate(OVERFLOW_JS)
                assert got["tables"] >= 10
                assert not got["bad"], f"at {width} px: {got['bad']}"
                assert got["width"] <= got["viewport"], "the page scrolls sideways"
                page.screenshot(path=str(ARTIFACTS / f"report-{width}px.png"), full_page=True)
                page.close()
            # print: the A4 page's content width (210 mm minus 2 x 12 mm margins) is about 703 CSS px
            page = browser.new_page(viewport={"width": 703, "height": 1000})
            page.emulate_media(media="print")
            page.goto(report.as_uri())
            got = page.evaluate(OVERFLOW_JS)
            assert not got["bad"], f"in print: {got['bad']}"
            page.pdf(path=str(ARTIFACTS / "report-playwright.pdf"), format="A4", prefer_css_page_size=True)
        finally:
            browser.close()


def test_pdf_export_prints_a4_pages(report):
    pdf = (ARTIFACTS / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert len(boxes) >= 3, "the report should take several pages"
    for w, h in boxes:
        assert float(w) == pytest.approx(A4_PT[0], abs=2) and float(h) == pytest.approx(A4_PT[1], abs=2)
