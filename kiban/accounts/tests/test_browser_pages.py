"""The 管理者 pages in a real browser: zero axe-core violations and no CSP violation on each, including
forms showing their errors and the page that shows a new token's secret once.

Uses the browser harness of kiban/ui/tests/test_browser.py (Debian chromium via Playwright).
"""

from __future__ import annotations

import re

import pytest

from kiban.ui.tests.test_browser import browser, registry, tab  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_user_pages_are_accessible(tab, registry):  # noqa: F811
    tab.log_in("alice")
    tab.goto("/accounts/users/")
    assert tab.page.get_by_role("heading", level=1).inner_text() == "利用者管理"
    tab.assert_clean("accounts-users")

    tab.page.get_by_role("link", name="利用者を登録する").click()
    tab.page.wait_for_load_state()
    tab.assert_clean("accounts-user-new")
    tab.page.get_by_label("ユーザー名").fill("bad name!")
    tab.page.get_by_label("メールアドレス").fill("not-an-email")
    with tab.page.expect_navigation():
        tab.page.get_by_role("button", name="登録する").click()
    assert tab.page.get_by_role("alert").is_visible()
    assert tab.page.get_by_label("メールアドレス").get_attribute("aria-invalid") == "true"
    tab.assert_clean("accounts-user-new-errors")

    bob_id = registry.bob.pk
    tab.goto(f"/accounts/users/{bob_id}/")
    assert tab.page.get_by_role("heading", level=1).inner_text() == "bob"
    tab.assert_clean("accounts-user-detail")


def test_token_pages_are_accessible(tab, registry):  # noqa: F811
    tab.log_in("alice")
    tab.goto("/accounts/tokens/")
    tab.assert_clean("accounts-tokens-empty")
    tab.goto("/accounts/tokens/new/")
    tab.assert_clean("accounts-token-new")
    with tab.page.expect_navigation():
        tab.page.get_by_role("button", name="発行する").click()
    tab.assert_clean("accounts-token-new-errors")

    tab.page.get_by_label("名前").fill("集計システム連携")
    tab.page.get_by_label(re.compile("^users:read")).check()
    with tab.page.expect_navigation():
        tab.page.get_by_role("button", name="発行する").click()
    secret = tab.page.get_by_label(re.compile("のトークン")).input_value()
    assert re.fullmatch(r"kbn_[a-z0-9]{12}_[A-Za-z0-9_-]{43}", secret)
    tab.assert_clean("accounts-token-created")

    tab.goto("/accounts/tokens/")
    assert secret not in tab.page.content()
    tab.assert_clean("accounts-tokens")
