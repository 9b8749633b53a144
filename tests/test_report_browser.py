"""The report in a real browser: headless Chromium (Debian's) driven by Selenium.

Nothing is downloaded: the driver and the browser are the Debian packages
(scripts/install-system), named explicitly so that Selenium Manager is never
asked to find or fetch one, and Chromium runs with its background networking
off. The page is opened from a file:// URL.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from typer.testing import CliRunner

from megalis_net.cli.main import app
from megalis_net.loader import load_network
from tests.conftest import FIXTURES, ROOT

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
VERIFY = FIXTURES / "report" / "verify-ring-down.json"
CUT_LINK = "ring-quimper-brest"  # down in the fixture
SCREENSHOT_COPY = ROOT / "out" / "report-screenshot.png"  # /out/ is not tracked
FLAGS = (
    "--headless",
    "--no-sandbox",  # runs as root in CI
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--window-size=1200,1000",
)


def require_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if not missing:
        return
    message = f"browser tests need {', '.join(missing)}: scripts/install-system (as root)"
    # CI installs them, so there a missing browser is a failure, never a silent skip.
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebDriver]:
    require_browser()
    # Belt and braces: Selenium Manager is not called with an explicit driver
    # path, but if it ever were, it must not go online.
    monkeypatch.setenv("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(tmp_path / "driver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    try:
        yield driver
    finally:
        driver.quit()  # ends chromedriver and the browser it started


@pytest.fixture
def page(tmp_path: Path) -> Path:
    """The report of the shipped network (3000 sites) with the ring-down verify fixture."""
    out = tmp_path / "report"
    result = CliRunner().invoke(
        app,
        ["--topology", str(ROOT / "topology"), "--inventory", str(ROOT / "inventory"),
         "report", "--out", str(out), "--verify", str(VERIFY)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out / "index.html"


def test_map_in_browser(browser: WebDriver, page: Path, tmp_path: Path) -> None:
    network = load_network(ROOT / "topology", ROOT / "inventory")
    browser.get(page.as_uri())

    links = browser.find_elements(By.CSS_SELECTOR, "#ring-map [data-link]")
    names = [link.get_attribute("data-link") for link in links]
    assert sorted(names) == sorted(link.name for link in network.topology.backbone_links)
    pops = browser.find_elements(By.CSS_SELECTOR, "#ring-map [data-pop]")
    assert sorted(p.get_attribute("data-pop") for p in pops) == sorted(
        p.name for p in network.topology.pops
    )

    # The cut link: marked down, and drawn exactly like the legend's "down" entry.
    cut = browser.find_element(By.CSS_SELECTOR, f'[data-link="{CUT_LINK}"]')
    legend = browser.find_element(By.CSS_SELECTOR, '[data-legend="down"]')
    assert cut.get_attribute("data-state") == "down"
    assert "down" in (cut.get_attribute("class") or "").split()
    for prop in ("stroke", "stroke-dasharray"):
        assert cut.value_of_css_property(prop) == legend.value_of_css_property(prop), prop
    assert cut.value_of_css_property("stroke-dasharray") not in ("", "none")
    # ... and unlike a link that is up.
    up = browser.find_element(By.CSS_SELECTOR, '[data-link="ring-rennes-vannes"]')
    assert up.value_of_css_property("stroke") != cut.value_of_css_property("stroke")
    assert up.value_of_css_property("stroke-dasharray") in ("", "none")

    # Geography: Brest far west, Rennes east, Saint-Malo north-east of Rennes.
    where = {p.get_attribute("data-pop"): p.rect for p in pops}
    assert where["brest"]["x"] == min(r["x"] for r in where.values())
    assert where["rennes"]["x"] > where["vannes"]["x"] > where["brest"]["x"]
    assert where["saint-malo"]["y"] < where["rennes"]["y"]
    assert where["saint-malo"]["x"] > where["saint-brieuc"]["x"]

    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1200, min(int(height) + 40, 4000))
    shot = tmp_path / "report-screenshot.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    SCREENSHOT_COPY.parent.mkdir(exist_ok=True)
    shutil.copy(shot, SCREENSHOT_COPY)
