"""/api/v1/me, /users, /tokens: Alice manages body A, Bob reads, Charlie gets 404 on A's objects."""

from __future__ import annotations

import json

import pytest

from kiban.accounts import tokens
from kiban.accounts.models import ApiToken, Membership, Role, User
from kiban.audit.models import AuditEntry
from kiban.core.testing import mint_token

pytestmark = pytest.mark.django_db


def H(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def j(r) -> dict:
    return json.loads(r.content)


def test_me(client, alice, make_token):
    raw = make_token(alice, scopes=["users:read"])
    me = j(client.get("/api/v1/me", headers=H(raw)))
    assert me["username"] == "alice" and me["role"] == "admin"
    assert me["scopes"] == ["users:read"] and me["token"]["scopes"] == ["users:read"]
    client.force_login(alice)
    me = j(client.get("/api/v1/me"))
    assert me["token"] is None and "users:write" in me["scopes"]


def test_list_users_of_my_body(client, alice, bob, make_token):
    body = j(client.get("/api/v1/users", headers=H(make_token(bob, scopes=["users:read"]))))
    assert [u["username"] for u in body["items"]] == ["alice", "bob"]
    assert body["next_cursor"] is None
    assert body["items"][1] == {
        "id": bob.pk, "username": "bob", "display_name": "千代田 ボブ", "email": "bob@chiyoda.example.jp",
        "role": "staff", "is_active": True,
    }


def test_bob_cannot_write_users_or_tokens(client, bob, alice, make_token):
    raw = make_token(bob)  # every scope a 職員 may hold
    me = j(client.get("/api/v1/me", headers=H(raw)))
    assert "users:write" not in me["scopes"] and "tokens:read" not in me["scopes"]
    r = client.post("/api/v1/users", data={"username": "m", "role": "admin"}, content_type="application/json", headers=H(raw))
    assert r.status_code == 403
    r = client.patch(f"/api/v1/users/{alice.pk}", data={"role": "viewer"}, content_type="application/json", headers=H(raw))
    assert r.status_code == 403
    assert client.get("/api/v1/tokens", headers=H(raw)).status_code == 403
    assert Membership.objects.get(user=alice).role == Role.ADMIN


class TestCharlieGets404OnA:
    @pytest.fixture
    def setup(self, charlie, alice, bob, org_a, make_token):
        mint_token(alice, org_a, name="千代田の連携")
        a_token = ApiToken.objects.get(org=org_a)
        return make_token(charlie), a_token

    def test_user_detail(self, client, setup, bob):
        raw, _ = setup
        assert client.get(f"/api/v1/users/{bob.pk}", headers=H(raw)).status_code == 404

    def test_user_patch(self, client, setup, bob):
        raw, _ = setup
        r = client.patch(f"/api/v1/users/{bob.pk}", data={"is_active": False, "role": "admin"},
                         content_type="application/json", headers=H(raw))
        assert r.status_code == 404
        bob.refresh_from_db()
        assert bob.is_active and Membership.objects.get(user=bob).role == Role.STAFF

    def test_user_delete(self, client, setup, bob):
        raw, _ = setup
        assert client.delete(f"/api/v1/users/{bob.pk}", headers=H(raw)).status_code == 404
        assert Membership.objects.filter(user=bob).exists()

    def test_token_detail_and_revoke(self, client, setup):
        raw, a_token = setup
        assert client.get(f"/api/v1/tokens/{a_token.pk}", headers=H(raw)).status_code == 404
        assert client.delete(f"/api/v1/tokens/{a_token.pk}", headers=H(raw)).status_code == 404
        a_token.refresh_from_db()
        assert a_token.revoked_at is None

    def test_lists_show_only_b(self, client, setup):
        raw, a_token = setup
        users = client.get("/api/v1/users", headers=H(raw)).content.decode()
        toks = client.get("/api/v1/tokens", headers=H(raw)).content.decode()
        assert "alice" not in users and "bob" not in users and "charlie" in users
        assert a_token.prefix not in toks and "千代田の連携" not in toks

    def test_a_404_looks_like_a_missing_one(self, client, setup, bob):
        raw, _ = setup
        theirs = client.get(f"/api/v1/users/{bob.pk}", headers=H(raw))
        missing = client.get("/api/v1/users/987654", headers=H(raw))
        strip = lambda r: {k: v for k, v in j(r).items() if k not in {"instance", "request_id"}}  # noqa: E731
        assert strip(theirs) == strip(missing)


def test_create_user_and_retry(client, alice, org_a, make_token):
    raw = make_token(alice)
    payload = {"username": "carol", "role": "reviewer", "email": "carol@chiyoda.example.jp", "password": "carol-long-pass-1"}
    r = client.post("/api/v1/users", data=payload, content_type="application/json", headers=H(raw))
    assert r.status_code == 201
    assert j(r)["role"] == "reviewer"
    carol = User.objects.get(username="carol")
    assert Membership.objects.get(user=carol).org == org_a
    # A retry is refused with a conflict and changes nothing.
    r = client.post("/api/v1/users", data=payload, content_type="application/json", headers=H(raw))
    assert r.status_code == 409
    assert User.objects.filter(username="carol").count() == 1
    assert AuditEntry.objects.filter(action="user.create").count() == 1


def test_patch_user(client, alice, bob, make_token):
    raw = make_token(alice)
    r = client.patch(f"/api/v1/users/{bob.pk}", data={"role": "reviewer", "display_name": "ボブ"},
                     content_type="application/json", headers=H(raw))
    assert r.status_code == 200 and j(r)["role"] == "reviewer" and j(r)["display_name"] == "ボブ"
    r = client.patch(f"/api/v1/users/{bob.pk}", data={"is_active": False}, content_type="application/json", headers=H(raw))
    assert j(r)["is_active"] is False
    r = client.patch(f"/api/v1/users/{alice.pk}", data={"role": "staff"}, content_type="application/json", headers=H(raw))
    assert r.status_code == 409 and j(r)["code"] == "last_admin"


def test_remove_user(client, alice, bob, make_token):
    raw = make_token(alice)
    assert client.delete(f"/api/v1/users/{bob.pk}", headers=H(raw)).status_code == 204
    assert client.delete(f"/api/v1/users/{bob.pk}", headers=H(raw)).status_code == 404


def test_token_lifecycle(client, alice, org_a, make_token):
    raw = make_token(alice)
    r = client.post("/api/v1/tokens", data={"name": "集計", "scopes": ["users:read"], "expires_in_days": 7},
                    content_type="application/json", headers=H(raw))
    assert r.status_code == 201 and r["Cache-Control"] == "no-store"
    created = j(r)
    secret = created["secret"]
    assert tokens.TOKEN_RE.match(secret) and created["status"] == "active"
    # The new token works, and the secret is never shown again.
    assert client.get("/api/v1/users", headers=H(secret)).status_code == 200
    shown = client.get(f"/api/v1/tokens/{created['id']}", headers=H(raw))
    assert "secret" not in j(shown) and secret not in client.get("/api/v1/tokens", headers=H(raw)).content.decode()
    # Revoke, twice: same answer, one audit entry, and the token stops working.
    r1 = client.delete(f"/api/v1/tokens/{created['id']}", headers=H(raw))
    r2 = client.delete(f"/api/v1/tokens/{created['id']}", headers=H(raw))
    assert r1.status_code == r2.status_code == 200 and j(r1)["status"] == j(r2)["status"] == "revoked"
    assert j(r1)["revoked_at"] == j(r2)["revoked_at"]
    assert AuditEntry.objects.filter(action="token.revoke").count() == 1
    assert client.get("/api/v1/users", headers=H(secret)).status_code == 401


def test_token_create_bad_input(client, alice, make_token):
    raw = make_token(alice)
    before = ApiToken.objects.count()
    for payload, field in [
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["nope"]}, "scopes"),
        ({"name": "", "scopes": ["users:read"]}, "name"),
        ({"name": "x", "scopes": ["users:read"], "expires_in_days": 400}, "expires_in_days"),
    ]:
        r = client.post("/api/v1/tokens", data=payload, content_type="application/json", headers=H(raw))
        assert r.status_code in (400, 422) and j(r)["field"] == field, (payload, j(r))
    assert ApiToken.objects.count() == before


def test_scopes_list_is_public(client, world):
    scopes = {s["name"]: s for s in j(client.get("/api/v1/scopes"))}
    assert scopes["users:write"]["roles"] == ["admin"] and scopes["users:write"]["label"] == "利用者の管理"
