"""The HTML report in a real headless Chromium (Debian's chromium + chromium-driver, installed
by scripts/install.sh test): it loads offline with no console error and no network request,
its plots and table are there, the table sorts, and a screenshot shows a drawn page.

Set LLMOPT_SKIP_BROWSER=1 on a machine without Chromium; CI never does. Set
LLMOPT_UPDATE_SCREENSHOT=1 to refresh docs/report.png from this test's page.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import llmopt

DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "report.png"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if os.environ.get("LLMOPT_SKIP_BROWSER") == "1":
        pytest.skip("LLMOPT_SKIP_BROWSER=1")
    driver_path = shutil.which("chromedriver")
    assert driver_path and shutil.which("chromium"), "run `bash scripts/install.sh test` (it installs chromium and chromium-driver)"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,4600"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def page(report_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    with llmopt.load_study("report-demo", storage=str(report_db)) as study:
        return study.write_report(tmp_path_factory.mktemp("page") / "report.html")


def test_report_loads_offline_with_its_plots_and_no_errors(browser, page: Path, report_db: Path, tmp_path: Path) -> None:
    driver = browser
    driver.get(page.as_uri())
    driver.implicitly_wait(5)
    ready = driver.execute_script("return document.readyState")
    assert ready == "complete"

    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe
    requests = [json.loads(e["message"])["message"] for e in driver.get_log("performance")]
    urls = {m["params"]["request"]["url"] for m in requests if m["method"] == "Network.requestWillBeSent"}
    assert {u for u in urls if not u.startswith(("data:", "blob:"))} == {page.as_uri()}, urls  # the page itself, nothing else

    count = lambda css: driver.execute_script(f"return document.querySelectorAll({css!r}).length")  # noqa: E731
    for plot in ("pareto", "pairs", "hypervolume", "importance", "effects"):
        assert count(f"#plot-{plot} .main-svg") >= 1, f"plot {plot} was not drawn"
    with llmopt.load_study("report-demo", storage=str(report_db)) as study:
        front, trials = study.pareto_front(), study.trials
    drawn = [t for t in trials if t.values]  # COMPLETE and PRUNED trials with values are points
    assert count("#plot-pareto .scatterlayer .point") >= len(drawn)
    legend = driver.execute_script("return Array.from(document.querySelectorAll('#plot-pareto .legendtext')).map(e => e.textContent)")
    failed = sum(t.state.value == "FAILED" for t in trials)
    assert f"Pareto front ({len(front)})" in legend and f"failed: {failed} (no values)" in legend, legend
    assert count("#front-table tbody tr") == len(front)

    column = driver.execute_script(
        "return Array.from(document.querySelectorAll('#front-table th')).findIndex(th => th.textContent === 'cost')")
    assert column >= 0
    driver.find_elements("css selector", "#front-table th")[column].click()
    shown = driver.execute_script(
        f"return Array.from(document.querySelectorAll('#front-table tbody tr')).map(r => parseFloat(r.cells[{column}].dataset.v))")
    assert shown == sorted(shown) and len(shown) == len(front)  # cheapest first after one click

    shot = tmp_path / "report.png"
    driver.execute_script("window.scrollTo(0, 0)")
    assert driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 50_000  # a drawn page, not a blank one (a blank 1280x4600 PNG is a few KB)
    if os.environ.get("LLMOPT_UPDATE_SCREENSHOT") == "1":
        shutil.copy(shot, DOCS_SHOT)
