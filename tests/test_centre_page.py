"""The reference situational-centre page (`/`) on the demo region, in headless Chromium on a
"closed network": the token typed once, the KPIs the API returns, the roadmap, the heatmap,
the sites scatter, the planner's answer, no console errors, a screenshot."""

from __future__ import annotations

import json
import re
import time

import pytest

from hub.cli import main as hub
from tests.browser import ARTIFACTS, chromium, console_errors, screenshot
from tests.conftest import wipe
from tests.graphql_client import GraphQLClient, live_server, token_for

REGION, PERIOD = "52", "2025"

DASHBOARD = """query Check($region: String!, $period: String!) {
  situationalCentre(region: $region, period: $period) {
    kpis { key value } matrix { shortage } roadmap { overdue slots { index } } } }"""


@pytest.fixture(scope="module")
def demo(driver, settings):
    """The demo region (`hub load demo`), loaded once for this module."""
    wipe(driver, settings.neo4j_database)
    assert hub(["load", "demo", "--json"]) == 0
    return REGION


def wait_for(browser, script: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = browser.execute_script(script)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {script}\n"
                                 f"console: {browser.get_log('browser')}")
        time.sleep(0.1)


def digits(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def test_page_shows_what_the_api_returns(demo, settings, capsys):
    viewer = token_for("viewer")
    with live_server(settings) as url, chromium() as browser:
        api = GraphQLClient(url, token=viewer)
        sites = api.data('query S { sites(first: 100, filter: {region: ["52"]}) '
                         "{ nodes { latitude longitude } } }")["sites"]["nodes"]

        browser.get(f"{url}/?region={REGION}&period={PERIOD}")
        wait_for(browser, "return document.getElementById('login').open;")
        browser.find_element("id", "token").send_keys(viewer)
        started = time.monotonic()
        browser.find_element("css selector", "#login-form button").click()
        wait_for(browser, "return document.querySelectorAll('#kpis [data-kpi]').length > 0;")
        to_first_kpi = time.monotonic() - started  # the dashboard computed cold
        expected = api.data(DASHBOARD, {"region": REGION, "period": PERIOD})["situationalCentre"]
        assert browser.execute_script(
            "return sessionStorage.getItem('hub:token');") == viewer
        assert "region=52" in browser.current_url and "period=2025" in browser.current_url

        tiles = browser.execute_script("""
            var out = {};
            document.querySelectorAll('[data-kpi]').forEach(function (t) {
              out[t.getAttribute('data-kpi')] = t.querySelector('.value').textContent; });
            return out;""")
        assert len(tiles) == len(expected["kpis"])
        for kpi in expected["kpis"]:
            assert digits(tiles[kpi["key"]]) == kpi["value"], kpi["key"]
        assert any(k["value"] > 0 for k in expected["kpis"])  # the demo has figures in 2025
        assert browser.execute_script(
            "return document.querySelectorAll('#kpis svg.spark polyline').length;") > 0

        overdue = sum(a["overdue"] for a in expected["roadmap"])
        slots = sum(len(a["slots"]) for a in expected["roadmap"])
        assert overdue > 0 and slots > 0
        assert browser.execute_script(
            "return document.querySelectorAll('#overdue li[data-number]').length;") == overdue
        assert browser.execute_script(
            "return document.querySelectorAll('#slots tbody tr').length;") == slots

        shortages = sum(c["shortage"] for c in expected["matrix"])
        assert shortages > 0
        assert browser.execute_script(
            "return document.querySelectorAll('#matrix rect.cell.shortage').length;") == shortages
        assert browser.execute_script(
            "return document.querySelectorAll('#matrix rect.cell').length;") >= len(
                expected["matrix"])

        located = [s for s in sites if s["latitude"] is not None]
        wait_for(browser, "return document.querySelectorAll('#sites-map circle.site').length > 0;")
        assert browser.execute_script(
            "return document.querySelectorAll('#sites-map circle.site').length;") == len(located)

        # planner: a competency some sites of the region can deliver
        competency = next(
            c["code"] for c in api.data("query C { competencies(first: 100) { nodes { code } } }")
            ["competencies"]["nodes"]
            if api.data("query P($c: String!) { sitesForCompetency(competency: $c, "
                        'cohortSize: 10, region: "52", first: 1) { totalCount } }',
                        {"c": c["code"]})["sitesForCompetency"]["totalCount"] > 0)
        ranked = api.data("query P($c: String!) { sitesForCompetency(competency: $c, "
                          'cohortSize: 10, region: "52", first: 10) { nodes { siteName } } }',
                          {"c": competency})["sitesForCompetency"]["nodes"]
        wait_for(browser, "return document.querySelectorAll('#competency option').length > 0;")
        browser.execute_script("document.getElementById('competency').value = arguments[0];",
                               competency)
        cohort = browser.find_element("id", "cohort")
        cohort.clear()
        cohort.send_keys("10")
        browser.find_element("css selector", "#planner button").click()
        wait_for(browser, "return document.querySelectorAll('#planner-result tbody tr').length > 0"
                          " && !document.getElementById('planner-result').hidden;")
        names = browser.execute_script("""return Array.from(document.querySelectorAll(
            '#planner-result tbody tr td:nth-child(2)')).map(function (td) {
              return td.textContent; });""")
        assert names == [r["siteName"] for r in ranked]
        assert browser.execute_script(
            "return document.querySelectorAll('#sites-map circle.site.picked').length;") > 0

        source = browser.page_source
        script = browser.execute_script(
            "return fetch('/static/centre/centre.js').then(function (r) { return r.text(); });")
        for operation in ("query CentreDashboard", "query CentreSites",
                          "query PlannerSitesForCompetency", "subscription CentreDashboardLive"):
            assert operation in script, operation
        assert "Ситуационный центр" in source

        # live: a registrar writes, the page re-renders without a reload
        wait_for(browser, "return document.getElementById('live').className === 'live on';")
        site = api.data('query One { sites(first: 1, filter: {region: ["52"]}) '
                        "{ nodes { id uid organizationInn } } }")["sites"]["nodes"][0]
        registrar = GraphQLClient(url, token=token_for(
            "registrar", organizations=[site["organizationInn"]]))
        rendered = browser.execute_script("return document.body.getAttribute('data-rendered');")
        browser.execute_script("window.__notReloaded = true;")
        wrote = time.monotonic()
        result = registrar.data("mutation Rename($id: ID!) { updateSite(id: $id, patch: "
                                '{name: "Мастерская (обновлено)"}) { errors { message } } }',
                                {"id": site["id"]})
        assert not result["updateSite"]["errors"], result
        wait_for(browser, "return document.body.getAttribute('data-rendered') !== "
                          f"'{rendered}';", timeout=5)
        live_update = time.monotonic() - wrote
        assert browser.execute_script("return window.__notReloaded === true;")

        browser.execute_script("window.scrollTo(0, 0);")
        height = browser.execute_script("return document.body.scrollHeight;")
        browser.set_window_size(1600, min(height + 100, 6000))
        shot = screenshot(browser, "situational-centre")
        first_kpi_ms = browser.execute_script(
            "return performance.getEntriesByName('first-kpi')[0].startTime;")
        errors = console_errors(browser)
        assert not errors, errors
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    figures = {"time_to_first_kpi_after_token_s": round(to_first_kpi, 3),
               "first_kpi_since_navigation_ms": round(first_kpi_ms),
               "registrar_write_to_page_update_s": round(live_update, 3),
               "screenshot": str(shot)}
    (ARTIFACTS / "centre-page.json").write_text(json.dumps(figures, indent=2))
    with capsys.disabled():
        print("\ncentre page:", figures)


def test_a_wrong_token_asks_again(settings):
    with live_server(settings) as url, chromium() as browser:
        browser.get(f"{url}/")
        wait_for(browser, "return document.getElementById('login').open;")
        browser.find_element("id", "token").send_keys("rrh_not-a-token")
        browser.find_element("css selector", "#login-form button").click()
        message = wait_for(browser, "return document.getElementById('login').open && "
                                    "document.getElementById('login-error').textContent;")
        assert "Токен" in message
        assert browser.execute_script("return sessionStorage.getItem('hub:token');") is None
