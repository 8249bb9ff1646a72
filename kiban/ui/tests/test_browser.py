"""In a real browser: Playwright drives Debian's chromium against a live server.

A person logs in, opens the dashboard and the body search in Japanese; axe-core must report zero
violations on every page visited, the pages must run under our CSP without a single violation, and the
keyboard alone must reach the skip link and the search box. A screenshot of each page is left in
$KIBAN_SCREENSHOT_DIR (default /tmp/kiban-screenshots) for a person to look at.

`make test` (scripts/run-tests) installs chromium and fonts-noto-cjk when missing. Run these alone with
`pytest -m browser`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kiban.core.testing import PASSWORD

CHROMIUM = Path(os.environ.get("KIBAN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(os.environ.get("KIBAN_SCREENSHOT_DIR", "/tmp/kiban-screenshots"))

# The sync Playwright API runs an event loop in this thread; Django's ORM would refuse to run beside it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: scripts/run-tests should have installed Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Page:
    """A browser tab that records CSP violations and failed requests, and checks pages with axe-core."""

    def __init__(self, browser, base_url: str, **context_options):
        options = {"locale": "ja-JP", "viewport": {"width": 1280, "height": 900}, **context_options}
        self.context = browser.new_context(**options)
        self.page = self.context.new_page()
        self.base_url = base_url
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status} {r.url}"))

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or message.type == "error":
            self.problems.append(message.text)

    def goto(self, path: str):
        response = self.page.goto(self.base_url + path)
        assert response is not None and response.ok, f"{path}: HTTP {response and response.status}"
        return response

    def assert_clean(self, name: str) -> None:
        """No CSP violation or failed request so far; zero axe violations; a screenshot for people."""
        assert not self.problems, f"{name}: {self.problems}"
        from axe_playwright_python.sync_playwright import Axe

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000  # a real rendering, not an empty page
        results = Axe().run(self.page)  # injects axe (inline styles of its own: checked above, before it)
        assert results.violations_count == 0, f"{name}:\n{results.generate_report()}"
        self.problems.clear()

    def log_in(self, username: str, password: str = PASSWORD) -> None:
        self.goto("/accounts/login/")
        self.assert_clean("login")
        self.page.get_by_label("ユーザー名").fill(username)
        self.page.get_by_label("パスワード").fill(password)
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="ログイン").click()

    def focused(self) -> dict:
        return self.page.evaluate(
            """() => { const e = document.activeElement; const s = getComputedStyle(e);
                return {tag: e.tagName, cls: e.className, name: e.getAttribute('name'), id: e.id,
                        text: e.textContent.trim(), outline: s.outlineStyle, outlineWidth: s.outlineWidth}; }"""
        )


# The test world's bodies and a few more, loaded from the real registry source as `kiban orgs load` would.
REGISTRY_CODES = {"010006", "011002", "130001", "131016", "131041", "140007", "141305", "2000012020001"}


@pytest.fixture
def registry(world):
    from kiban.orgs import registry, source

    registry.load_registry([r for r in source.load_bodies() if r.code in REGISTRY_CODES])
    return world


@pytest.fixture
def tab(browser, live_server):
    page = Page(browser, live_server.url)
    yield page
    page.context.close()


def test_login_dashboard_and_body_search_in_japanese(tab, registry):
    tab.log_in("alice")
    assert tab.page.url.rstrip("/") == tab.base_url
    assert tab.page.get_attribute("html", "lang") == "ja"
    assert tab.page.get_by_role("heading", level=1).inner_text() == "ダッシュボード"
    assert tab.page.get_by_text("千代田区").first.is_visible()
    assert tab.page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="利用者管理").is_visible()
    tab.assert_clean("dashboard")

    tab.page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="団体検索").click()
    tab.page.wait_for_load_state()
    assert tab.page.get_by_role("heading", level=1).inner_text() == "団体検索"
    tab.assert_clean("orgs-search")

    tab.goto("/orgs/?q=" + "さっぽろ")
    assert tab.page.get_by_role("link", name="札幌市").is_visible()
    assert "川崎市" not in tab.page.inner_text("main")
    tab.assert_clean("orgs-search-results")


def test_switch_acting_body_and_error_page(tab, registry):
    from kiban.accounts.models import Membership, Role

    Membership.objects.create(user=registry.alice, org=registry.ministry, role=Role.VIEWER)
    tab.log_in("alice")
    tab.page.get_by_role("button", name="総務省 に切り替える").click()
    tab.page.wait_for_load_state()
    assert tab.page.get_by_role("status").inner_text().strip() == "操作中の団体を「総務省」に切り替えました。"
    # A 閲覧者 of the ministry now: no admin menu.
    assert tab.page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="利用者管理").count() == 0
    tab.assert_clean("dashboard-switched")

    response = tab.page.goto(tab.base_url + "/no-such-page/")
    assert response.status == 404
    assert tab.page.get_by_role("heading", level=1).inner_text() == "ページが見つかりません"
    tab.problems.clear()  # the 404 itself was the point
    tab.assert_clean("error-404")


def test_staff_sees_no_admin_menu(tab, registry):
    tab.log_in("bob")
    nav = tab.page.get_by_role("navigation", name="メインメニュー")
    assert nav.get_by_role("link", name="団体検索").is_visible()
    assert nav.get_by_role("link", name="利用者管理").count() == 0
    tab.assert_clean("dashboard-staff")


def test_keyboard_only(tab, registry):
    """Tab reaches the skip link first, with a visible focus ring; the skip link jumps to the content;
    Tab then reaches the body search box."""
    tab.log_in("alice")
    tab.page.keyboard.press("Tab")
    focused = tab.focused()
    assert focused["cls"] == "skip-link" and focused["text"] == "本文へ移動"
    assert focused["outline"] != "none" and focused["outlineWidth"] != "0px"
    assert tab.page.locator(".skip-link").bounding_box()["y"] >= 0  # shown on screen when focused
    tab.page.keyboard.press("Enter")
    assert tab.page.evaluate("location.hash") == "#main"
    assert tab.focused()["id"] == "main"

    tab.goto("/orgs/")
    for _ in range(40):
        tab.page.keyboard.press("Tab")
        if tab.focused()["name"] == "q":
            break
    else:
        pytest.fail("the search box cannot be reached with the Tab key")
    tab.page.keyboard.type("千代田")
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_load_state()
    assert tab.page.get_by_role("link", name="千代田区").is_visible()
    tab.assert_clean("orgs-keyboard")


def test_english_on_request(browser, live_server, registry):
    page = Page(browser, live_server.url, locale="en-US", extra_http_headers={"Accept-Language": "en"})
    try:
        page.goto("/accounts/login/")
        assert page.page.get_attribute("html", "lang") == "en"
        assert page.page.get_by_role("link", name="Skip to main content").count() == 1
        page.assert_clean("login-en")
    finally:
        page.context.close()


def test_small_screen(browser, live_server, registry):
    """On a phone-sized screen the shell reflows (WCAG 1.4.10): nothing scrolls sideways."""
    page = Page(browser, live_server.url)
    try:
        page.page.set_viewport_size({"width": 360, "height": 740})
        page.log_in("alice")
        width = page.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"horizontal scrolling: {width}px"
        page.assert_clean("dashboard-mobile")
    finally:
        page.context.close()
