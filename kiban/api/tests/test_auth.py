"""API authentication: tokens (scoped, expiring, revocable, audited) and sessions (with CSRF)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kiban.accounts.models import ApiToken, Membership, Role
from kiban.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def test_each_token_use_is_audited(client, alice, make_token, org_a):
    raw = make_token(alice, scopes=["users:read"])
    token = ApiToken.objects.get()
    assert client.get("/api/v1/users", headers=bearer(raw)).status_code == 200
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 200
    uses = AuditEntry.objects.filter(action="token.use").order_by("seq")
    assert [e.changes["after"]["path"] for e in uses] == ["/api/v1/users", "/api/v1/me"]
    assert all(e.org_id == org_a.pk and e.actor_token_prefix == token.prefix for e in uses)
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize("state", ["expired", "revoked", "unknown", "malformed", "mismatch", "inactive"])
def test_every_refusal_looks_the_same_and_is_audited(client, alice, bob, make_token, state):
    raw = make_token(bob, scopes=["orgs:read"])
    token = ApiToken.objects.get()
    if state == "expired":
        ApiToken.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    elif state == "revoked":
        ApiToken.objects.update(revoked_at=timezone.now())
    elif state == "unknown":
        raw = "kbn_" + "q" * 12 + raw[-44:]
    elif state == "malformed":
        raw = "not-a-token"
    elif state == "mismatch":
        raw = raw[:-5] + "AAAAA"
    elif state == "inactive":
        Membership.objects.filter(user=bob).delete()
    r = client.get("/api/v1/me", headers=bearer(raw))
    assert r.status_code == 401
    body = json.loads(r.content)
    assert body["code"] == "invalid_token"
    # The same words whatever the reason: nothing to learn about which tokens exist.
    assert body["detail"] == "APIトークンが無効です (期限切れ・失効・不明のいずれか)。新しいトークンを発行してください。"
    refusal = AuditEntry.objects.get(action="token.refused")
    assert refusal.changes["after"]["reason"] == state
    if state in {"unknown", "malformed"}:
        assert refusal.org_id is None
    else:
        assert refusal.org_id == token.org_id
    assert not AuditEntry.objects.filter(action="token.use").exists()


def test_bad_token_does_not_fall_back_to_session(client, alice):
    client.force_login(alice)
    assert client.get("/api/v1/me").status_code == 200
    assert client.get("/api/v1/me", headers=bearer("kbn_bad")).status_code == 401


def test_scopes_are_enforced(client, alice, make_token):
    raw = make_token(alice, scopes=["users:read"])
    assert client.get("/api/v1/users", headers=bearer(raw)).status_code == 200
    assert client.get("/api/v1/tokens", headers=bearer(raw)).status_code == 403
    r = client.post("/api/v1/users", data={"username": "x", "role": "staff"}, content_type="application/json", headers=bearer(raw))
    assert r.status_code == 403 and json.loads(r.content)["code"] == "insufficient_scope"


def test_token_loses_scopes_its_user_lost(client, bob, make_token, org_a):
    Membership.objects.filter(user=bob).update(role=Role.ADMIN)
    raw = make_token(bob, scopes=["users:read", "users:write"])
    Membership.objects.filter(user=bob).update(role=Role.STAFF)  # demoted outside the action: still safe
    r = client.post("/api/v1/users", data={"username": "x", "role": "staff"}, content_type="application/json", headers=bearer(raw))
    assert r.status_code == 403
    assert client.get("/api/v1/users", headers=bearer(raw)).status_code == 200


def test_token_acts_only_for_its_body(client, alice, make_token, org_b, charlie):
    Membership.objects.create(user=alice, org=org_b, role=Role.ADMIN)
    raw = make_token(alice, org=None)  # first body by code: 千代田区 131016
    me = json.loads(client.get("/api/v1/me", headers=bearer(raw)).content)
    assert me["acting_org"]["code"] == "131016"
    assert [m["org"]["code"] for m in me["memberships"]] == ["131016"]
    users = json.loads(client.get("/api/v1/users", headers=bearer(raw)).content)["items"]
    assert "charlie" not in {u["username"] for u in users}


def test_session_needs_csrf_for_writes():
    from kiban.core.testing import build_world

    w = build_world()
    client = Client(enforce_csrf_checks=True)
    client.force_login(w.alice)
    assert client.get("/api/v1/me").status_code == 200
    payload = {"username": "carol", "role": "staff"}
    r = client.post("/api/v1/users", data=payload, content_type="application/json")
    assert r.status_code == 403 and json.loads(r.content)["code"] == "csrf_failed"
    client.get("/accounts/login/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    r = client.post("/api/v1/users", data=payload, content_type="application/json", headers={"X-CSRFToken": token})
    assert r.status_code == 201


def test_anonymous_post_is_401_not_csrf(client, world):
    r = Client(enforce_csrf_checks=True).post("/api/v1/users", data={}, content_type="application/json")
    assert r.status_code == 401


def test_session_uses_the_acting_body(client, alice, org_b):
    Membership.objects.create(user=alice, org=org_b, role=Role.VIEWER)
    client.force_login(alice)
    session = client.session
    session["kiban_org_id"] = org_b.pk
    session.save()
    me = json.loads(client.get("/api/v1/me").content)
    assert me["acting_org"]["code"] == "141305" and me["role"] == "viewer"
    assert "users:write" not in me["scopes"]
    r = client.post("/api/v1/users", data={"username": "x", "role": "staff"}, content_type="application/json")
    assert r.status_code == 403


def test_user_without_membership(client, world):
    from kiban.accounts.models import User

    loner = User.objects.create(username="loner")
    client.force_login(loner)
    r = client.get("/api/v1/me")
    assert r.status_code == 403 and json.loads(r.content)["code"] == "no_membership"


def test_public_routes_need_no_auth(client, world):
    assert client.get("/api/v1/scopes").status_code == 200
    assert client.get("/api/v1/openapi.json").status_code == 200
    r = client.get("/api/docs")
    assert r.status_code == 200 and "/static/ninja/swagger-ui-bundle.js" in r.content.decode()
    assert "'unsafe-inline'" in r["Content-Security-Policy"]
    assert "'unsafe-inline'" not in client.get("/accounts/login/")["Content-Security-Policy"]


def test_openapi_documents_both_auth_schemes(client, world):
    schema = json.loads(client.get("/api/v1/openapi.json").content)
    schemes = schema["components"]["securitySchemes"]
    assert {"TokenAuth", "SessionAuth"} <= set(schemes)
    assert schemes["TokenAuth"]["scheme"] == "bearer"
    assert schema["paths"]["/api/v1/scopes"]["get"].get("security") in (None, [])


def test_engine_routes_need_their_scope(client, alice, make_token):
    narrow = make_token(alice, scopes=["users:read"])
    wide = make_token(alice, scopes=["address:use"])
    r = client.get("/api/v1/address/bodies/131016", headers=bearer(narrow))
    assert r.status_code == 403 and json.loads(r.content)["code"] == "insufficient_scope"
    assert json.loads(r.content)["rule"] == "address:use"
    assert client.get("/api/v1/address/bodies/131016", headers=bearer(wide)).status_code != 403
    # Every role holds the engines' scopes through the session.
    client.force_login(alice)
    assert client.get("/api/v1/address/bodies/131016").status_code != 403
