from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError

from kiban.accounts.models import Membership, User
from kiban.audit.models import AuditEntry
from kiban.core.testing import CHIYODA, KANAGAWA, KAWASAKI, SOUMU, TOKYO, make_org
from kiban.ops import demo


@pytest.fixture
def registry(db):
    for spec in (TOKYO, CHIYODA, KANAGAWA, KAWASAKI, SOUMU):
        make_org(*spec)


@pytest.mark.django_db
def test_demo_creates_three_bodies_of_users_and_is_idempotent(registry):
    out = io.StringIO()
    call_command("demo", stdout=out)
    text = out.getvalue()
    assert "http://127.0.0.1:8000/" in text and demo.DEMO_PASSWORD in text
    assert "chiyoda-admin" in text and "管理者" in text and "川崎市 (141305)" in text
    assert User.objects.count() == 9
    for code in ("131016", "141305", "2000012020001"):
        roles = sorted(Membership.objects.filter(org__code=code).values_list("role", flat=True))
        assert roles == ["admin", "reviewer", "staff"]
    assert authenticate(username="kawasaki-reviewer", password=demo.DEMO_PASSWORD) is not None
    entries = AuditEntry.objects.count()
    assert entries >= 18  # user.create + membership.add for each

    call_command("demo", stdout=io.StringIO())
    assert User.objects.count() == 9 and AuditEntry.objects.count() == entries


@pytest.mark.django_db
def test_demo_needs_the_registry():
    with pytest.raises(CommandError, match="kiban orgs load"):
        call_command("demo", stdout=io.StringIO())
