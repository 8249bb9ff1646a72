"""API token secrets: hashed storage, lookup by prefix, every refusal reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kiban.accounts import tokens
from kiban.accounts.models import ApiToken, Membership
from kiban.core.testing import mint_token

pytestmark = pytest.mark.django_db


def test_format_and_hash(world):
    raw = mint_token(world.alice, world.org_a, ["orgs:read"])
    token = ApiToken.objects.get()
    assert tokens.TOKEN_RE.match(raw)
    assert raw.startswith(f"kbn_{token.prefix}_")
    assert token.secret_hash == tokens.hash_token(raw) and raw not in token.secret_hash
    assert tokens.check(raw) == (token, "ok", token.prefix)


@pytest.mark.parametrize("raw", ["", "kbn_", "Bearer x", "kbn_short_x", "kbn_ABCDEFGHIJKL_" + "a" * 43, "x" * 5000])
def test_malformed(world, raw):
    assert tokens.check(raw)[:2] == (None, "malformed")


def test_refusal_reasons(world):
    raw = mint_token(world.alice, world.org_a, ["orgs:read"])
    token = ApiToken.objects.get()
    prefix = token.prefix
    assert tokens.check(f"kbn_{'z' * 12}_{raw[-43:]}")[1] == "unknown"
    assert tokens.check(f"kbn_{prefix}_{'A' * 43}")[1] == "mismatch"
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert tokens.check(raw)[1] == "expired"
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert tokens.check(raw)[1] == "revoked"


def test_token_of_removed_or_inactive_member_is_refused(world):
    raw = mint_token(world.bob, world.org_a, ["orgs:read"])
    world.bob.is_active = False
    world.bob.save()
    assert tokens.check(raw)[1] == "inactive"
    world.bob.is_active = True
    world.bob.save()
    Membership.objects.filter(user=world.bob).delete()
    assert tokens.check(raw)[1] == "inactive"
