"""Browser fixtures: Playwright (sync API) on Debian's Chromium, an axe-core scan of every page.

No pytest-playwright: the browser is launched here, once per session, and each
test gets a fresh context (cookies, storage) in one of two viewports, a phone
and a desktop, so every flow runs on both.

Every page a test lands on must be scanned by axe: the ``page`` fixture logs
each main-frame navigation, ``check_a11y`` marks the current one as scanned,
and the fixture fails the test at teardown if a page was left unscanned.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

VIEWPORTS = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 3,
        "is_mobile": True,
        "has_touch": True,
    },
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}

# Only these impacts fail a test; only rules carrying these tags run.
FAILING_IMPACTS = {"serious", "critical"}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
DEFAULT_TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def _async_unsafe_allowed():
    """Playwright's sync API runs an event loop in the test thread; Django's ORM
    would refuse to run there without this."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def browser(_async_unsafe_allowed):
    if not CHROMIUM.exists():
        pytest.skip(
            f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium); browser tests skipped."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live_server(live_server):
    """pytest-django's live server, answering one request at a time.

    With the in-memory SQLite test database, every thread of the live server shares
    the test's one connection (pytest-django passes it over): two requests at once
    (upload.js sends each file in its own request) then fail with "database table
    is locked". Production databases do not share a connection; here, the requests
    wait their turn. Static files go through the same queue, which costs little.
    """
    httpd = live_server.thread.httpd
    app = httpd.get_app()
    turn = threading.Lock()

    def one_at_a_time(environ, start_response):
        with turn:
            return app(environ, start_response)

    httpd.set_app(one_at_a_time)
    yield live_server
    httpd.set_app(app)


@pytest.fixture(scope="session")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@pytest.fixture(params=sorted(VIEWPORTS), ids=lambda name: name)
def viewport_name(request) -> str:
    return request.param


@dataclass
class ScanLog:
    """Which main-frame navigations happened, and which were scanned by axe."""

    navigations: list[str] = field(default_factory=list)
    scanned: set[int] = field(default_factory=set)

    def unscanned(self) -> list[str]:
        return [url for index, url in enumerate(self.navigations) if index not in self.scanned]


@pytest.fixture
def context_options() -> dict:
    """Extra options for the browser context; parametrize it to change one, e.g.
    ``@pytest.mark.parametrize("context_options", [{"java_script_enabled": False}])``."""
    return {}


@pytest.fixture
def page(browser, viewport_name, live_server, context_options):
    from playwright.sync_api import expect

    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
    options = {"locale": "fr-FR", "timezone_id": "Europe/Paris", **VIEWPORTS[viewport_name], **context_options}
    context = browser.new_context(**options)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    log = ScanLog()
    page.on("framenavigated", lambda frame: frame == page.main_frame and log.navigations.append(frame.url))
    page.scan_log = log
    page.context_options = options
    try:
        yield page
    finally:
        context.close()
    left = [url for url in log.unscanned() if url != "about:blank"]
    assert not left, f"pages visited without an accessibility scan: {left}"


def _format_violations(url: str, violations: list[dict]) -> str:
    lines = [f"axe-core: {len(violations)} serious/critical WCAG A/AA violation(s) on {url}"]
    for violation in violations:
        lines.append(f"\n- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"]:
            lines.append(f"    at {', '.join(map(str, node['target']))}")
            lines.append(f"       {node['html'][:200]}")
            for check in node.get("any", []) + node.get("all", []) + node.get("none", []):
                lines.append(f"       * {check['message']}")
    return "\n".join(lines)


def _run_axe(axe, page) -> dict:
    return axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})


def _run_axe_on_copy(axe, page) -> dict:
    """axe-core cannot run in a context without JavaScript (its promises never settle):
    scan the same DOM, served at the same address with the same styles, in a twin
    context that has JavaScript, with the page's own scripts blocked."""
    url, html = page.url, page.content()
    options = {**page.context_options, "java_script_enabled": True}
    twin = page.context.browser.new_context(**options)
    try:
        twin.set_default_timeout(DEFAULT_TIMEOUT_MS)
        twin.route("**/*.js", lambda route: route.abort())
        twin.route(
            lambda address: address == url,
            lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html),
        )
        copy = twin.new_page()
        copy.goto(url)
        copy.wait_for_load_state("load")
        return _run_axe(axe, copy)
    finally:
        twin.close()


@pytest.fixture
def check_a11y(axe):
    """Scan the page now shown; fail on serious or critical WCAG 2.x A/AA violations."""

    def check(page) -> None:
        page.wait_for_load_state("load")
        scripts_on = getattr(page, "context_options", {}).get("java_script_enabled", True)
        results = _run_axe(axe, page) if scripts_on else _run_axe_on_copy(axe, page)
        violations = [v for v in results.response["violations"] if v["impact"] in FAILING_IMPACTS]
        log: ScanLog | None = getattr(page, "scan_log", None)
        if log is not None and log.navigations:
            log.scanned.add(len(log.navigations) - 1)
        assert not violations, _format_violations(page.url, violations)

    return check


class Browse:
    """A page on the live server whose every landing is scanned by axe."""

    def __init__(self, page, base_url: str, check) -> None:
        self.page = page
        self.base_url = base_url
        self._check = check

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def goto(self, path: str):
        response = self.page.goto(self.url(path))
        self._check(self.page)
        return response

    def submit(self, locator) -> None:
        """Click something that loads a new page (a submit button, a link), then scan it."""
        with self.page.expect_navigation():
            locator.click()
        self._check(self.page)

    def scan(self) -> None:
        """Scan the page again as it is now, after script changed it in place (no navigation)."""
        self._check(self.page)

    def log_in(self, email: str, password: str) -> None:
        self.goto("/accounts/login/")
        self.page.get_by_label("Courriel").fill(email)
        self.page.get_by_label("Mot de passe").fill(password)
        self.submit(self.page.locator("main").get_by_role("button", name="Connexion"))

    def log_out(self) -> None:
        self.submit(self.page.get_by_role("navigation").get_by_role("button"))


@pytest.fixture
def ui(page, live_server, check_a11y) -> Browse:
    return Browse(page, live_server.url, check_a11y)
