"""Cursor pagination: every row once, in a stable order, with an opaque signed cursor."""

from __future__ import annotations

import json

import pytest
from django.core import signing

from kiban.accounts.models import Membership, Role, User
from kiban.api.pagination import CursorPagination, InvalidCursor
from kiban.core.testing import make_org
from kiban.orgs.models import Org

pytestmark = pytest.mark.django_db


def H(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def many_users(world):
    for i in range(9):
        user = User.objects.create(username=f"user{i:02d}")
        Membership.objects.create(user=user, org=world.org_a, role=Role.VIEWER)
    return world


def pages(client, url: str, headers: dict) -> list[list[dict]]:
    out, cursor = [], None
    while True:
        r = client.get(url + (f"&cursor={cursor}" if cursor else ""), headers=headers)
        assert r.status_code == 200, r.content
        body = json.loads(r.content)
        out.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return out


def test_pages_cover_every_row_once_in_order(client, many_users, make_token):
    raw = make_token(many_users.alice)
    got = pages(client, "/api/v1/users?limit=4", H(raw))
    assert [len(p) for p in got] == [4, 4, 3]
    names = [u["username"] for p in got for u in p]
    assert names == sorted(names) and len(set(names)) == 11


def test_rows_added_behind_the_cursor_do_not_shift_pages(client, many_users, make_token):
    raw = make_token(many_users.alice)
    first = json.loads(client.get("/api/v1/users?limit=5", headers=H(raw)).content)
    # A row that sorts before the cursor appears; the next page must neither repeat nor skip.
    user = User.objects.create(username="aaa-new")
    Membership.objects.create(user=user, org=many_users.org_a, role=Role.VIEWER)
    second = json.loads(client.get(f"/api/v1/users?limit=5&cursor={first['next_cursor']}", headers=H(raw)).content)
    assert second["items"][0]["username"] == "user03"


@pytest.mark.parametrize("cursor", ["garbage", "a" * 100, signing.dumps(["zzz", 1], salt="other")])
def test_tampered_cursor_is_a_400_problem(client, many_users, make_token, cursor):
    raw = make_token(many_users.alice)
    r = client.get(f"/api/v1/users?cursor={cursor}", headers=H(raw))
    body = json.loads(r.content)
    assert r.status_code == 400 and body["code"] == "invalid_cursor" and body["field"] == "cursor"


def test_cursor_of_another_list_is_refused(client, many_users, make_token):
    raw = make_token(many_users.alice)
    for i in range(3):
        make_token(many_users.alice, name=f"t{i}")
    tokens_page = json.loads(client.get("/api/v1/tokens?limit=1", headers=H(raw)).content)
    r = client.get(f"/api/v1/users?cursor={tokens_page['next_cursor']}", headers=H(raw))
    assert r.status_code == 400


@pytest.mark.parametrize("ordering", [("code",), ("-code",), ("kind", "code"), ("-kind", "name"), ("-kind", "-name")])
@pytest.mark.parametrize("limit", [1, 2, 3, 50])
def test_keyset_matches_a_full_sort(rf, world, ordering, limit):
    make_org("131024", "中央区", "チュウオウク", "special_ward", "130001")
    make_org("131032", "港区", "ミナトク", "special_ward", "130001")
    make_org("141313", "川崎区", "カワサキク", "city_ward", "141305")
    qs = Org.objects.all()
    paginator = CursorPagination(ordering=ordering)
    expected = list(qs.order_by(*ordering, "pk").values_list("pk", flat=True))
    seen, cursor = [], None
    request = rf.get("/api/v1/test")
    while True:
        page = paginator.paginate_queryset(qs, CursorPagination.Input(cursor=cursor, limit=limit), request)
        seen += [o.pk for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected


def test_cursor_is_bound_to_its_path(rf, world):
    paginator = CursorPagination(ordering=("code",))
    page = paginator.paginate_queryset(Org.objects.all(), CursorPagination.Input(limit=1), rf.get("/a"))
    with pytest.raises(InvalidCursor):
        paginator.paginate_queryset(Org.objects.all(), CursorPagination.Input(cursor=page["next_cursor"], limit=1), rf.get("/b"))


def test_nullable_ordering_is_refused_loudly(rf, world):
    from django.core.exceptions import ImproperlyConfigured

    # Org.parent is nullable: NULL rows would silently vanish from a keyset, directly or through a hop.
    for ordering in [("parent",), ("parent__code",), ("no_such_field",)]:
        with pytest.raises(Exception) as exc:
            CursorPagination(ordering=ordering).paginate_queryset(Org.objects.all(), CursorPagination.Input(), rf.get("/"))
        assert exc.type.__name__ in {"ImproperlyConfigured", "FieldDoesNotExist"}
    # Through a required foreign key it is fine.
    page = CursorPagination(ordering=("user__username",)).paginate_queryset(
        Membership.objects.all(), CursorPagination.Input(limit=2), rf.get("/")
    )
    assert [m.user.username for m in page["items"]] == ["alice", "bob"]
