"""kiban.core.tenancy: scoping by body (団体), grants, 404 for other bodies' objects."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404

from kiban.accounts.models import ApiToken, Membership, Role
from kiban.core import tenancy
from kiban.core.testing import make_org, make_user, mint_token
from kiban.core.tenancy import get_scoped_or_404, register_grant, visible_orgs

pytestmark = pytest.mark.django_db


def codes(qs) -> set[str]:
    return set(qs.values_list("code", flat=True))


def test_each_user_sees_only_their_bodies(world):
    assert codes(visible_orgs(world.alice)) == {"131016"}
    assert codes(visible_orgs(world.bob)) == {"131016"}
    assert codes(visible_orgs(world.charlie)) == {"141305"}
    assert codes(visible_orgs(world.dan)) == {"2000012020001"}


def test_anonymous_and_none_see_nothing(world):
    assert not visible_orgs(None).exists()
    assert not visible_orgs(AnonymousUser()).exists()


def test_inactive_user_sees_nothing(world):
    world.alice.is_active = False
    world.alice.save()
    assert not visible_orgs(world.alice).exists()


def test_roles_filter(world):
    assert codes(visible_orgs(world.alice, roles=[Role.ADMIN])) == {"131016"}
    assert not visible_orgs(world.bob, roles=[Role.ADMIN]).exists()


def test_token_sees_only_its_body(world):
    # Alice also belongs to B; her token minted for A must still see only A.
    Membership.objects.create(user=world.alice, org=world.org_b, role=Role.VIEWER)
    assert codes(visible_orgs(world.alice)) == {"131016", "141305"}
    mint_token(world.alice, world.org_a, ["users:read"])
    token = ApiToken.objects.get(user=world.alice)
    assert codes(visible_orgs(token)) == {"131016"}


def test_get_scoped_or_404_hides_other_bodies(world):
    bob_membership = Membership.objects.get(user=world.bob)
    assert get_scoped_or_404(Membership, world.alice, pk=bob_membership.pk) == bob_membership
    with pytest.raises(Http404):
        get_scoped_or_404(Membership, world.charlie, pk=bob_membership.pk)
    with pytest.raises(Http404):
        get_scoped_or_404(Membership, world.charlie, pk="not-a-number")
    with pytest.raises(Http404):
        get_scoped_or_404(Membership, world.bob, roles=[Role.ADMIN], pk=bob_membership.pk)


def test_nothing_crosses_bodies_without_a_grant(world):
    tokyo_admin = make_user("erin", "東京 エリン", world.tokyo, Role.ADMIN)
    assert codes(visible_orgs(tokyo_admin)) == {"130001"}
    assert not Membership.objects.visible_to(tokyo_admin).filter(org=world.org_a).exists()


def test_grant_opens_bodies_below_only(world):
    register_grant("test_review", label_ja="テスト用の審査", roles=[Role.ADMIN, Role.REVIEWER])
    ward = make_org("141313", "川崎区", "カワサキク", "city_ward", "141305")
    tokyo_admin = make_user("erin", "東京 エリン", world.tokyo, Role.ADMIN)
    kanagawa_viewer = make_user("frank", "神奈川 フランク", world.kanagawa, Role.VIEWER)
    kanagawa_admin = make_user("gina", "神奈川 ジーナ", world.kanagawa, Role.ADMIN)

    assert codes(visible_orgs(tokyo_admin, grant="test_review")) == {"130001", "131016"}
    # A role the grant does not name gets nothing extra.
    assert codes(visible_orgs(kanagawa_viewer, grant="test_review")) == {"140007"}
    # Wards of a designated city are below the prefecture too.
    assert codes(visible_orgs(kanagawa_admin, grant="test_review")) == {"140007", "141305", ward.code}
    # A ministry is above every local body, but not above other ministries.
    other = make_org("2000012010019", "内閣府", "ナイカクフ", "ministry")
    dan_sees = codes(visible_orgs(world.dan, grant="test_review"))
    assert {"131016", "141305", "130001"} <= dan_sees and other.code not in dan_sees
    # Municipalities are never "above" anyone: Charlie sees his own body and its wards only where the grant
    # names designated cities as upper bodies; this grant does not.
    assert codes(visible_orgs(world.charlie, grant="test_review")) == {"141305"}


def test_unknown_grant_fails_loudly(world):
    with pytest.raises(ImproperlyConfigured):
        visible_orgs(world.alice, grant="no_such_grant")


def test_redefining_a_grant_is_an_error():
    register_grant("test_redef", label_ja="x", roles=[Role.ADMIN])
    register_grant("test_redef", label_ja="x", roles=[Role.ADMIN])  # same definition: harmless
    with pytest.raises(ImproperlyConfigured):
        register_grant("test_redef", label_ja="x", roles=[Role.STAFF])


def test_for_org_and_visible_to(world):
    assert set(Membership.objects.for_org(world.org_a).values_list("user__username", flat=True)) == {"alice", "bob"}
    assert set(Membership.objects.visible_to(world.charlie).values_list("user__username", flat=True)) == {"charlie"}


def test_acting_org_session(rf, world):
    from django.contrib.sessions.backends.db import SessionStore

    Membership.objects.create(user=world.alice, org=world.org_b, role=Role.VIEWER)
    request = rf.get("/")
    request.user = world.alice
    request.session = SessionStore()
    assert tenancy.resolve_acting_membership(request).org == world.org_a  # first by code
    tenancy.set_acting_org(request, world.org_b)
    assert tenancy.resolve_acting_membership(request).org == world.org_b
    with pytest.raises(Http404):
        tenancy.set_acting_org(request, world.ministry)
    # A membership removed since the choice falls back to one that still exists.
    Membership.objects.filter(user=world.alice, org=world.org_b).delete()
    assert tenancy.resolve_acting_membership(request).org == world.org_a
