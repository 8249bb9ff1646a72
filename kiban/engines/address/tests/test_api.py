"""POST /api/v1/address/normalize and the lookup routes, through django.test.Client."""

from __future__ import annotations

import pytest
from django.test import Client


URL = "/api/v1/address/normalize"


@pytest.fixture
def client(alice):
    """Alice, a member of 千代田区, signed in: every role holds the engine's scope `address:use`."""
    c = Client()
    c.force_login(alice)
    return c


def test_normalize_batch(client):
    resp = client.post(
        URL, {"addresses": ["東京都千代田区霞ヶ関２－１－２", "府中市", ""]}, content_type="application/json"
    )
    assert resp.status_code == 200, resp.content
    data = resp.json()
    assert data["count"] == 3 and "KEN_ALL" in data["data_date"]
    first, ambiguous, empty = data["results"]
    assert (first["town"], first["rest"], first["lg_code"], first["level"]) == (
        "霞が関二丁目",
        "1-2",
        "131016",
        4,
    )
    assert first["postal_code"] == ["1000013"]
    assert any(c["kind"] == "spelling" and c["before"] == "霞ヶ関" for c in first["corrections"])
    assert ambiguous["level"] == 0 and ambiguous["ambiguity"] == ["東京都府中市", "広島県府中市"]
    assert empty["level"] == 0 and empty["reason"]


def test_default_body(client):
    resp = client.post(
        URL, {"addresses": ["北区北七条西2丁目"], "default_body": "011002"}, content_type="application/json"
    )
    assert resp.json()["results"][0]["city"] == "札幌市北区"


def test_thousand_is_the_limit(client):
    ok = client.post(URL, {"addresses": ["紀尾井町1-3"] * 1000}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["count"] == 1000
    too_many = client.post(URL, {"addresses": ["紀尾井町1-3"] * 1001}, content_type="application/json")
    assert too_many.status_code == 422
    body = too_many.json()
    assert "1000件以内" in body["detail"]


def test_bad_default_body_is_a_problem(client):
    resp = client.post(
        URL, {"addresses": ["北区"], "default_body": "011001"}, content_type="application/json"
    )
    assert resp.status_code == 400
    body = resp.json()
    assert body["code"] == "address_invalid" and "検査数字" in body["detail"]


def test_authentication_is_required(db):
    resp = Client().post(URL, {"addresses": ["北区"]}, content_type="application/json")
    assert resp.status_code == 401


def test_tokens_need_the_address_scope(alice, make_token):
    body = {"addresses": ["北区赤羽1-1"]}
    narrow = make_token(alice, scopes=["users:read"])
    resp = Client().post(URL, body, content_type="application/json", headers={"Authorization": f"Bearer {narrow}"})
    assert resp.status_code == 403 and resp.json()["rule"] == "address:use"
    wide = make_token(alice, scopes=["address:use"])
    resp = Client().post(URL, body, content_type="application/json", headers={"Authorization": f"Bearer {wide}"})
    assert resp.status_code == 200 and resp.json()["results"][0]["lg_code"] == "131172"


def test_charlie_of_another_body_gets_the_same_answer(charlie):
    """Reference data, not tenant data: another municipality's member normalises the same way."""
    c = Client()
    c.force_login(charlie)
    resp = c.post(URL, {"addresses": ["東京都千代田区霞が関2-1-2"]}, content_type="application/json")
    assert resp.status_code == 200 and resp.json()["results"][0]["town"] == "霞が関二丁目"


def test_lookups(client):
    assert client.get("/api/v1/address/postal/1000013").json()[0]["town"] == "霞が関"
    assert client.get("/api/v1/address/bodies/131016").json()["name"] == "千代田区"
    towns = client.get("/api/v1/address/bodies/131016/towns").json()
    assert any(t["town"] == "紀尾井町" for t in towns)
    assert client.get("/api/v1/address/postal/12").status_code == 400


def test_fuzzed_bodies_never_give_a_server_error(client):
    """Arbitrary JSON bodies: 200, 400 or 422 with a problem document, never 500."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    bodies = st.one_of(
        st.fixed_dictionaries(
            {"addresses": st.lists(st.text(max_size=80), max_size=5)},
            optional={"default_body": st.one_of(st.none(), st.text(max_size=8), st.from_regex(r"[0-9]{5,6}", fullmatch=True))},
        ),
        st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3),
        st.lists(st.integers(), max_size=3),
    )

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(bodies)
    def check(body):
        resp = client.post(URL, body, content_type="application/json")
        assert resp.status_code in (200, 400, 422), (body, resp.content[:300])
        if resp.status_code != 200:
            assert resp.json()["detail"]

    check()
