"""Security headers: a strict Content-Security-Policy on pages, the API docs' own policy.

Without a browser: every kind of response carries the headers (pages, JSON, the SSE
stream, static files, refusals) and the templates hold no inline script or event handler.
In Chromium: the pages work under the policy with no violation, an injected inline
script is refused, and /docs starts Swagger UI under its policy (the CDN is stubbed).
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, Route, expect

from bulkgen.http.security import COMMON, DOCS_POLICY, PAGE_POLICY

from helpers.api import BATCHES
from helpers.api import create_batch as create
from helpers.browser import PageProblems, assert_clean
from helpers.server import LiveServer
from helpers.wait import wait_finished, wait_until_finished

TEMPLATES = Path(__file__).resolve().parent.parent / "src" / "bulkgen" / "http" / "templates"


def assert_secured(response: httpx.Response, policy: str = PAGE_POLICY) -> None:
    assert response.headers["content-security-policy"] == policy
    for name, value in COMMON.items():
        assert response.headers[name] == value, name


def test_the_page_policy_is_strict() -> None:
    directives = dict(d.split(" ", 1) for d in PAGE_POLICY.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-eval" not in PAGE_POLICY
    # Only style attributes (the server-rendered bar widths) may be inline.
    assert [d for d in directives.values() if "unsafe-inline" in d] == [
        directives["style-src-attr"]
    ]


def test_pages_json_streams_and_refusals_carry_the_headers(client: httpx.Client) -> None:
    batch = create(client, count=2)
    wait_finished(client, batch["id"])
    for path in (
        "/faculty/generate/batch",
        "/faculty/generate/batch/new",
        f"/faculty/generate/batch/{batch['id']}",
        "/faculty/generate/batch/no-such-batch",
        BATCHES,
        f"{BATCHES}/{batch['id']}",
        f"{BATCHES}/no-such-batch",
        "/static/js/progress-page.js",
        "/static/css/bulkgen.css",
        "/openapi.json",
    ):
        assert_secured(client.get(path))
    refused = client.post(BATCHES, json={"topic": ""})
    assert refused.status_code == 422
    assert_secured(refused)
    with client.stream("GET", f"{BATCHES}/{batch['id']}/progress") as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers["cache-control"] == "no-cache"
        assert_secured(stream)  # type: ignore[arg-type]
        text = "".join(stream.iter_text())
    assert "event: batch.complete" in text


def test_the_api_docs_have_their_own_policy(client: httpx.Client) -> None:
    for path in ("/docs", "/redoc"):
        response = client.get(path)
        assert response.status_code == 200
        assert_secured(response, DOCS_POLICY)
    directives = dict(d.split(" ", 1) for d in DOCS_POLICY.split("; "))
    assert "https://cdn.jsdelivr.net" in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'"


def test_templates_hold_no_inline_script_or_handler() -> None:
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, (template.name, tag)
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", text), template.name
        assert "javascript:" not in text, template.name


# -- in Chromium ---------------------------------------------------------------------------

#: Records the policy violations a page reports.
VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def violations(page: Page) -> list[str]:
    found: list[str] = page.evaluate("() => window.__violations")
    return found


@pytest.mark.browser
def test_pages_work_under_the_policy_and_refuse_inline_script(
    live: LiveServer, client: httpx.Client, page: Page, problems: PageProblems
) -> None:
    page.add_init_script(VIOLATIONS)
    page.goto(f"{live.url}/faculty/generate/batch/new")
    page.fill("#topic", "Renal physiology")
    page.fill("#count", "6")
    page.fill("#latency_min", "5")
    page.fill("#latency_max", "20")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/faculty/generate/batch/\w+$"))
    expect(page.locator("#progress-view")).to_have_attribute("data-ready", "true")
    wait_until_finished(page)
    assert violations(page) == []

    page.goto(f"{live.url}/faculty/generate/batch")
    expect(page.locator(".history-row")).to_have_count(1)
    assert violations(page) == []
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.__injected = true";
            document.body.append(script);
        }"""
    )
    page.wait_for_function("() => window.__violations.length > 0")
    assert page.evaluate("() => window.__injected") is None
    assert violations(page)[0].startswith("script-src")
    assert_clean(problems)


SWAGGER_STUB = """
window.SwaggerUIBundle = Object.assign(
  (config) => { document.body.dataset.swaggerUrl = config.url; return {}; },
  { presets: { apis: {} }, SwaggerUIStandalonePreset: {} },
);
"""


@pytest.mark.browser
def test_the_api_docs_start_under_their_policy(
    live: LiveServer, page: Page, problems: PageProblems
) -> None:
    def cdn(route: Route) -> None:
        url = route.request.url
        if url.endswith(".js"):
            route.fulfill(body=SWAGGER_STUB, content_type="text/javascript")
        elif url.endswith(".css"):
            route.fulfill(body="", content_type="text/css")
        else:
            route.fulfill(status=404)

    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.route("https://cdn.jsdelivr.net/**", cdn)
    page.route("https://fastapi.tiangolo.com/**", lambda route: route.fulfill(status=404))
    page.add_init_script(VIOLATIONS)
    page.goto(f"{live.url}/docs")
    # The CDN's script and the page's inline script both ran.
    expect(page.locator("body")).to_have_attribute("data-swagger-url", "/openapi.json")
    assert any("swagger-ui-bundle.js" in url for url in requested)
    assert violations(page) == []
    assert_clean(problems)
