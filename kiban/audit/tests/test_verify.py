"""kiban audit verify finds the first edited, deleted, inserted or reordered entry (改ざん検知).

Hypothesis builds a chain, tampers with it the way someone with database access would (raw updates and
deletes that bypass the append-only guards), and checks that verify fails at exactly that entry.
"""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import models, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from kiban.audit.chain import HASHED_FIELDS, canonical_time, entry_hash
from kiban.audit.log import record
from kiban.audit.models import AuditChainHead, AuditEntry
from kiban.audit.verify import verify_chain
from kiban.core.testing import build_world

# Marked so that the PostgreSQL run of `make test` (KIBAN_DB_TESTS_ONLY=1) keeps these TestCase tests.
pytestmark = pytest.mark.django_db

EDITABLE = [*HASHED_FIELDS, "prev_hash", "hash"]
tamper_settings = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def raw(qs):
    """The plain QuerySet API, bypassing AuditEntryQuerySet's refusal to update/delete (as raw SQL would)."""
    return models.QuerySet(model=qs.model, query=qs.query, using=qs.db)


class ChainMixin:
    """The shared test world and a chain builder/tamperer."""

    @classmethod
    def setUpTestData(cls):
        cls.world = build_world()

    def build(self, n: int) -> list[AuditEntry]:
        w = self.world
        with transaction.atomic():
            for i in range(n):
                actor = [w.alice, w.charlie, None][i % 3]
                org = [w.org_a, w.org_b, None][i % 3]
                record(
                    actor=actor,
                    org=org,
                    action=["user.update", "token.use", "orgs.load"][i % 3],
                    target=w.bob if i % 2 else None,
                    before={"role": "staff", "n": i},
                    after={"role": "admin", "n": i, "名前": "千代田"},
                )
        return list(AuditEntry.objects.order_by("seq"))

    def edit(self, entry: AuditEntry, field: str) -> None:
        w = self.world
        value = getattr(entry, field)
        if field == "seq":
            new = 10**12 + entry.seq
        elif field == "time":
            new = value + timedelta(microseconds=1)
        elif field == "actor_user_id":
            new = w.dan.pk if value is None else None
        elif field == "org_id":
            new = w.ministry.pk if value is None else None
        elif field == "changes":
            new = {"after": {"tampered": True}}
        elif field in ("prev_hash", "hash"):
            new = ("1" if value[0] != "1" else "2") + value[1:]
        else:
            new = value + "x"
        raw(AuditEntry.objects.filter(pk=entry.pk)).update(**{field: new})

    def assert_fails_at(self, seq: int) -> None:
        result = verify_chain(batch_size=3)  # small batches: the keyset paging is exercised too
        assert not result.ok, "tampering went unnoticed"
        assert result.bad_seq == seq, result.message()


class TamperTestCase(ChainMixin, TestCase):

    @tamper_settings
    @given(n=st.integers(1, 9), data=st.data())
    def test_editing_any_field_of_any_entry_fails_at_that_entry(self, n, data):
        entries = self.build(n)
        assert verify_chain().ok
        victim = data.draw(st.sampled_from(entries), label="entry")
        field = data.draw(st.sampled_from(EDITABLE), label="field")
        self.edit(victim, field)
        self.assert_fails_at(victim.seq)

    @tamper_settings
    @given(n=st.integers(1, 9), data=st.data())
    def test_deleting_any_entry_fails_at_that_entry(self, n, data):
        entries = self.build(n)
        victim = data.draw(st.sampled_from(entries), label="entry")
        raw(AuditEntry.objects.filter(pk=victim.pk)).delete()
        self.assert_fails_at(victim.seq)

    @tamper_settings
    @given(n=st.integers(2, 9), data=st.data())
    def test_swapping_any_two_entries_fails_at_the_first(self, n, data):
        entries = self.build(n)
        i, j = sorted(data.draw(st.lists(st.sampled_from(entries), min_size=2, max_size=2, unique=True), label="pair"),
                      key=lambda e: e.seq)  # fmt: skip
        if data.draw(st.booleans(), label="swap seq numbers (else swap contents)"):
            # Reordering: the two rows exchange their places in the sequence.
            raw(AuditEntry.objects.filter(pk=i.pk)).update(seq=10**12)
            raw(AuditEntry.objects.filter(pk=j.pk)).update(seq=i.seq)
            raw(AuditEntry.objects.filter(pk=i.pk)).update(seq=j.seq)
        else:
            # The rows keep their seq but exchange everything else, hashes included.
            columns = [f for f in EDITABLE if f != "seq"]
            values_i = {f: getattr(i, f) for f in columns}
            values_j = {f: getattr(j, f) for f in columns}
            raw(AuditEntry.objects.filter(pk=i.pk)).update(**values_j)
            raw(AuditEntry.objects.filter(pk=j.pk)).update(**values_i)
        self.assert_fails_at(i.seq)

    def test_entry_appended_behind_record_is_found(self):
        """Even with a correct hash, an entry the chain head does not know was not written by record()."""
        entries = self.build(3)
        last = entries[-1]
        now = last.time + timedelta(seconds=1)
        fields = {k: getattr(last, k) for k in HASHED_FIELDS if k not in ("seq", "time")}
        fields |= {"seq": 4, "action": "user.create"}
        digest = entry_hash(last.hash, fields | {"time": canonical_time(now)})
        AuditEntry.objects.bulk_create([AuditEntry(time=now, prev_hash=last.hash, hash=digest, **fields)])
        result = verify_chain()
        assert (result.ok, result.reason, result.bad_seq) == (False, "beyond_head", 4)

    def test_last_entry_rehashed_consistently_is_caught_by_the_head(self):
        entries = self.build(3)
        last = entries[-1]
        fields = {k: getattr(last, k) for k in HASHED_FIELDS}
        fields |= {"time": canonical_time(last.time), "action": "user.delete"}
        raw(AuditEntry.objects.filter(pk=last.pk)).update(action="user.delete", hash=entry_hash(last.prev_hash, fields))
        result = verify_chain()
        assert (result.ok, result.reason, result.bad_seq) == (False, "head_mismatch", 3)

    def test_empty_log_verifies(self):
        result = verify_chain()
        assert result.ok and result.checked == 0

    def test_anchor_kept_elsewhere(self):
        entries = self.build(4)
        anchor = (2, entries[1].hash)
        assert verify_chain(anchor=anchor).ok
        # Someone rewrites the whole chain from seq 2 on, head included: only the anchor can tell.
        prev = entries[0].hash
        for entry in entries[1:]:
            fields = {k: getattr(entry, k) for k in HASHED_FIELDS} | {"time": canonical_time(entry.time)}
            fields["target_repr"] = "書き換え"
            digest = entry_hash(prev, fields)
            raw(AuditEntry.objects.filter(pk=entry.pk)).update(target_repr="書き換え", prev_hash=prev, hash=digest)
            prev = digest
        AuditChainHead.objects.filter(pk=1).update(hash=prev)
        assert verify_chain().ok
        result = verify_chain(anchor=anchor)
        assert (result.ok, result.reason, result.bad_seq) == (False, "anchor", 2)


