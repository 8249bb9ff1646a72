"""APIトークン pages: issue (secret shown once), list, revoke; Bob 403, Charlie 404."""

from __future__ import annotations

import re

import pytest

from kiban.accounts import tokens
from kiban.accounts.models import ApiToken
from kiban.audit.models import AuditEntry
from kiban.core.testing import mint_token

pytestmark = pytest.mark.django_db


def test_alice_issues_a_token_shown_once(client, alice, org_a):
    client.force_login(alice)
    r = client.get("/accounts/tokens/new/")
    assert r.status_code == 200 and "users:write" in r.content.decode()
    r = client.post("/accounts/tokens/new/", {"name": "集計連携", "scopes": ["users:read"], "expires_in_days": "30"})
    assert r.status_code == 200
    assert "no-store" in r["Cache-Control"]
    secret = re.search(r"kbn_[a-z0-9]{12}_[A-Za-z0-9_-]{43}", r.content.decode()).group(0)
    token = ApiToken.objects.get()
    assert token.org == org_a and token.scopes == ["users:read"]
    assert token.secret_hash == tokens.hash_token(secret) and secret not in token.secret_hash
    listing = client.get("/accounts/tokens/").content.decode()
    assert token.prefix in listing and secret not in listing
    entry = AuditEntry.objects.get(action="token.create")
    assert secret not in str(entry.changes) and entry.org == org_a


def test_token_form_errors_name_the_field(client, alice):
    client.force_login(alice)
    r = client.post("/accounts/tokens/new/", {"name": "", "expires_in_days": "999"})
    html = r.content.decode()
    assert "id_name-error" in html and "id_scopes-error" in html and "id_expires_in_days-error" in html
    r = client.post("/accounts/tokens/new/", {"name": "x", "scopes": ["nope:nope"], "expires_in_days": "30"})
    assert "id_scopes-error" in r.content.decode()
    assert not ApiToken.objects.exists()


def test_bob_cannot_manage_tokens(client, bob, alice, org_a):
    mint_token(alice, org_a)
    token = ApiToken.objects.get()
    client.force_login(bob)
    assert client.get("/accounts/tokens/").status_code == 403
    assert client.post("/accounts/tokens/new/", {"name": "x", "scopes": ["orgs:read"], "expires_in_days": "30"}).status_code == 403
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None


def test_charlie_gets_404_on_a_tokens(client, charlie, alice, org_a):
    mint_token(alice, org_a, name="千代田の秘密の連携")
    token = ApiToken.objects.get()
    client.force_login(charlie)
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert "千代田の秘密の連携" not in client.get("/accounts/tokens/").content.decode()


def test_revoke_is_idempotent_and_audited(client, alice, org_a):
    mint_token(alice, org_a)
    token = ApiToken.objects.get()
    client.force_login(alice)
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.status() == "revoked"
    assert AuditEntry.objects.filter(action="token.revoke").count() == 1
