"""The shared test world (healthchecks style): three bodies and four people.

    body A  千代田区 131016 (特別区, 東京都 130001)     Alice — 管理者 (admin);  Bob — 職員 (staff)
    body B  川崎市   141305 (政令指定都市, 神奈川県 140007)   Charlie — 管理者 of B: "should have no access to A's data"
    ministry 総務省 (法人番号 2000012020001)            Dan — 管理者 of the ministry

Every view and API route gets a test where Charlie tries A's objects and gets 404 (not 403).
Codes are real and pass their check digits. The bodies are created directly (no registry load needed).

Two ways to use it:

* Django TestCase::

      from kiban.core.testing import BaseTestCase

      class ListUsersTestCase(BaseTestCase):
          def test_charlie_gets_404(self):
              self.client.force_login(self.charlie)
              ...
              raw = self.token_for(self.charlie, scopes=["users:read"])   # Bearer token of body B

* pytest fixtures: in your app's `tests/conftest.py` write
  `from kiban.core.testing import *  # noqa: F401,F403` and ask for `world`, `alice`, `bob`, `charlie`,
  `dan`, `org_a`, `org_b`, `ministry`, `make_token`. (A root-level `pytest_plugins = ["kiban.core.testing"]`
  works too.)

All four can sign in with `PASSWORD`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.test import TestCase
from django.utils import timezone

__all__ = [
    "PASSWORD",
    "World",
    "build_world",
    "make_org",
    "make_user",
    "mint_token",
    "BaseTestCase",
    "world",
    "alice",
    "bob",
    "charlie",
    "dan",
    "org_a",
    "org_b",
    "ministry",
    "make_token",
]

PASSWORD = "kiban-test-pass-2026"

# (code, name, kana, kind, parent code)
TOKYO = ("130001", "東京都", "トウキョウト", "prefecture", None)
CHIYODA = ("131016", "千代田区", "チヨダク", "special_ward", "130001")
KANAGAWA = ("140007", "神奈川県", "カナガワケン", "prefecture", None)
KAWASAKI = ("141305", "川崎市", "カワサキシ", "designated_city", "140007")
SOUMU = ("2000012020001", "総務省", "ソウムショウ", "ministry", None)


@functools.cache
def _password_hash() -> str:
    # argon2 is slow on purpose; hash the shared test password once per process.
    return make_password(PASSWORD)


def make_org(code: str, name: str, kana: str, kind: str, parent_code: str | None = None):
    """Get or create a body directly (the registry loader may or may not have run)."""
    from kiban.orgs.models import Org

    parent = Org.objects.get(code=parent_code) if parent_code else None
    prefecture = parent if parent is not None and parent.kind == "prefecture" else None
    org, _ = Org.objects.get_or_create(
        code=code,
        defaults={
            "name": name,
            "kana": kana,
            "kind": kind,
            "parent": parent,
            "prefecture": prefecture,
            "corporate_number": code if kind == "ministry" else "",
            "search_name": name,
            "search_kana": kana,
        },
    )
    return org


def make_user(username: str, display_name: str, org, role: str, email: str | None = None):
    from kiban.accounts.models import Membership, User

    user = User.objects.create(
        username=username,
        email=email or f"{username}@example.org",
        display_name=display_name,
        password=_password_hash(),
    )
    Membership.objects.create(user=user, org=org, role=role)
    return user


def mint_token(user, org, scopes: list[str] | None = None, *, name: str = "test", days: int = 30) -> str:
    """Create an API token for `user` in `org` (no audit: a fixture, not an action) and return its secret."""
    from kiban.accounts import tokens
    from kiban.accounts.scopes import scopes_for_role
    from kiban.core.tenancy import role_in

    if scopes is None:
        scopes = sorted(scopes_for_role(role_in(user, org)))
    _, raw = tokens.mint(
        org=org, user=user, name=name, scopes=scopes, expires_at=timezone.now() + timedelta(days=days)
    )
    return raw


@dataclass
class World:
    tokyo: object
    kanagawa: object
    org_a: object
    org_b: object
    ministry: object
    alice: object
    bob: object
    charlie: object
    dan: object


def build_world() -> World:
    tokyo = make_org(*TOKYO)
    kanagawa = make_org(*KANAGAWA)
    org_a = make_org(*CHIYODA)
    org_b = make_org(*KAWASAKI)
    ministry = make_org(*SOUMU)
    return World(
        tokyo=tokyo,
        kanagawa=kanagawa,
        org_a=org_a,
        org_b=org_b,
        ministry=ministry,
        alice=make_user("alice", "千代田 アリス", org_a, "admin", "alice@chiyoda.example.jp"),
        bob=make_user("bob", "千代田 ボブ", org_a, "staff", "bob@chiyoda.example.jp"),
        charlie=make_user("charlie", "川崎 チャーリー", org_b, "admin", "charlie@kawasaki.example.jp"),
        dan=make_user("dan", "総務 ダン", ministry, "admin", "dan@soumu.example.jp"),
    )


class BaseTestCase(TestCase):
    """Alice and Bob in 千代田区 (A), Charlie in 川崎市 (B), Dan in 総務省."""

    @classmethod
    def setUpTestData(cls) -> None:
        w = build_world()
        cls.world = w
        cls.tokyo, cls.kanagawa = w.tokyo, w.kanagawa
        cls.org_a, cls.org_b, cls.ministry = w.org_a, w.org_b, w.ministry
        cls.alice, cls.bob, cls.charlie, cls.dan = w.alice, w.bob, w.charlie, w.dan

    def token_for(self, user, org=None, scopes: list[str] | None = None, **kwargs) -> str:
        """A Bearer secret for `user` in `org` (default: the user's first body); all its role's scopes by default."""
        if org is None:
            org = user.memberships.order_by("org__code").first().org
        return mint_token(user, org, scopes, **kwargs)

    def bearer(self, raw: str) -> dict[str, str]:
        """Headers for django.test.Client: `self.client.get(url, headers=self.bearer(raw))`."""
        return {"Authorization": f"Bearer {raw}"}


# ---- pytest fixtures ----------------------------------------------------------------------------------------


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def org_a(world):
    return world.org_a


@pytest.fixture
def org_b(world):
    return world.org_b


@pytest.fixture
def ministry(world):
    return world.ministry


@pytest.fixture
def alice(world):
    return world.alice


@pytest.fixture
def bob(world):
    return world.bob


@pytest.fixture
def charlie(world):
    return world.charlie


@pytest.fixture
def dan(world):
    return world.dan


@pytest.fixture
def make_token(world):
    """`make_token(user, org=None, scopes=None)` → Bearer secret."""

    def _make(user, org=None, scopes: list[str] | None = None, **kwargs) -> str:
        if org is None:
            org = user.memberships.order_by("org__code").first().org
        return mint_token(user, org, scopes, **kwargs)

    return _make
