"""`kiban accounts`: the operator creates a body's first 管理者, resets a password, lists users."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from kiban.accounts.models import Membership, Role, User
from kiban.audit.models import AuditEntry
from kiban.core.testing import make_org

pytestmark = pytest.mark.django_db


def run(*args, stdin: str = "", monkeypatch=None) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    if monkeypatch is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    call_command("accounts", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_first_admin_of_a_new_body(world, monkeypatch):
    org = make_org("011002", "札幌市", "サッポロシ", "designated_city")
    out, _ = run("create-admin", "011002", "sato", "--email", "sato@city.sapporo.example.jp", "--password-stdin",
                 stdin="sato-long-password-1\n", monkeypatch=monkeypatch)
    assert "札幌市" in out
    sato = User.objects.get(username="sato")
    assert sato.check_password("sato-long-password-1")
    assert Membership.objects.get(user=sato).org == org and Membership.objects.get(user=sato).role == Role.ADMIN
    entries = AuditEntry.objects.filter(org=org).order_by("seq")
    assert [e.action for e in entries] == ["user.create", "membership.add"]
    assert all(e.actor_user_id is None and e.actor_label == "system" for e in entries)


def test_existing_user_is_promoted_and_retry_is_harmless(world):
    run("create-admin", "131016", "bob")
    run("create-admin", "131016", "bob")
    assert Membership.objects.get(user=world.bob).role == Role.ADMIN
    assert AuditEntry.objects.filter(action="membership.role_change").count() == 1


def test_bad_input_exits_1_in_japanese(world, monkeypatch):
    with pytest.raises(SystemExit) as exc:
        run("create-admin", "131017", "x", "--no-password")  # wrong check digit
    assert exc.value.code == 1
    with pytest.raises(SystemExit):
        run("create-admin", "131016", "bad name", "--no-password")
    with pytest.raises(SystemExit):
        run("create-admin", "131016", "newbie", "--password-stdin", stdin="123\n", monkeypatch=monkeypatch)
    assert not User.objects.filter(username__in=["x", "bad name", "newbie"]).exists()


def test_set_password_and_list(world, monkeypatch):
    run("set-password", "alice", "--password-stdin", stdin="alice-new-password-9\n", monkeypatch=monkeypatch)
    world.alice.refresh_from_db()
    assert world.alice.check_password("alice-new-password-9")
    assert AuditEntry.objects.filter(action="user.password_reset", org=world.org_a).exists()
    out, _ = run("list", "131016")
    assert [r["username"] for r in json.loads(out)] == ["alice", "bob"]
    with pytest.raises(SystemExit):
        run("set-password", "nobody", "--password-stdin", stdin="whatever-long-1\n", monkeypatch=monkeypatch)
