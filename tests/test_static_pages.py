"""Pages work offline: GraphiQL and the situational-centre page load nothing from the
internet (a scan of everything the hub serves, and a headless Chromium that cannot resolve
any other host), and GraphiQL actually renders and runs a query."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import urljoin, urlparse

import httpx
import pytest

from hub.pages import STATIC_DIR
from tests.browser import chromium, console_errors, screenshot
from tests.graphql_client import admin_token, live_server

# A reference that makes a browser load something: HTML attributes, CSS url()/@import,
# JS import/importScripts/Worker/fetch/EventSource/WebSocket with a literal URL.
_REFERENCES = [
    re.compile(r"""\b(?:src|href|action|poster|data|srcset)\s*=\s*["']?\s*((?:https?:|wss?:)?//[^\s"'>]+)""", re.IGNORECASE),
    re.compile(r"""url\(\s*["']?\s*((?:https?:)?//[^\s"')]+)""", re.IGNORECASE),
    re.compile(r"""@import\s+["']((?:https?:)?//[^"']+)""", re.IGNORECASE),
    re.compile(r"""\bimport\s*(?:\(|[\w{}*,\s]+from)\s*["'`]((?:https?:)?//[^"'`]+)"""),
    re.compile(r"""\b(?:importScripts|Worker|SharedWorker|fetch|EventSource|WebSocket)\s*\(\s*["'`]((?:https?:|wss?:)?//[^"'`]+)"""),
    re.compile(r"""\bsrc\s*=\s*["'`]((?:https?:)?//[^"'`]+)"""),  # script.src = "…"
]


_COMMENT_LINES = re.compile(r"^\s*(?://|/?\*).*$", re.MULTILINE)  # whole-line JS/CSS comments


def external_references(text: str, own_host: str = "127.0.0.1") -> list[str]:
    text = _COMMENT_LINES.sub("", text)
    found = []
    for pattern in _REFERENCES:
        for match in pattern.finditer(text):
            url = match.group(1)
            host = urlparse(url if "//" in url[:8] else "http:" + url).hostname or ""
            if host not in (own_host, "localhost", ""):
                found.append(url)
    return found


def test_the_scan_finds_a_cdn_reference():
    """Strawberry's own GraphiQL template (what we replace) loads from unpkg.com."""
    import strawberry

    template = Path(strawberry.__file__).parent / "static" / "graphiql.html"
    refs = external_references(template.read_text(encoding="utf-8"))
    assert any("unpkg.com" in r for r in refs)
    assert external_references('<img src="https://tiles.example.org/1.png">')
    assert external_references("import x from 'https://esm.sh/x'")
    assert not external_references('<svg xmlns="http://www.w3.org/2000/svg">')


def _served(url: str) -> dict[str, str]:
    """`/` and GraphiQL, and every local file they reference (scripts, styles), fetched."""
    page = {"accept": "text/html"}
    texts: dict[str, str] = {}
    queue = [f"{url}/", f"{url}/graphql"]
    while queue:
        target = queue.pop()
        if target in texts:
            continue
        r = httpx.get(target, headers=page)
        assert r.status_code == 200, (target, r.status_code)
        csp = r.headers.get("content-security-policy", "")
        assert "default-src 'self'" in csp, target
        texts[target] = r.text
        if r.headers["content-type"].startswith("text/html"):
            for ref in re.findall(r"""(?:src|href)=["'](/[^/"'][^"']*)["']""", r.text):
                queue.append(urljoin(url, ref))
    return texts


def test_nothing_served_references_another_host(settings):
    with live_server(settings) as url:
        served = _served(url)
        assert any(u.endswith("/graphql") for u in served)
        assert any("graphiql.min.js" in u for u in served)
        assert any("/static/centre/" in u for u in served)
        bad = {u: external_references(t) for u, t in served.items()}
        assert not any(bad.values()), {u: r for u, r in bad.items() if r}
    # and every file under hub/static, served or not
    for path in STATIC_DIR.rglob("*"):
        if path.suffix in (".html", ".js", ".css", ".svg"):
            assert not external_references(path.read_text(encoding="utf-8")), path


def test_vendored_files_carry_their_licence_and_pinned_version():
    vendor = STATIC_DIR / "vendor"
    refresh = (vendor / "refresh.sh").read_text(encoding="utf-8")
    dirs = [d for d in vendor.iterdir() if d.is_dir()]
    assert {d.name for d in dirs} >= {"react", "react-dom", "graphiql",
                                      "graphiql-plugin-explorer"}
    for d in dirs:
        assert (d / "LICENSE").stat().st_size > 100, d
        version = (d / "VERSION").read_text().strip()
        assert f'"{version}|sha512-' in refresh, version  # pinned with its integrity


def test_graphiql_stays_off_in_production(settings):
    with live_server(settings.model_copy(update={"production": True})) as url:
        assert httpx.get(f"{url}/graphql", headers={"accept": "text/html"}).status_code == 404


def test_graphiql_renders_and_runs_a_query_offline(db, settings):
    with live_server(settings) as url, chromium() as browser:
        browser.get(f"{url}/graphql")
        headers = json.dumps({"Authorization": f"Bearer {admin_token()}"})
        browser.execute_script(
            "localStorage.setItem('graphiql:headers', arguments[0]);", headers)
        probe = "query Probe { organizations(first: 1) { totalCount } }"
        browser.get(str(httpx.URL(f"{url}/graphql", params={"q": probe})))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            ready = browser.execute_script(
                "return !!document.querySelector('.graphiql-query-editor .CodeMirror')"
                " && !document.body.innerText.includes('Загрузка…');")
            if ready:
                break
            time.sleep(0.2)
        assert ready, browser.page_source[:2000]
        browser.find_element("css selector", ".graphiql-execute-button").click()
        deadline = time.monotonic() + 20
        result = ""
        while time.monotonic() < deadline and '"totalCount"' not in result:
            time.sleep(0.2)
            result = browser.execute_script(
                "var r = document.querySelector('.result-window');"
                " return r ? r.innerText : '';")
        assert '"totalCount": 0' in result, result
        screenshot(browser, "graphiql")
        errors = console_errors(browser)
        assert not errors, errors


@pytest.mark.parametrize("path", ["/static/vendor/graphiql/graphiql.min.js", "/"])
def test_pages_and_files_are_served_with_csp(settings, path):
    with live_server(settings) as url:
        r = httpx.get(url + path)
        assert r.status_code == 200 and "default-src 'self'" in r.headers[
            "content-security-policy"]
