"""kiban audit export --org CODE [--since] [--until]: one body's entries as CSV on stdout."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import models, transaction
from django.utils import timezone

from kiban.audit.chain import canonical_json, entry_hash
from kiban.audit.log import record
from kiban.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def export(*args) -> list[list[str]]:
    out = io.StringIO()
    call_command("audit", "export", *args, stdout=out)
    return list(csv.reader(io.StringIO(out.getvalue())))


@pytest.fixture
def entries(alice, charlie, org_a, org_b):
    with transaction.atomic():
        a = record(actor=alice, org=org_a, action="user.update", target=alice, after={"display_name": "アリス"})
        b = record(actor=charlie, org=org_b, action="user.update", target=charlie)
    return a, b


def test_export_holds_only_that_body(entries):
    a, b = entries
    rows = export("--org", "131016")
    assert rows[0][0] == "通番"
    assert [r[0] for r in rows[1:]] == [str(a.seq)]
    assert rows[1][6] == "131016"


def test_five_digit_code_is_accepted(entries):
    assert len(export("--org", "13101")) == 2


def test_each_exported_row_can_be_rechecked_on_its_own(entries):
    """The CSV carries every hashed value as stored, so SHA-256(prev_hash + JSON) can be recomputed."""
    a, _ = entries
    header, row = export("--org", "131016")[:2]
    col = dict(zip(header, row, strict=True))
    fields = {
        "seq": int(col["通番"]),
        "time": col["日時（UTC）"],
        "actor_user_id": int(col["操作者ID"]) if col["操作者ID"] else None,
        "actor_token_prefix": col["APIトークン"],
        "actor_label": col["操作者"],
        "org_id": int(col["団体ID"]),
        "action": col["操作"],
        "target_type": col["対象の種類"],
        "target_id": col["対象ID"],
        "target_repr": col["対象"],
        "changes": __import__("json").loads(col["変更内容"]),
        "request_id": col["リクエストID"],
        "ip": col["IPアドレス"],
    }
    assert entry_hash(col["直前のハッシュ"], fields) == col["ハッシュ"] == a.hash
    assert col["変更内容"] == canonical_json(a.changes)


def test_since_and_until(entries):
    a, _ = entries
    models.QuerySet(model=AuditEntry).filter(pk=a.pk).update(time=timezone.now() - timedelta(days=10))
    today = timezone.localdate()
    assert len(export("--org", "131016", "--since", today.isoformat())) == 1
    # --until is inclusive, as in the viewer: the entry of ten days ago is in "until ten days ago".
    assert len(export("--org", "131016", "--until", (today - timedelta(days=10)).isoformat())) == 2
    assert len(export("--org", "131016", "--until", (today - timedelta(days=11)).isoformat())) == 1


def test_bom_for_excel(entries):
    out = io.StringIO()
    call_command("audit", "export", "--org", "131016", "--bom", stdout=out)
    assert out.getvalue().startswith("\ufeff通番")


def test_unknown_or_invalid_body_is_a_japanese_error(entries):
    with pytest.raises(CommandError, match="登録されていません"):
        export("--org", "011002")  # a valid code (札幌市) that is not in this test database
    with pytest.raises(CommandError, match="団体コード"):
        export("--org", "131017")  # wrong check digit
    with pytest.raises(CommandError, match="2026-04-01 の形"):
        export("--org", "131016", "--since", "昨日")