class VerifyCommandTestCase(ChainMixin, TestCase):
    def test_exit_0_with_a_summary(self):
        self.build(5)
        out = StringIO()
        call_command("audit", "verify", stdout=out)
        assert "正常: 5 件" in out.getvalue()

    def test_exit_1_naming_the_first_bad_entry(self):
        entries = self.build(5)
        self.edit(entries[2], "target_repr")
        err = StringIO()
        with pytest.raises(SystemExit) as exit_info:
            call_command("audit", "verify", stderr=err, stdout=StringIO())
        assert exit_info.value.code == 1
        message = err.getvalue()
        assert "通番 3 の内容がハッシュと一致しません" in message
        assert f"id {entries[2].pk}" in message

    def test_deleted_entry_is_named(self):
        entries = self.build(5)
        raw(AuditEntry.objects.filter(pk=entries[1].pk)).delete()
        err = StringIO()
        with pytest.raises(SystemExit):
            call_command("audit", "verify", stderr=err, stdout=StringIO())
        assert "通番 2 の記録がありません" in err.getvalue()

    def test_json_output_and_anchor_from_head(self):
        self.build(2)
        out = StringIO()
        call_command("audit", "head", stdout=out)
        anchor = out.getvalue().strip()
        out = StringIO()
        call_command("audit", "verify", "--json", f"--anchor={anchor}", stdout=out)
        assert '"ok": true' in out.getvalue()

    def test_bad_anchor_is_a_clear_error(self):
        from django.core.management import CommandError

        with pytest.raises(CommandError, match="通番:ハッシュ"):
            call_command("audit", "verify", "--anchor=abc")


class UnreadableRowTestCase(ChainMixin, TestCase):
    def test_bytes_that_are_not_text_are_reported_not_crashed_on(self):
        from django.db import connection

        if connection.vendor != "sqlite":
            self.skipTest("PostgreSQL refuses invalid UTF-8 on write")
        entries = self.build(4)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditentry SET target_repr = CAST(X'FFFE' AS TEXT) WHERE id = %s", [entries[2].pk])
        result = verify_chain()
        assert (result.ok, result.reason, result.bad_seq, result.bad_id) == (False, "unreadable", 3, entries[2].pk)


class WorkersTestCase(ChainMixin, TestCase):
    def test_workers_fall_back_to_one_pass_where_processes_cannot_help(self):
        from kiban.audit.verify import default_workers

        # Small logs, and any call from inside a transaction (a forked worker could not see its rows).
        assert default_workers(10, "default") == 1
        assert default_workers(10**6, "default") == 1  # TestCase: we are inside a transaction
        self.build(3)
        result = verify_chain(workers=None)
        assert result.ok and result.details["workers"] == 1
        # Asked for explicitly, too: forked workers would not see this test's uncommitted rows.
        result = verify_chain(workers=3)
        assert result.ok and result.details["workers"] == 1 and result.checked == 3

    def test_bad_workers_option_is_a_clear_error(self):
        from django.core.management import CommandError

        with pytest.raises(CommandError, match="--workers"):
            call_command("audit", "verify", "--workers=0")
