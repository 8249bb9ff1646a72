"""Property test of the security boundary: visible_orgs() (SQL) agrees with a plain-Python reading of the
rules in kiban.core.tenancy's docstring, for random memberships, roles, grants and tokens."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kiban.accounts.models import ApiToken, Membership, User
from kiban.core.tenancy import register_grant, visible_orgs
from kiban.core.testing import make_org, mint_token

pytestmark = pytest.mark.django_db

ROLES = ["admin", "staff", "reviewer", "viewer"]
# A small country: two prefectures, a designated city with a ward, a special ward, a town, two ministries.
BODIES = [
    ("130001", "東京都", "トウキョウト", "prefecture", None),
    ("131016", "千代田区", "チヨダク", "special_ward", "130001"),
    ("140007", "神奈川県", "カナガワケン", "prefecture", None),
    ("141305", "川崎市", "カワサキシ", "designated_city", "140007"),
    ("141313", "川崎区", "カワサキク", "city_ward", "141305"),
    ("143618", "寒川町", "サムカワマチ", "town", "140007"),
    ("2000012020001", "総務省", "ソウムショウ", "ministry", None),
    ("2000012010019", "内閣府", "ナイカクフ", "ministry", None),
]
GRANTS = {
    "prop_pref": dict(roles={"admin", "reviewer"}, upper_kinds={"prefecture"}),
    "prop_all": dict(roles={"admin"}, upper_kinds={"prefecture", "ministry", "designated_city"}),
}


def expected(orgs, memberships, *, active, roles, grant, token_org):
    """The rules, read plainly. memberships: {code: role}."""
    if not active:
        return set()
    mine = {c: r for c, r in memberships.items() if token_org is None or c == token_org}
    own = {c for c, r in mine.items() if roles is None or r in roles}
    if grant is None:
        return own
    g = GRANTS[grant]
    upper = {c for c, r in mine.items() if r in g["roles"] and orgs[c].kind in g["upper_kinds"]}
    below = set()
    for code, org in orgs.items():
        parent = org.parent
        chain = {parent.code if parent else None, parent.parent.code if parent and parent.parent else None}
        pref = org.prefecture.code if org.prefecture else None
        if pref in upper or chain & upper:
            below.add(code)
        if org.kind != "ministry" and any(orgs[u].kind == "ministry" for u in upper):
            below.add(code)
    return own | below


@pytest.fixture
def orgs(db):
    for name, g in GRANTS.items():
        register_grant(name, label_ja=name, **g)
    return {code: make_org(code, name, kana, kind, parent) for code, name, kana, kind, parent in BODIES}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    memberships=st.dictionaries(st.sampled_from([b[0] for b in BODIES]), st.sampled_from(ROLES), max_size=4),
    active=st.booleans(),
    roles=st.none() | st.sets(st.sampled_from(ROLES), min_size=1),
    grant=st.none() | st.sampled_from(sorted(GRANTS)),
    use_token=st.booleans(),
)
# Each way of being "below", always tried: prefecture → ward through its city, ministry → all, city → ward.
@example(memberships={"140007": "admin"}, active=True, roles=None, grant="prop_pref", use_token=False)
@example(memberships={"130001": "reviewer", "141305": "viewer"}, active=True, roles=None, grant="prop_pref", use_token=True)
@example(memberships={"2000012020001": "admin"}, active=True, roles=None, grant="prop_all", use_token=False)
@example(memberships={"141305": "admin"}, active=True, roles={"viewer"}, grant="prop_all", use_token=False)
@example(memberships={"140007": "staff"}, active=True, roles=None, grant="prop_pref", use_token=False)
def test_visible_orgs_matches_the_rules(orgs, memberships, active, roles, grant, use_token):
    user = User.objects.create(username="prop", is_active=active)
    try:
        for code, role in memberships.items():
            Membership.objects.create(user=user, org=orgs[code], role=role)
        actor, token_org = user, None
        if use_token and memberships:
            token_org = sorted(memberships)[0]
            mint_token(user, orgs[token_org], ["orgs:read"])
            actor = ApiToken.objects.get(user=user)
        got = set(visible_orgs(actor, roles=roles, grant=grant).values_list("code", flat=True))
        assert got == expected(orgs, memberships, active=active, roles=roles, grant=grant, token_org=token_org)
    finally:
        ApiToken.objects.filter(user=user).delete()
        Membership.objects.filter(user=user).delete()
        user.delete()
