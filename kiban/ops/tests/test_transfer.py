"""Per-body export and import (団体データの書き出し・取り込み)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from kiban.accounts.models import ApiToken, Membership, User
from kiban.audit.models import AuditEntry
from kiban.ops import transfer


@pytest.fixture
def notebooks(transactional_db):
    """The test-only models, registered and given tables for this test only: afterwards no other test's
    export must see them."""
    from django.apps import apps

    from kiban.ops.tests.transfer_models import Note, Notebook

    for model in (Notebook, Note):
        if model._meta.model_name not in apps.all_models["ops"]:
            apps.register_model("ops", model)
    with connection.schema_editor() as editor:
        editor.create_model(Notebook)
        editor.create_model(Note)
    try:
        yield Notebook, Note
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(Note)
            editor.delete_model(Notebook)
        for model in (Note, Notebook):
            apps.all_models["ops"].pop(model._meta.model_name, None)
            apps.get_app_config("ops").models.pop(model._meta.model_name, None)
        apps.clear_cache()


def _zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


@pytest.mark.django_db
class TestExport:
    def test_contents(self, tmp_path, alice, bob, charlie, org_a, make_token):
        make_token(alice, org_a)
        path = transfer.export_org(org_a, actor=alice, path=tmp_path / "a.zip")
        files = _zip(path)
        manifest = json.loads(files["manifest.json"])
        assert manifest["format"] == "kiban-org-export" and manifest["org"]["code"] == "131016"
        assert manifest["users"] == 2 and manifest["models"]["accounts.apitoken"] == 1
        users = json.loads(files["users.json"])
        assert {u["username"] for u in users} == {"alice", "bob"}  # never Charlie
        everything = b"".join(files.values()).decode("utf-8")
        assert "argon2" not in everything and "password" not in everything
        assert "secret_hash" not in everything
        assert "charlie" not in everything and "川崎市" not in everything
        # CSV next to every JSON, with a BOM for Excel
        assert files["users.csv"].decode("utf-8").startswith("\ufeffusername,")
        assert {n[:-5] for n in files if n.endswith(".json")} - {"manifest"} == {n[:-4] for n in files if n.endswith(".csv")}

    def test_is_audited_in_the_export(self, tmp_path, alice, org_a):
        path = transfer.export_org(org_a, actor=alice, path=tmp_path / "a.zip")
        entry = AuditEntry.objects.for_org(org_a).get(action="org.export")
        assert entry.actor_user == alice
        entries = json.loads(_zip(path)["audit/entries.json"])
        assert [e["action"] for e in entries][-1] == "org.export"
        assert entries[-1]["hash"] == entry.hash

    def test_cli(self, tmp_path, alice, org_a):
        call_command("export", "--org", "131016", str(tmp_path / "cli.zip"), verbosity=0)
        assert zipfile.is_zipfile(tmp_path / "cli.zip")
        assert AuditEntry.objects.for_org(org_a).filter(action="org.export", actor_user=None).exists()

    def test_cli_unknown_body(self, tmp_path, world):
        from django.core.management.base import CommandError

        with pytest.raises(CommandError, match="団体コード 999999 の団体が見つかりません"):
            call_command("export", "--org", "999999", str(tmp_path / "x.zip"))


@pytest.mark.django_db
class TestExportButton:
    def test_admin_downloads_zip(self, client, alice, org_a):
        client.force_login(alice)
        response = client.post("/export/")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/zip"
        assert "kiban-131016-" in response["Content-Disposition"]
        assert AuditEntry.objects.for_org(org_a).filter(action="org.export", actor_user=alice).exists()

    def test_staff_may_not(self, client, bob, org_a):
        client.force_login(bob)
        assert client.post("/export/").status_code == 403
        assert not AuditEntry.objects.filter(action="org.export").exists()

    def test_charlie_exports_only_his_own_body(self, client, charlie, org_a, org_b):
        client.force_login(charlie)
        response = client.post("/export/", {"org": org_a.code})
        assert response.status_code == 200
        assert "kiban-141305-" in response["Content-Disposition"]
        assert not AuditEntry.objects.for_org(org_a).filter(action="org.export").exists()

    def test_get_is_refused(self, client, alice):
        client.force_login(alice)
        assert client.get("/export/").status_code == 405


def test_round_trip_generic_models(tmp_path, notebooks, world, make_token):
    """Export body A with rows of generic models, empty it, import: everything comes back, ids remapped."""
    Notebook, Note = notebooks
    alice, bob, org_a, org_b = world.alice, world.bob, world.org_a, world.org_b
    make_token(alice, org_a)
    old_time = timezone.now() - timedelta(days=400)
    book = Notebook.objects.create(org=org_a, owner=alice, title="議事録", meta={"年度": 2025})
    Notebook.objects.filter(pk=book.pk).update(created_at=old_time)
    first = Note.objects.create(notebook=book, body="第1回")
    Note.objects.create(notebook=book, parent=first, body="第1回の補足")
    other = Notebook.objects.create(org=org_b, owner=world.charlie, title="川崎の帳面")
    assert {s.label for s in transfer.scoped_models()} >= {"ops.notebook", "ops.note"}

    path = transfer.export_org(org_a, actor=alice, path=tmp_path / "a.zip")

    # Make the install "empty" for body A (the audit log is append-only and stays).
    Note.objects.filter(notebook__org=org_a).delete()
    Notebook.objects.filter(org=org_a).delete()
    ApiToken.objects.filter(org=org_a).delete()
    Membership.objects.filter(org=org_a).delete()
    User.objects.filter(pk=alice.pk).update(username="old-alice", is_active=False)
    User.objects.filter(pk=bob.pk).update(username="old-bob", is_active=False)
    Notebook.objects.create(org=org_b, owner=world.charlie, title="ids move on")  # the new ids differ

    result = transfer.import_org(path, actor=None)
    assert result.users == 2 and result.memberships == 2
    assert result.models["ops.notebook"] == 1 and result.models["ops.note"] == 2

    new_alice = User.objects.get(username="alice")
    assert new_alice.pk != alice.pk and not new_alice.has_usable_password()
    assert Membership.objects.get(user=new_alice, org=org_a).role == "admin"
    assert Membership.objects.get(user__username="bob", org=org_a).role == "staff"
    (restored,) = Notebook.objects.filter(org=org_a)
    assert restored.pk != book.pk and restored.owner == new_alice
    assert restored.title == "議事録" and restored.meta == {"年度": 2025}
    assert abs(restored.created_at - old_time) < timedelta(seconds=1)
    notes = {n.body: n for n in Note.objects.filter(notebook=restored)}
    assert notes["第1回の補足"].parent == notes["第1回"]
    assert not ApiToken.objects.filter(org=org_a).exists()  # secrets are never exported
    assert Notebook.objects.get(pk=other.pk).title == "川崎の帳面"  # body B untouched
    assert AuditEntry.objects.for_org(org_a).filter(action="org.import").count() == 1

    with pytest.raises(transfer.TransferError) as refused:  # not empty any more
        transfer.import_org(path, actor=None)
    assert refused.value.code == "transfer_not_empty"


@pytest.mark.django_db
class TestImportRefusals:
    def test_not_a_zip(self, tmp_path, world):
        bad = tmp_path / "bad.zip"
        bad.write_bytes(b"not a zip")
        with pytest.raises(transfer.TransferError) as err:
            transfer.import_org(bad)
        assert err.value.code == "transfer_bad_zip" and "zip ファイルとして読めません" in err.value.message_ja

    def test_wrong_format(self, tmp_path, world):
        path = tmp_path / "other.zip"
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("manifest.json", json.dumps({"format": "something-else"}))
        with pytest.raises(transfer.TransferError) as err:
            transfer.import_org(path)
        assert err.value.code == "transfer_bad_format"

    def test_broken_json(self, tmp_path, world):
        path = tmp_path / "broken.zip"
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("manifest.json", "{not json")
        with pytest.raises(transfer.TransferError) as err:
            transfer.import_org(path)
        assert err.value.code == "transfer_bad_json" and err.value.field == "manifest.json"

    def test_unknown_body_and_nothing_written(self, tmp_path, alice, org_a):
        path = transfer.export_org(org_a, actor=alice, path=tmp_path / "a.zip")
        files = _zip(path)
        manifest = json.loads(files["manifest.json"])
        manifest["org"]["code"] = "999999"
        files["manifest.json"] = json.dumps(manifest).encode()
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in files.items():
                zf.writestr(name, data)
        users_before = User.objects.count()
        with pytest.raises(transfer.TransferError) as err:
            transfer.import_org(path)
        assert err.value.code == "transfer_unknown_org" and "999999" in err.value.message_ja
        assert User.objects.count() == users_before

    def test_existing_data_is_refused(self, tmp_path, alice, org_a):
        path = transfer.export_org(org_a, actor=alice, path=tmp_path / "a.zip")
        with pytest.raises(transfer.TransferError) as err:
            transfer.import_org(path)
        assert err.value.code == "transfer_not_empty"
        assert not AuditEntry.objects.filter(action="org.import").exists()


@pytest.mark.slow
@pytest.mark.django_db
def test_cli_round_trip_into_a_fresh_install(tmp_path, alice, bob, org_a, make_token):
    """`kiban export` here, then `kiban migrate` + `kiban import` in a brand-new SQLite install."""
    make_token(alice, org_a)
    call_command("export", "--org", org_a.code, str(tmp_path / "a.zip"), verbosity=0)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}", "KIBAN_DATA_DIR": str(tmp_path)}
    kiban = [sys.executable, "-m", "kiban.cli"]

    def run(*args: str) -> str:
        done = subprocess.run([*kiban, *args], env=env, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("migrate", "--noinput", "-v", "0")
    run("shell", "--no-imports", "-c", "from kiban.core.testing import make_org, TOKYO, CHIYODA; make_org(*TOKYO); make_org(*CHIYODA)")
    out = run("import", str(tmp_path / "a.zip"))
    assert "千代田区 (131016) に取り込みました: 利用者 2 人、所属 2 件" in out
    check = run("shell", "--no-imports", "-c", "from kiban.accounts.models import Membership as M; "
                "print(sorted((m.user.username, m.role) for m in M.objects.all()))")
    assert check.strip().splitlines()[-1] == "[('alice', 'admin'), ('bob', 'staff')]"
    run("audit", "verify")  # the import's own entries chain correctly in the new install


@pytest.mark.django_db
def test_test_models_do_not_leak(world, tmp_path):
    """Runs after the round trip: the test-only models are gone from the registry again."""
    assert not {"ops.notebook", "ops.note"} & {s.label for s in transfer.scoped_models()}


def test_models_needing_secrets_are_not_restorable():
    from kiban.accounts.models import ApiToken

    assert not transfer.restorable(ApiToken)  # its secret hash is never exported
    assert transfer.restorable(Membership)
