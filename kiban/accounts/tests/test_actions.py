"""kiban.accounts.actions: permission checks, validation naming the field, audit in the same transaction."""

from __future__ import annotations

from unittest import mock

import pytest

from kiban.accounts import actions
from kiban.accounts.actions import AccountsError
from kiban.accounts.models import ApiToken, Membership, Role, User
from kiban.audit.models import AuditEntry
from kiban.core.testing import mint_token

pytestmark = pytest.mark.django_db


def test_only_admins_of_the_body_act(world):
    for who in (world.bob, world.charlie, world.dan, None):
        with pytest.raises(AccountsError) as exc:
            actions.do_create_user(org=world.org_a, username="mallory", role="admin", acting_user=who)
        assert exc.value.status == 403
    assert not User.objects.filter(username="mallory").exists()
    assert not AuditEntry.objects.exists()


def test_token_acting_user_is_limited_to_its_body(world):
    mint_token(world.alice, world.org_a, ["users:write"])
    token = ApiToken.objects.get()
    Membership.objects.create(user=world.alice, org=world.org_b, role=Role.ADMIN)
    # Alice is 管理者 of B too, but her A token cannot act in B.
    with pytest.raises(AccountsError):
        actions.do_create_user(org=world.org_b, username="x1", role="staff", acting_user=token)
    user = actions.do_create_user(org=world.org_a, username="x2", role="staff", acting_user=token)
    entry = AuditEntry.objects.get(action="user.create")
    assert entry.actor_token_prefix == token.prefix and entry.target_id == str(user.pk)


@pytest.mark.parametrize(
    "kwargs, field, rule",
    [
        ({"username": ""}, "username", "required"),
        ({"username": "a b"}, "username", "format"),
        ({"username": "x" * 151}, "username", "max_length"),
        ({"email": "nope"}, "email", "format"),
        ({"role": "boss"}, "role", "choice"),
        ({"display_name": "名" * 101}, "display_name", "max_length"),
        ({"password": "123"}, "password", "password_policy"),
        ({"username": "ALICE"}, "username", "unique"),
    ],
)
def test_bad_input_names_field_and_rule_and_writes_nothing(world, kwargs, field, rule):
    args = {"org": world.org_a, "username": "dave", "role": "staff", "acting_user": world.alice, **kwargs}
    before = User.objects.count()
    with pytest.raises(AccountsError) as exc:
        actions.do_create_user(**args)
    assert (exc.value.field, exc.value.rule) == (field, rule)
    assert exc.value.message("ja") != exc.value.message("en")
    assert User.objects.count() == before and not AuditEntry.objects.exists()


def test_audit_failure_rolls_the_change_back(world):
    with mock.patch("kiban.accounts.actions.record", side_effect=RuntimeError("audit down")):
        with pytest.raises(RuntimeError):
            actions.do_create_user(org=world.org_a, username="dave", role="staff", acting_user=world.alice)
    assert not User.objects.filter(username="dave").exists()


def test_user_without_password_cannot_sign_in(world):
    user = actions.do_create_user(org=world.org_a, username="dave", role="staff", acting_user=world.alice)
    assert not user.has_usable_password()


def test_token_scopes_stay_within_role(world):
    Membership.objects.filter(user=world.bob).update(role=Role.ADMIN)
    token, raw = actions.do_create_api_token(org=world.org_a, name="t", scopes=["users:read"], acting_user=world.bob)
    Membership.objects.filter(user=world.bob).update(role=Role.STAFF)
    # Bob (職員 now) cannot mint, and a token cannot mint a token with more than its own scopes.
    with pytest.raises(AccountsError):
        actions.do_create_api_token(org=world.org_a, name="t2", scopes=["users:read"], acting_user=world.bob)
    mint_token(world.alice, world.org_a, ["tokens:write", "users:read"])
    minting = ApiToken.objects.get(scopes=["tokens:write", "users:read"])
    with pytest.raises(AccountsError) as exc:
        actions.do_create_api_token(org=world.org_a, name="t3", scopes=["users:write"], acting_user=minting)
    assert exc.value.field == "scopes" and exc.value.rule == "within_role"
    child, _ = actions.do_create_api_token(org=world.org_a, name="t4", scopes=["users:read"], acting_user=minting)
    assert child.user == world.alice


@pytest.mark.parametrize("days", [0, 366, -1])
def test_token_expiry_range(world, days):
    with pytest.raises(AccountsError) as exc:
        actions.do_create_api_token(org=world.org_a, name="t", scopes=["orgs:read"], acting_user=world.alice, expires_in_days=days)
    assert exc.value.field == "expires_in_days"
    assert not ApiToken.objects.exists()


def test_demotion_revokes_tokens_beyond_the_new_role(world):
    Membership.objects.filter(user=world.bob).update(role=Role.ADMIN)
    wide, _ = actions.do_create_api_token(org=world.org_a, name="wide", scopes=["users:write"], acting_user=world.bob)
    narrow, _ = actions.do_create_api_token(org=world.org_a, name="narrow", scopes=["orgs:read"], acting_user=world.bob)
    actions.do_change_role(Membership.objects.get(user=world.bob), Role.STAFF, acting_user=world.alice)
    wide.refresh_from_db()
    narrow.refresh_from_db()
    assert wide.is_revoked and not narrow.is_revoked


def test_removing_membership_revokes_tokens_of_that_body(world):
    mint_token(world.bob, world.org_a, ["orgs:read"])
    actions.do_remove_membership(Membership.objects.get(user=world.bob), acting_user=world.alice)
    assert ApiToken.objects.get().is_revoked
    assert AuditEntry.objects.filter(action="membership.remove", org=world.org_a).exists()


def test_deactivation_needs_admin_of_every_body_of_the_user(world):
    Membership.objects.create(user=world.bob, org=world.org_b, role=Role.STAFF)
    with pytest.raises(AccountsError) as exc:
        actions.do_deactivate_user(world.bob, org=world.org_a, acting_user=world.alice)
    assert exc.value.code == "other_bodies"
    with pytest.raises(AccountsError):
        actions.do_deactivate_user(world.alice, org=world.org_a, acting_user=world.alice)
    world.bob.refresh_from_db()
    assert world.bob.is_active


def test_last_admin_cannot_be_removed(world):
    with pytest.raises(AccountsError) as exc:
        actions.do_remove_membership(Membership.objects.get(user=world.alice), acting_user=world.alice)
    assert exc.value.code == "last_admin" and exc.value.status == 409


def test_update_user(world):
    actions.do_update_user(world.bob, org=world.org_a, acting_user=world.alice, email="bob2@chiyoda.example.jp")
    entry = AuditEntry.objects.get(action="user.update")
    assert entry.changes == {"before": {"email": "bob@chiyoda.example.jp"}, "after": {"email": "bob2@chiyoda.example.jp"}}
    # Same values again: no write, no entry.
    actions.do_update_user(world.bob, org=world.org_a, acting_user=world.alice, email="bob2@chiyoda.example.jp")
    assert AuditEntry.objects.filter(action="user.update").count() == 1
    with pytest.raises(AccountsError):
        actions.do_update_user(world.charlie, org=world.org_a, acting_user=world.alice, email="x@example.org")
