"""record(): one entry per write, in the write's own transaction (監査記録の追記)."""

import pytest
from django.db import transaction
from django.test import RequestFactory, override_settings

from kiban.audit.chain import GENESIS_HASH
from kiban.audit.log import AuditOutsideTransaction, client_ip, diff_changes, record
from kiban.audit.models import AppendOnlyError, AuditChainHead, AuditEntry
from kiban.audit.verify import verify_chain
from kiban.core.testing import mint_token
from kiban.ops.logging import current_request_id

pytestmark = pytest.mark.django_db


def test_record_outside_atomic_raises(alice, org_a):
    # The test itself runs inside Django's TestCase atomic blocks; record() must not count those, or a
    # forgotten transaction.atomic() in an action would only fail in production.
    with pytest.raises(AuditOutsideTransaction):
        record(actor=alice, org=org_a, action="user.update")
    assert AuditEntry.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_record_outside_atomic_raises_in_autocommit(alice, org_a):
    with pytest.raises(AuditOutsideTransaction):
        record(actor=alice, org=org_a, action="user.update")
    assert AuditEntry.objects.count() == 0


def test_entries_chain_one_to_the_next(alice, org_a):
    with transaction.atomic():
        first = record(actor=alice, org=org_a, action="user.update", target=alice, after={"email": "a@x"})
        second = record(actor=None, org=None, action="orgs.load")
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    head = AuditChainHead.objects.get()
    assert (head.seq, head.hash) == (2, second.hash)
    assert verify_chain().ok


def test_failed_action_rolls_back_its_entry(alice, org_a):
    """An action that fails after recording leaves neither its change nor its entry."""

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with transaction.atomic():
            alice.display_name = "変更後"
            alice.save(update_fields=["display_name"])
            record(actor=alice, org=org_a, action="user.update", target=alice, after={"display_name": "変更後"})
            raise Boom
    alice.refresh_from_db()
    assert alice.display_name != "変更後"
    assert AuditEntry.objects.count() == 0
    assert not AuditChainHead.objects.exists()
    # …and the next entry continues the chain as if nothing happened.
    with transaction.atomic():
        entry = record(actor=alice, org=org_a, action="user.update")
    assert entry.seq == 1 and entry.prev_hash == GENESIS_HASH


def test_actor_user(alice, org_a):
    with transaction.atomic():
        entry = record(actor=alice, org=org_a, action="user.update", target=alice)
    assert entry.actor_user_id == alice.pk
    assert entry.actor_label == "alice"
    assert entry.actor_token_prefix == ""
    assert (entry.target_type, entry.target_id, entry.target_repr) == ("accounts.user", str(alice.pk), str(alice))


def test_actor_token(alice, org_a):
    from kiban.accounts.models import ApiToken

    mint_token(alice, org_a, ["audit:read"])
    token = ApiToken.objects.get()
    with transaction.atomic():
        entry = record(actor=token, org=org_a, action="token.use", target=token)
    assert entry.actor_user_id == alice.pk
    assert entry.actor_token_prefix == token.prefix
    assert entry.actor_label == "alice"


def test_actor_system_and_anonymous(org_a):
    from django.contrib.auth.models import AnonymousUser

    with transaction.atomic():
        system = record(actor=None, org=None, action="orgs.load")
        anonymous = record(actor=AnonymousUser(), org=org_a, action="auth.login_failed", target=("user", "", "mallory"))
    assert (system.actor_user_id, system.actor_label) == (None, "system")
    assert (anonymous.actor_user_id, anonymous.actor_label) == (None, "anonymous")
    assert (anonymous.target_type, anonymous.target_repr) == ("user", "mallory")


def test_request_id_and_ip_from_the_request(alice, org_a):
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1")
    request.request_id = "req-12345678"
    with transaction.atomic():
        entry = record(actor=alice, org=org_a, action="user.update", request=request)
    assert entry.request_id == "req-12345678"
    # No trusted proxy configured: X-Forwarded-For is the client's own claim and is ignored.
    assert entry.ip == "203.0.113.7"


def test_request_id_from_the_logging_context(alice, org_a):
    token = current_request_id.set("ctx-87654321")
    try:
        with transaction.atomic():
            entry = record(actor=alice, org=org_a, action="user.update")
    finally:
        current_request_id.reset(token)
    assert entry.request_id == "ctx-87654321"


@override_settings(KIBAN_TRUSTED_PROXY_COUNT=1)
def test_ip_from_a_trusted_proxy():
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.1"
    )
    # One trusted proxy appended the real client last; "6.6.6.6" was written by the client and is not believed.
    assert client_ip(request) == "198.51.100.1"


def test_ip_garbage_is_dropped():
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="not-an-ip")) == ""
    assert client_ip(None) == ""


def test_changes_keep_only_changed_fields_and_hide_secrets():
    assert diff_changes({"a": 1, "b": 2}, {"a": 1, "b": 3}) == {"before": {"b": 2}, "after": {"b": 3}}
    assert diff_changes(None, {"a": 1}) == {"after": {"a": 1}}
    assert diff_changes({"a": 1}, None) == {"before": {"a": 1}}
    assert diff_changes({"password": "old"}, {"password": "new"}) == {
        "before": {"password": "[秘匿]"},
        "after": {"password": "[秘匿]"},
    }
    assert diff_changes({"x": 1}, {"x": 1}) == {"before": {}, "after": {}}


def test_awkward_values_store_and_verify(alice, org_a):
    """Dates, Decimals, NUL, exponent floats and Japanese text are stored exactly as hashed, on every DB."""
    import datetime
    import decimal

    after = {
        "when": datetime.date(2026, 4, 1),
        "amount": decimal.Decimal("12.50"),
        "nul": "a\x00b",
        "big": 1e16,
        "half": 0.5,
        "名前": "髙橋　𠮷野家\n",
        "nested": {"z": [1, 2.0, None, True], "a": {}},
    }
    with transaction.atomic():
        record(actor=alice, org=org_a, action="user.update", target=("x\x00", "1", "ｶﾅ"), after=after)
    entry = AuditEntry.objects.get()
    assert entry.after["nul"] == "ab"
    assert entry.after["when"] == "2026-04-01"
    assert entry.target_type == "x"
    result = verify_chain()
    assert result.ok, result.message()


def test_entries_cannot_be_changed_or_deleted_through_the_orm(alice, org_a):
    with transaction.atomic():
        entry = record(actor=alice, org=org_a, action="user.update")
    entry.action = "user.delete"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()


def test_a_user_in_the_log_cannot_be_deleted(alice, org_a):
    """PROTECT: deleting the user would null out a hashed id and break the chain; deactivate instead."""
    from django.db.models import ProtectedError

    with transaction.atomic():
        record(actor=alice, org=org_a, action="user.update")
    with pytest.raises(ProtectedError):
        alice.delete()
