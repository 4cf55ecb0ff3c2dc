"""The demo's report opened in headless Chromium (Debian's, installed by scripts/setup.sh), read through WebDriver."""

import base64
import math
import shutil
from datetime import UTC, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rollwise.cli import app

pytestmark = pytest.mark.slow  # a browser test: headless Chromium

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "build" / "test-artefacts"
WIDTH = 1280


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    directory = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(app, ["demo", "--dir", str(directory), "--quiet"])
    assert result.exit_code == 0, result.output
    return directory


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        pytest.fail("chromium and chromedriver are missing: scripts/setup.sh installs them (Debian's chromium, chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--window-size={WIDTH},1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def page(demo, browser):
    browser.get((demo / "report.html").as_uri())
    assert browser.title.startswith("rollwise report")
    return browser


def stored_run_totals(directory):
    """The figures of every window aggregate the demo's merge job stored, read through the job's own read path."""
    from rollwise import objects
    from rollwise.demo import DEMO_DAYS, DEMO_MONTH
    from rollwise.periods import days_between
    from rollwise.runs.layout import Layout
    from rollwise.runs.read import aggregates_of_day

    store = objects.open_store((directory / "runs-bucket").as_uri())
    layout = Layout.under()  # the demo's: the default root
    docs = [d for day in days_between(DEMO_MONTH, DEMO_MONTH + timedelta(days=DEMO_DAYS - 1)) for d in aggregates_of_day(store, layout, day)]
    return {k: sum(d["stats"][k] for d in docs) for k in ("files", "opportunities_processed", "matches", "no_matches", "errors")}


def test_the_run_totals_shown_are_those_stored(page, demo):
    from selenium.webdriver.common.by import By

    (totals,) = page.find_elements(By.CSS_SELECTOR, "table.totals")
    names = [th.text for th in totals.find_elements(By.TAG_NAME, "th")]
    shown = [int(td.text.replace(",", "")) for td in totals.find_elements(By.TAG_NAME, "td")]
    expected = stored_run_totals(demo)
    assert dict(zip(names, shown, strict=True)) == {k.replace("_", " "): v for k, v in expected.items()}
    assert expected["files"] > 400  # the demo's files, counted once each


def test_every_chart_has_marks(page):
    charts = page.execute_script("""
        return Array.from(document.querySelectorAll('svg')).map(svg => ({
            bars: svg.querySelectorAll('rect').length,
            lines: svg.querySelectorAll('polyline, circle').length,
            height: svg.getBoundingClientRect().height}));""")
    assert len(charts) >= 4
    for i, chart in enumerate(charts):
        assert chart["bars"] + chart["lines"] > 0, f"chart {i} has no marks"
        assert chart["height"] > 100, f"chart {i} is not laid out"


def test_the_page_fits_1280_pixels_without_scrolling_sideways_and_is_kept_as_a_screenshot(page):
    assert page.execute_script("return window.innerWidth") == WIDTH
    assert page.execute_script("return document.documentElement.scrollWidth") <= WIDTH
    height = page.execute_script("return document.documentElement.scrollHeight")
    shot = page.execute_cdp_cmd(
        "Page.captureScreenshot",
        {"format": "png", "captureBeyondViewport": True, "clip": {"x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1}},
    )
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    png = base64.b64decode(shot["data"])
    (ARTEFACTS / "demo-report.png").write_bytes(png)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000


def test_the_health_section_comes_first_and_shows_a_failing_window_a_raw_backlog_and_a_waiting_day(tmp_path, browser):
    import json
    from datetime import datetime

    from selenium.webdriver.common.by import By

    from rollwise.summaries.ingest.recorder import Recorder
    from rollwise.summaries.stores.sqlite import SQLiteSummaryStore

    runner = CliRunner()
    assert runner.invoke(app, ["demo", "--dir", str(tmp_path), "--quiet"]).exit_code == 0
    bucket = tmp_path / "runs-bucket" / "runs"
    # A window whose merge fails on every run (its stored aggregate cannot be read), with 3 files waiting under raw/.
    (bucket / "20261031t1505Z.json").write_text("{ not an aggregate")
    for i in range(3):
        (bucket / "raw" / f"20261031t1501Z_health-{i}.json").write_text(json.dumps({"solicitationNumber": f"H-{i}", "score": 0.9}))
    merged = runner.invoke(app, ["runs", "merge", "--bucket", (tmp_path / "runs-bucket").as_uri(), "--json"])
    assert merged.exit_code == 1 and "20261031t1505Z.json" in merged.output  # it fails, and the files stay
    assert len(list((bucket / "raw").iterdir())) == 3
    # A late execution of Oct 30: that day waits for the next summaries run.
    store = SQLiteSummaryStore(tmp_path / "summaries.db")
    with Recorder(store, now=datetime(2026, 11, 2, tzinfo=UTC)) as rec:
        rec.record(
            {
                "tenant_id": "tenant-000",
                "owner_id": "user-000",
                "metric_type": "document_ocr",
                "execution_id": "late-health",
                "status": "queued",
                "submitted_at": "2026-10-30T10:00:00Z",
            }
        )
    out = tmp_path / "health.html"
    made = runner.invoke(
        app,
        [
            "report",
            "--out",
            str(out),
            "--since",
            "2026-10-01",
            "--until",
            "2026-10-31",
            "--quiet",
            "--store",
            f"sqlite:///{tmp_path / 'summaries.db'}",
            "--bucket",
            (tmp_path / "runs-bucket").as_uri(),
        ],
    )
    assert made.exit_code == 0, made.output

    browser.get(out.as_uri())
    first_section = browser.find_element(By.TAG_NAME, "h2")
    assert first_section.text == "Health"
    rows = {
        tr.find_elements(By.TAG_NAME, "td")[0].text: [td.text for td in tr.find_elements(By.TAG_NAME, "td")[1:]]
        for tr in browser.find_elements(By.CSS_SELECTOR, "table.health tr")
        if tr.find_elements(By.TAG_NAME, "td")
    }
    state, detail = rows["merge: aggregates that cannot be read"]  # the report reads on, and says which
    assert state == "attention" and detail.startswith("runs/20261031t1505Z.json: not a window aggregate")
    state, detail = rows["merge: closed windows not aggregated"]
    assert state == "attention" and detail.startswith("1, the oldest closed") and "2026-10-31 15:00-15:05 (3 files)" in detail
    state, detail = rows["merge: files under raw/"]
    assert state == "attention" and detail.startswith("3, the oldest from 2026-10-31 15:01 UTC")
    assert rows["merge: quarantined files"][0] == "attention" and rows["merge: quarantined files"][1].startswith("4 ")
    state, detail = rows["summaries: days waiting for the next run"]
    assert state == "attention" and detail == "1: 2026-10-30 (1 shard)"
    assert rows["summaries: last day aggregated"] == ["ok", "2026-10-31"]
    assert browser.execute_script("return document.documentElement.scrollWidth") <= WIDTH


def test_each_tenants_headline_figures_are_those_stored(page, demo):
    from selenium.webdriver.common.by import By

    from rollwise.demo import DEMO_DAYS, DEMO_MONTH
    from rollwise.summaries.stores.sqlite import SQLiteSummaryStore

    store = SQLiteSummaryStore(demo / "summaries.db")
    last = DEMO_MONTH + timedelta(days=DEMO_DAYS - 1)
    headlines = page.find_elements(By.CSS_SELECTOR, "table.headline")
    tenants = [h.text.removeprefix("Tenant ") for h in page.find_elements(By.TAG_NAME, "h3") if h.text.startswith("Tenant ")]
    assert len(headlines) == len(tenants) == 3
    for tenant, table in zip(tenants, headlines, strict=True):
        names = [th.text for th in table.find_elements(By.TAG_NAME, "th")]
        shown = dict(zip(names, (td.text for td in table.find_elements(By.TAG_NAME, "td")), strict=True))
        # read another way than the report does: the tenant's index, not the day partitions
        days = list(store.query_summaries(tenant, "daily", since=DEMO_MONTH, until=last, owner_id="__tenant__"))
        for name, field in (("executions", "submission_count"), ("throttled", "throttled_count"), ("rejected", "rejected_count")):
            assert shown[name].split(" ")[0] == f"{sum(d.figures[field] for d in days):,}", (tenant, name)
        finished = sum(d.figures[f] for d in days for f in ("success_count", "failure_count", "cancelled_count", "timeout_count"))
        assert shown["success rate %"].split(" ")[0] == f"{100 * sum(d.figures['success_count'] for d in days) / finished:,.1f}"
        assert float(shown["p95 duration ms"].split(" ")[0].replace(",", "")) > 0


def test_value_axes_have_round_ticks(page):
    ticks = page.execute_script("""
        return Array.from(document.querySelectorAll('svg')).map(svg =>
            Array.from(svg.querySelectorAll('text[text-anchor="end"]')).map(t => t.textContent));""")
    for labels in ticks:
        values = [float(v[:-1]) * 1000 if v.endswith("k") else float(v[:-1]) * 1e6 if v.endswith("M") else float(v) for v in labels]
        steps = {round(b - a, 9) for a, b in pairwise(values)}
        assert values[0] == 0 and len(steps) == 1, labels
        step = steps.pop()
        mantissa = step / 10 ** math.floor(math.log10(step) + 1e-9)
        assert any(abs(mantissa - m) < 1e-6 for m in (1, 2, 2.5, 5, 10)), labels
