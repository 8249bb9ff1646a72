"""利用者管理 pages: Alice manages her body's users, Bob (職員) may not, Charlie gets 404 on A's users."""

from __future__ import annotations

import pytest

from kiban.accounts.models import ApiToken, Membership, Role, User
from kiban.audit.models import AuditEntry
from kiban.core.testing import mint_token

pytestmark = pytest.mark.django_db


def url(name: str, user) -> str:
    suffix = {"detail": "", "role": "role/", "deactivate": "deactivate/", "reactivate": "reactivate/", "remove": "remove/"}
    return f"/accounts/users/{user.pk}/{suffix[name]}"


def test_anonymous_is_sent_to_login(client, world):
    r = client.get("/accounts/users/")
    assert r.status_code == 302 and r.url.startswith("/accounts/login/?next=")


def test_alice_lists_her_bodys_users_only(client, alice, bob, charlie):
    client.force_login(alice)
    r = client.get("/accounts/users/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "bob@chiyoda.example.jp" in html and "千代田区" in html
    assert "charlie" not in html


def test_bob_cannot_manage_users(client, bob, alice):
    client.force_login(bob)
    assert client.get("/accounts/users/").status_code == 403
    assert client.get("/accounts/users/new/").status_code == 403
    assert client.post("/accounts/users/new/", {"username": "mallory", "role": "admin"}).status_code == 403
    assert client.get(url("detail", alice)).status_code == 403
    assert client.post(url("role", alice), {"role": "viewer"}).status_code == 403
    assert client.post(url("deactivate", alice)).status_code == 403
    assert client.post(url("remove", alice)).status_code == 403
    assert not User.objects.filter(username="mallory").exists()
    alice.refresh_from_db()
    assert alice.is_active and Membership.objects.get(user=alice).role == Role.ADMIN


@pytest.mark.parametrize("name", ["detail", "role", "deactivate", "reactivate", "remove"])
def test_charlie_gets_404_on_a_users(client, charlie, bob, name):
    client.force_login(charlie)
    if name == "detail":
        r = client.get(url(name, bob))
    else:
        r = client.post(url(name, bob), {"role": "viewer"})
    assert r.status_code == 404
    bob.refresh_from_db()
    assert bob.is_active and Membership.objects.get(user=bob).role == Role.STAFF
    assert not AuditEntry.objects.filter(org__code="131016").exists()


def test_alice_creates_a_user(client, alice, org_a):
    client.force_login(alice)
    r = client.post(
        "/accounts/users/new/",
        {"username": "carol", "display_name": "千代田 キャロル", "email": "carol@chiyoda.example.jp", "role": "reviewer",
         "password": "carol-long-password-1"},
    )
    assert r.status_code == 302
    carol = User.objects.get(username="carol")
    assert carol.check_password("carol-long-password-1")
    assert Membership.objects.get(user=carol).org == org_a
    assert Membership.objects.get(user=carol).role == Role.REVIEWER
    assert AuditEntry.objects.filter(action="user.create", org=org_a, target_id=str(carol.pk)).exists()


def test_create_user_errors_name_the_field_and_keep_input(client, alice, charlie):
    client.force_login(alice)
    r = client.post("/accounts/users/new/", {"username": "bad name!", "email": "not-an-email", "role": "staff"})
    html = r.content.decode()
    assert r.status_code == 200
    # Every error at once, each on its field, and what was typed is kept.
    assert "id_email-error" in html and "id_username-error" in html and 'value="bad name!"' in html
    r = client.post("/accounts/users/new/", {"username": "bad name!", "role": "staff"})
    assert "ユーザー名には文字・数字と @ . + - _ のみ使えます。" in r.content.decode()
    # A username taken in another body: refused without saying where.
    r = client.post("/accounts/users/new/", {"username": "charlie", "role": "staff"})
    html = r.content.decode()
    assert "このユーザー名は使用できません" in html and "川崎" not in html
    assert User.objects.count() == 4


def test_role_change_and_last_admin_guard(client, alice, bob):
    client.force_login(alice)
    r = client.post(url("role", bob), {"role": "admin"})
    assert r.status_code == 302
    assert Membership.objects.get(user=bob).role == Role.ADMIN
    assert AuditEntry.objects.filter(action="membership.role_change", changes__after__role="admin").exists()
    client.post(url("role", bob), {"role": "staff"})
    # Alice is again the only 管理者: she cannot demote herself.
    r = client.post(url("role", alice), {"role": "staff"}, follow=True)
    assert "最後の管理者" in r.content.decode()
    assert Membership.objects.get(user=alice).role == Role.ADMIN
    r = client.post(url("role", bob), {"role": "boss"})
    assert r.status_code == 400


def test_deactivate_revokes_tokens_and_reactivate(client, alice, bob, org_a):
    mint_token(bob, org_a, ["users:read"])
    client.force_login(alice)
    assert client.post(url("deactivate", bob)).status_code == 302
    bob.refresh_from_db()
    assert not bob.is_active
    assert ApiToken.objects.get(user=bob).revoked_at is not None
    # Retrying is harmless: no second entry.
    client.post(url("deactivate", bob))
    assert AuditEntry.objects.filter(action="user.deactivate").count() == 1
    client.post(url("reactivate", bob))
    bob.refresh_from_db()
    assert bob.is_active


def test_remove_from_body(client, alice, bob):
    client.force_login(alice)
    r = client.post(url("remove", bob))
    assert r.status_code == 302 and r.url == "/accounts/users/"
    assert not Membership.objects.filter(user=bob).exists()
    assert User.objects.filter(username="bob").exists()
    assert client.get(url("detail", bob)).status_code == 404


def test_acting_body_decides_which_users_are_shown(client, alice, charlie, org_b):
    # Alice is also 閲覧者 in B: acting for B she is no 管理者 there.
    Membership.objects.create(user=alice, org=org_b, role=Role.VIEWER)
    client.force_login(alice)
    session = client.session
    session["kiban_org_id"] = org_b.pk
    session.save()
    assert client.get("/accounts/users/").status_code == 403
    assert client.get(url("detail", charlie)).status_code == 403
