"""Idempotency-Key: a retried create gives the first answer and creates nothing more."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from kiban.accounts.models import ApiToken, User
from kiban.api.models import IdempotencyRecord
from kiban.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def h(alice, make_token):
    return {"Authorization": f"Bearer {make_token(alice)}"}


def post(client, url, payload, headers):
    return client.post(url, data=json.dumps(payload), content_type="application/json", headers=headers)


def test_retried_user_creation_is_replayed(client, h):
    payload = {"username": "carol", "role": "staff"}
    first = post(client, "/api/v1/users", payload, {**h, "Idempotency-Key": "req-1"})
    again = post(client, "/api/v1/users", payload, {**h, "Idempotency-Key": "req-1"})
    assert first.status_code == again.status_code == 201
    assert json.loads(first.content) == json.loads(again.content)
    assert User.objects.filter(username="carol").count() == 1
    assert AuditEntry.objects.filter(action="user.create").count() == 1
    # Without the key a repeat is a plain conflict.
    assert post(client, "/api/v1/users", payload, h).status_code == 409


def test_retried_token_creation_never_reshows_the_secret(client, h):
    payload = {"name": "連携", "scopes": ["users:read"]}
    first = json.loads(post(client, "/api/v1/tokens", payload, {**h, "Idempotency-Key": "tok-1"}).content)
    r = post(client, "/api/v1/tokens", payload, {**h, "Idempotency-Key": "tok-1"})
    again = json.loads(r.content)
    assert r.status_code == 201 and again["id"] == first["id"]
    assert first["secret"] and again["secret"] is None
    assert ApiToken.objects.filter(name="連携").count() == 1
    assert first["secret"] not in json.dumps(list(IdempotencyRecord.objects.values("body")))


def test_same_key_other_request_is_refused(client, h):
    post(client, "/api/v1/users", {"username": "carol", "role": "staff"}, {**h, "Idempotency-Key": "k"})
    r = post(client, "/api/v1/users", {"username": "dave", "role": "staff"}, {**h, "Idempotency-Key": "k"})
    body = json.loads(r.content)
    assert r.status_code == 422 and body["code"] == "idempotency_key_reused" and body["field"] == "Idempotency-Key"
    assert not User.objects.filter(username="dave").exists()


def test_failed_request_is_not_remembered(client, h):
    r = post(client, "/api/v1/users", {"username": "bob", "role": "staff"}, {**h, "Idempotency-Key": "k2"})
    assert r.status_code == 409
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("key", ["", "x" * 201, "日本語", "a b"])
def test_bad_key(client, h, key):
    r = post(client, "/api/v1/users", {"username": "carol", "role": "staff"}, {**h, "Idempotency-Key": key})
    assert r.status_code == 422 and json.loads(r.content)["code"] == "invalid_idempotency_key"
    assert not User.objects.filter(username="carol").exists()


def test_keys_are_per_body(client, h, charlie, make_token):
    payload = {"username": "carol", "role": "staff"}
    post(client, "/api/v1/users", payload, {**h, "Idempotency-Key": "shared"})
    hc = {"Authorization": f"Bearer {make_token(charlie)}", "Idempotency-Key": "shared"}
    r = post(client, "/api/v1/users", {"username": "carol-b", "role": "staff"}, hc)
    # Charlie's key space is his own: his request runs, and nothing of A's answer comes back.
    assert r.status_code == 201 and json.loads(r.content)["username"] == "carol-b"


def test_old_keys_expire(client, h):
    payload = {"username": "carol", "role": "staff"}
    post(client, "/api/v1/users", payload, {**h, "Idempotency-Key": "old"})
    IdempotencyRecord.objects.update(created_at=IdempotencyRecord.objects.get().created_at - timedelta(hours=25))
    r = post(client, "/api/v1/users", payload, {**h, "Idempotency-Key": "old"})
    assert r.status_code == 409  # ran again: the username is taken now
