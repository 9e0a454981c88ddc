"""The dashboard served by ``python -m sim.dashboard`` and used in headless Chromium.

Starts the server on a free localhost port, drives the page with Playwright (Debian's
``/usr/bin/chromium``; no browser download), and checks what a user sees: the step and year,
headline values, the refusal of an invalid input. Screenshots go to ``test-artifacts/``.

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
            page.goto(server["url"])
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
    field = page.get_by_label(label, exact=True)
    field.fill(text)
    field.press("Enter")  # Solara's InputText commits on Enter or when the field loses focus


def _choose(page, label: str, option: str) -> None:
    page.locator(".v-select").filter(has=page.get_by_text(label, exact=True)).click()
    page.locator(".menuable__content__active .v-list-item").filter(
        has_text=re.compile(rf"^\s*{re.escape(option)}\s*$")
    ).click()


def _expect_text(page, css: str, pattern: str):
    from playwright.sync_api import expect

    expect(page.locator(css)).to_have_text(re.compile(pattern))
    return page.locator(css).inner_text()


def test_a_policy_user_sets_levers_runs_the_model_and_is_told_about_bad_input(page, server):
    from playwright.sync_api import expect

    button = lambda name: page.get_by_role("button", name=name, exact=True)

    # The page: the default territory (1,000 communes), ten years by quarter, the map and charts.
    _expect_text(page, ".dash-step", r"^Step 0 / 40 · year 2021\.00$")
    for css in (".dash-map img", ".dash-bands img", ".dash-categories img", ".dash-services img", ".dash-spend img"):
        expect(page.locator(css)).to_be_visible()
    assert page.locator(".dash-value-spend_levers_eur").inner_text() == "0 EUR"

    # Levers: a training budget (free text) and a modality (select), then Reset rebuilds the model.
    _set_text(page, "Training budget (EUR/staff/yr)", "300")
    _choose(page, "Training modality", "tutoring")
    button("Reset").click()
    _expect_text(page, ".dash-overrides", r"training\.modality=tutoring training\.budget_eur_per_staff=300\.0")
    _expect_text(page, ".dash-step", r"^Step 0 / 40")
    start = page.locator(".dash-start-maturity_mean").inner_text()
    map_before = page.locator(".dash-map img").screenshot()

    # Step by step: the year, the headline values, the spending and the map change.
    t0 = time.monotonic()
    for k in range(1, 4):
        button("Step").click()
        _expect_text(page, ".dash-step", rf"^Step {k} / 40 · year {2021 + k / 4:.2f}$")
        expect(page.locator(f".dash-map img.dash-at-{k}")).to_be_visible()
    seconds_per_step = (time.monotonic() - t0) / 3
    assert seconds_per_step < 5, f"a step took {seconds_per_step:.1f} s to show at 1,000 communes"
    assert page.locator(".dash-value-maturity_mean").inner_text() != start
    assert page.locator(".dash-value-spend_levers_eur").inner_text().endswith(("kEUR", "MEUR"))
    assert page.locator(".dash-map img").screenshot() != map_before

    # Play, then pause: the model advances on its own.
    button("▶").click()
    expect(page.locator(".dash-step")).not_to_have_text(re.compile(r"^Step 3 /"))
    button("❚❚").click()
    played = int(re.match(r"Step (\d+)", page.locator(".dash-step").inner_text()).group(1))
    assert played > 3

    # To the end of the horizon.
    page.locator(".dash-run-end").click()
    _expect_text(page, ".dash-step", r"^Step 40 / 40 · year 2031\.00$")
    _expect_text(page, ".dash-done", r"Horizon reached")
    expect(page.locator(".dash-run-end")).to_be_disabled()
    for css in (".dash-map", ".dash-bands", ".dash-categories", ".dash-services", ".dash-spend"):
        expect(page.locator(f"{css} img.dash-at-40")).to_be_visible()  # the charts show the last step too
    shot = _screenshot(page, "dashboard.png")
    assert shot.stat().st_size > 10_000

    # Refused inputs: a word, then a negative budget; the page says why and keeps working.
    _set_text(page, "Training budget (EUR/staff/yr)", "lots")
    button("Reset").click()
    _expect_text(page, ".dash-error-message", r"Training budget \(EUR/staff/yr\): 'lots' is not a number")
    _set_text(page, "Training budget (EUR/staff/yr)", "-5")
    button("Reset").click()
    _expect_text(
        page,
        ".dash-error-message",
        r"training\.budget_eur_per_staff \[Training budget \(EUR/staff/yr\)\]=-5\.0 is below its minimum 0\.0",
    )
    expect(page.locator(".dash-step")).to_have_count(0)
    _screenshot(page, "dashboard-invalid-input.png")

    # Fixed: the model builds again.
    _set_text(page, "Training budget (EUR/staff/yr)", "")
    button("Reset").click()
    _expect_text(page, ".dash-step", r"^Step 0 / 40")
    expect(page.locator(".dash-error-message")).to_have_count(0)

    log = server["log"].read_text()
    assert "Traceback" not in log, log
