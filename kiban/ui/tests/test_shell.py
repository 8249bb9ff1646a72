"""The page shell: skip link, navigation by role, language switch, error pages, CSP-safe markup."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings
from django.urls import include, path

from kiban.ui.templatetags.kiban_ui import url_if_exists


@pytest.mark.django_db
class TestShell:
    def test_skip_link_and_landmarks(self, client, alice):
        client.force_login(alice)
        page = client.get("/").content.decode()
        assert '<a class="skip-link" href="#main">本文へ移動</a>' in page
        assert '<main id="main"' in page and "<header" in page and "<footer" in page and "<nav" in page
        assert '<html lang="ja">' in page

    def test_no_inline_script_or_style(self, client, alice):
        """Our CSP forbids inline script and style: the shell must not need either."""
        client.force_login(alice)
        page = client.get("/").content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
        assert " style=" not in page and "<style" not in page
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", page)  # no inline event handlers either

    def test_nav_marks_current_page(self, client, alice):
        client.force_login(alice)
        page = client.get("/").content.decode()
        assert 'href="/" aria-current="page">ダッシュボード</a>' in page

    def test_missing_url_names_are_skipped(self):
        assert url_if_exists("no-such-app:no-such-view") == ""
        assert url_if_exists("ui:dashboard") == "/"

    def test_language_switch_to_english(self, client, alice):
        client.force_login(alice)
        response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
        assert response.status_code == 302
        page = client.get("/").content.decode()
        assert '<html lang="en">' in page
        assert "Skip to main content" in page and "Dashboard" in page

    def test_accept_language_english(self, client, alice):
        client.force_login(alice)
        page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert '<html lang="en">' in page and "Skip to main content" in page

    def test_japanese_by_default(self, client, alice):
        client.force_login(alice)
        page = client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
        assert '<html lang="ja">' in page and "ダッシュボード" in page

    def test_404_in_japanese(self, client, alice):
        response = client.get("/no-such-page/")
        assert response.status_code == 404
        page = response.content.decode()
        assert "ページが見つかりません" in page and "本文へ移動" in page


def _boom(request):
    raise RuntimeError("boom")


urlpatterns = [path("boom/", _boom), path("", include("kiban.urls"))]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_500_in_japanese(client):
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    assert "サーバーでエラーが発生しました" in response.content.decode()


def test_every_registry_kind_has_a_label():
    from kiban.orgs import source
    from kiban.ui.templatetags.kiban_ui import ORG_KIND_LABELS, org_kind

    assert set(ORG_KIND_LABELS) == set(source.KINDS)
    assert all(str(org_kind(k)) == source.KIND_LABELS_JA[k] for k in source.KINDS)  # Japanese by default


@pytest.mark.django_db
def test_security_headers(client, alice):
    client.force_login(alice)
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response["Permissions-Policy"].startswith("camera=()")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
