"""The audit log pages: 管理者 of a body see its entries only (監査ログ画面).

Alice is 管理者 of 千代田区 (A), Bob 職員 of A, Charlie 管理者 of 川崎市 (B).
* Charlie gets 404 for A's entries: to him they do not exist.
* Bob gets 403: the body is his own, so refusing says nothing he does not know (kiban.core.tenancy's rule),
  and it tells him why — the audit log is for 管理者 only.
"""

import csv
import io

import pytest
from django.db import transaction
from django.urls import reverse

from kiban.audit.log import record
from kiban.audit.models import AuditEntry
from kiban.core.testing import BaseTestCase

# Marked so that the PostgreSQL run of `make test` (KIBAN_DB_TESTS_ONLY=1) keeps these TestCase tests.
pytestmark = pytest.mark.django_db


class AuditPagesTestCase(BaseTestCase):
    def setUp(self):
        with transaction.atomic():
            self.a1 = record(actor=self.alice, org=self.org_a, action="user.update", target=self.bob,
                             before={"display_name": "旧名"}, after={"display_name": "千代田 ボブ"})
            self.b1 = record(actor=self.charlie, org=self.org_b, action="token.create", target=self.charlie)
            self.a2 = record(actor=self.alice, org=self.org_a, action="membership.role_change", target=self.bob,
                             before={"role": "viewer"}, after={"role": "staff"})
            self.sys = record(actor=None, org=None, action="orgs.load")

    def test_alice_sees_her_bodys_entries(self):
        self.client.force_login(self.alice)
        r = self.client.get(reverse("audit:list"))
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "役割の変更")
        self.assertContains(r, reverse("audit:detail", args=[self.a1.seq]))
        self.assertContains(r, reverse("audit:detail", args=[self.a2.seq]))
        self.assertNotContains(r, reverse("audit:detail", args=[self.b1.seq]))
        self.assertNotContains(r, reverse("audit:detail", args=[self.sys.seq]))

    def test_alice_opens_an_entry(self):
        self.client.force_login(self.alice)
        r = self.client.get(reverse("audit:detail", args=[self.a2.seq]))
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "viewer")
        self.assertContains(r, self.a2.hash)

    def test_charlie_gets_404_for_a_bodys_entry(self):
        self.client.force_login(self.charlie)
        r = self.client.get(reverse("audit:detail", args=[self.a1.seq]))
        self.assertEqual(r.status_code, 404)

    def test_charlie_list_and_csv_hold_nothing_of_a(self):
        self.client.force_login(self.charlie)
        r = self.client.get(reverse("audit:list"))
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, reverse("audit:detail", args=[self.b1.seq]))
        self.assertNotContains(r, reverse("audit:detail", args=[self.a1.seq]))
        r = self.client.get(reverse("audit:export"))
        body = b"".join(r.streaming_content).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(body)))[1:]
        # B's own entries only: token.create and the export itself. (B's first entry's prev_hash is A's
        # entry's hash — the chain runs through all bodies — but a hash reveals nothing of the entry.)
        self.assertEqual([r[0] for r in rows], [str(self.b1.seq), str(self.b1.seq + 3)])
        self.assertEqual({r[6] for r in rows}, {"141305"})
        self.assertNotIn("千代田", body)
        self.assertNotIn(self.a2.hash, body)

    def test_absurd_seq_is_404_not_500(self):
        self.client.force_login(self.alice)
        r = self.client.get("/audit/99999999999999999999999/")
        self.assertEqual(r.status_code, 404)

    def test_nobody_sees_system_entries(self):
        for user in (self.alice, self.charlie, self.dan):
            self.client.force_login(user)
            r = self.client.get(reverse("audit:detail", args=[self.sys.seq]))
            self.assertEqual(r.status_code, 404)

    def test_bob_staff_gets_403(self):
        self.client.force_login(self.bob)
        for url in (reverse("audit:list"), reverse("audit:detail", args=[self.a1.seq]), reverse("audit:export")):
            r = self.client.get(url)
            self.assertEqual(r.status_code, 403, url)
        self.assertFalse(AuditEntry.objects.filter(action="audit.export").exists())

    def test_anonymous_is_sent_to_login(self):
        r = self.client.get(reverse("audit:list"))
        self.assertEqual(r.status_code, 302)
        self.assertIn("login", r["Location"])

    def test_filter_by_action(self):
        self.client.force_login(self.alice)
        r = self.client.get(reverse("audit:list"), {"action": "user.update"})
        self.assertContains(r, reverse("audit:detail", args=[self.a1.seq]))
        self.assertNotContains(r, reverse("audit:detail", args=[self.a2.seq]))

    def test_filter_with_bad_dates_explains_in_japanese(self):
        self.client.force_login(self.alice)
        r = self.client.get(reverse("audit:list"), {"since": "2026-05-01", "until": "2026-04-01"})
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "終了日は開始日以降の日付にしてください。")
        r = self.client.get(reverse("audit:list"), {"since": "きのう"})
        self.assertContains(r, "開始日は 2026-04-01 の形で入力してください。")

    def test_paging_by_seq(self):
        with transaction.atomic():
            for i in range(60):
                record(actor=self.alice, org=self.org_a, action="auth.login", target=self.alice)
        self.client.force_login(self.alice)
        first = self.client.get(reverse("audit:list"))
        self.assertEqual(len(first.context["entries"]), 50)
        older = first.context["older_seq"]
        self.assertIsNotNone(older)
        second = self.client.get(reverse("audit:list"), {"before": older})
        seqs = [e.seq for e in second.context["entries"]]
        self.assertEqual(len(seqs), 12)  # 62 of A's entries in all
        self.assertTrue(all(s < older for s in seqs))
        self.assertEqual(second.context["newer_seq"], seqs[0])
        back = self.client.get(reverse("audit:list"), {"after": seqs[0]})
        self.assertEqual([e.seq for e in back.context["entries"]], [e.seq for e in first.context["entries"]])
        # Garbage page positions are the first page, not an error.
        self.assertEqual(self.client.get(reverse("audit:list"), {"before": "x'; --"}).status_code, 200)

    def test_csv_export_is_recorded_and_readable_in_excel(self):
        self.client.force_login(self.alice)
        r = self.client.get(reverse("audit:export"), {"action": "user.update"})
        self.assertEqual(r.status_code, 200)
        self.assertIn("attachment;", r["Content-Disposition"])
        self.assertIn("131016", r["Content-Disposition"])
        raw = b"".join(r.streaming_content)
        self.assertTrue(raw.startswith(b"\xef\xbb\xbf"))  # BOM: Excel reads it as UTF-8
        lines = raw.decode("utf-8-sig").splitlines()
        self.assertTrue(lines[0].startswith("通番,"))
        self.assertEqual(len(lines), 2)  # header + the one user.update entry
        self.assertIn(self.a1.hash, lines[1])
        export = AuditEntry.objects.get(action="audit.export")
        self.assertEqual((export.org_id, export.actor_user_id), (self.org_a.pk, self.alice.pk))
        self.assertEqual(export.after, {"filters": {"action": "user.update"}})

    def test_csv_cells_cannot_become_formulas(self):
        with transaction.atomic():
            record(actor=self.alice, org=self.org_a, action="user.update", target=("x", "1", "=HYPERLINK(\"http://evil\")"))
        self.client.force_login(self.alice)
        body = b"".join(self.client.get(reverse("audit:export")).streaming_content).decode("utf-8-sig")
        self.assertIn("'=HYPERLINK", body)
