"""The shared test world as a Django TestCase (healthchecks style), used the way other apps will use it."""

from __future__ import annotations

from kiban.accounts.models import Role
from kiban.core import tenancy
from kiban.core.testing import PASSWORD, BaseTestCase
from kiban.orgs import source


class WorldTestCase(BaseTestCase):
    def test_codes_are_valid_and_kinds_right(self) -> None:
        for org in (self.tokyo, self.kanagawa, self.org_a, self.org_b):
            self.assertTrue(source.is_valid_code(org.code), org.code)
        self.assertEqual(self.org_a.kind, "special_ward")
        self.assertEqual(self.org_b.kind, "designated_city")
        self.assertEqual(self.org_a.prefecture, self.tokyo)
        self.assertNotEqual(self.org_a.prefecture, self.org_b.prefecture)
        self.assertEqual(self.ministry.kind, "ministry")

    def test_roles(self) -> None:
        self.assertEqual(tenancy.role_in(self.alice, self.org_a), Role.ADMIN)
        self.assertEqual(tenancy.role_in(self.bob, self.org_a), Role.STAFF)
        self.assertIsNone(tenancy.role_in(self.charlie, self.org_a))
        self.assertEqual(tenancy.role_in(self.dan, self.ministry), Role.ADMIN)

    def test_everyone_can_sign_in(self) -> None:
        for user in (self.alice, self.bob, self.charlie, self.dan):
            self.assertTrue(self.client.login(username=user.username, password=PASSWORD))

    def test_token_for(self) -> None:
        raw = self.token_for(self.bob)
        r = self.client.get("/api/v1/me", headers=self.bearer(raw))
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json()["acting_org"]["code"], "131016")

    def test_dan_gets_404_on_a_users_too(self) -> None:
        # The ministry is above A, but no grant is named here: nothing crosses bodies by default.
        raw = self.token_for(self.dan)
        r = self.client.get(f"/api/v1/users/{self.bob.pk}", headers=self.bearer(raw))
        self.assertEqual(r.status_code, 404)
        self.client.force_login(self.dan)
        self.assertEqual(self.client.get(f"/accounts/users/{self.bob.pk}/").status_code, 404)
