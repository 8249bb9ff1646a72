"""ログイン: sign-in, sign-out, rate limiting, session security, audit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kiban.accounts import ratelimit
from kiban.accounts.models import RateLimitBucket
from kiban.audit.models import AuditEntry
from kiban.core.testing import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


def test_login_page_is_japanese_and_labelled(client):
    r = client.get(LOGIN)
    assert r.status_code == 200
    html = r.content.decode()
    assert '<label for="id_username">ユーザー名' in html
    assert 'autocomplete="current-password"' in html


def test_alice_logs_in_and_is_audited(client, alice, org_a):
    client.get(LOGIN)  # a session before login, to see it rotated
    before = client.session.session_key
    r = client.post(LOGIN, {"username": "alice", "password": PASSWORD})
    assert r.status_code == 302 and r.url == reverse("ui:dashboard")
    assert client.session.session_key != before
    assert client.session["kiban_org_id"] == org_a.pk
    entry = AuditEntry.objects.get(action="auth.login")
    assert entry.actor_user_id == alice.pk and entry.org_id == org_a.pk


def test_next_is_followed_only_on_this_site(client, alice):
    r = client.post(LOGIN, {"username": "alice", "password": PASSWORD, "next": "/accounts/users/"})
    assert r.url == "/accounts/users/"
    client.logout()
    r = client.post(LOGIN, {"username": "alice", "password": PASSWORD, "next": "https://evil.example/"})
    assert r.url == reverse("ui:dashboard")


def test_wrong_password_says_nothing_about_which_part(client, alice):
    r = client.post(LOGIN, {"username": "alice", "password": "wrong-password-1"})
    assert r.status_code == 200
    assert "ユーザー名またはパスワードが正しくありません。" in r.content.decode()
    r2 = client.post(LOGIN, {"username": "nobody-here", "password": "wrong-password-1"})
    assert "ユーザー名またはパスワードが正しくありません。" in r2.content.decode()
    assert "_auth_user_id" not in client.session
    failures = AuditEntry.objects.filter(action="auth.login_failed")
    assert failures.count() == 2 and all(e.org_id is None for e in failures)


def test_empty_form_names_the_fields(client, world):
    r = client.post(LOGIN, {"username": "", "password": ""})
    html = r.content.decode()
    assert r.status_code == 200
    assert 'aria-invalid="true"' in html and "id_username-error" in html
    assert not AuditEntry.objects.filter(action__startswith="auth.").exists()


def test_inactive_user_cannot_log_in(client, bob):
    bob.is_active = False
    bob.save()
    r = client.post(LOGIN, {"username": "bob", "password": PASSWORD})
    assert r.status_code == 200 and "_auth_user_id" not in client.session


def _drain(key: str, limit: tuple[int, int], n: int) -> None:
    for _ in range(n):
        ratelimit.consume(key, capacity=limit[0], per_seconds=limit[1])


def test_rate_limit_per_username(client, alice):
    # Two real failed attempts count against the bucket; the rest is drained directly (argon2 is slow).
    for i in range(2):
        r = client.post(LOGIN, {"username": "alice", "password": "wrong-password-1"}, REMOTE_ADDR=f"10.0.0.{i}")
        assert r.status_code == 200
    _drain("login-user:alice", ratelimit.LOGIN_PER_USER, ratelimit.LOGIN_PER_USER[0] - 2)
    # Even the right password is refused now, from yet another address.
    r = client.post(LOGIN, {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.1.1")
    assert r.status_code == 429
    assert "試行回数が多すぎます" in r.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action="auth.login_failed", changes__after__reason="rate_limited").exists()
    # Case does not give a fresh bucket.
    r = client.post(LOGIN, {"username": "ALICE", "password": PASSWORD}, REMOTE_ADDR="10.0.1.2")
    assert r.status_code == 429
    # Other users are not affected.
    r = client.post(LOGIN, {"username": "bob", "password": PASSWORD}, REMOTE_ADDR="10.0.1.3")
    assert r.status_code == 302


def test_rate_limit_per_ip(client, alice, bob):
    client.post(LOGIN, {"username": "guess", "password": "wrong-password-1"}, REMOTE_ADDR="192.0.2.7")
    _drain("login-ip:192.0.2.7", ratelimit.LOGIN_PER_IP, ratelimit.LOGIN_PER_IP[0] - 1)
    r = client.post(LOGIN, {"username": "bob", "password": PASSWORD}, REMOTE_ADDR="192.0.2.7")
    assert r.status_code == 429
    r = client.post(LOGIN, {"username": "bob", "password": PASSWORD}, REMOTE_ADDR="192.0.2.8")
    assert r.status_code == 302


def test_bucket_refills_and_stores_no_usernames(world):
    from datetime import timedelta

    assert all(ratelimit.consume("k", capacity=2, per_seconds=60) for _ in range(2))
    assert not ratelimit.consume("k", capacity=2, per_seconds=60)
    RateLimitBucket.objects.update(updated_at=RateLimitBucket.objects.get().updated_at - timedelta(seconds=31))
    assert ratelimit.consume("k", capacity=2, per_seconds=60)
    assert not RateLimitBucket.objects.filter(key__contains="k").exclude(key__regex=r"^[0-9a-f]{64}$").exists()


def test_logout_is_post_only_and_audited(client, alice):
    client.force_login(alice)
    assert client.get("/accounts/logout/").status_code == 405
    r = client.post("/accounts/logout/")
    assert r.status_code == 302 and r.url == reverse("accounts:login")
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action="auth.logout", actor_user=alice).exists()


def test_login_requires_csrf():
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    r = csrf_client.post(LOGIN, {"username": "alice", "password": PASSWORD})
    assert r.status_code == 403


def test_password_change(client, alice):
    client.force_login(alice)
    r = client.post(
        "/accounts/password/",
        {"old_password": "wrong", "new_password": "a-new-long-pass-99", "new_password_confirm": "a-new-long-pass-99"},
    )
    assert "現在のパスワードが正しくありません。" in r.content.decode()
    r = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password": "short", "new_password_confirm": "short"},
    )
    assert r.status_code == 200 and "id_new_password-error" in r.content.decode()
    r = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password": "a-new-long-pass-99", "new_password_confirm": "a-new-long-pass-99"},
    )
    assert r.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a-new-long-pass-99")
    assert alice.password.startswith("argon2")
    entry = AuditEntry.objects.get(action="user.password_change")
    assert "argon2" not in str(entry.changes)


def test_pages_in_english_on_request(client, alice):
    r = client.get(LOGIN, headers={"Accept-Language": "en"})
    html = r.content.decode()
    assert '<label for="id_username">Username' in html and "Log in" in html
    client.force_login(alice)
    html = client.get("/accounts/tokens/new/", headers={"Accept-Language": "en"}).content.decode()
    assert "Create an API token" in html and "Read users of the body" in html
