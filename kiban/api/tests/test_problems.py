"""Every API error is RFC 9457 problem+json with a code and a Japanese detail (English on request)."""

from __future__ import annotations

import json

import pytest

from kiban.accounts.models import User

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


def problem(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.content
    assert r["Content-Type"].startswith(PROBLEM)
    body = json.loads(r.content)
    assert body["status"] == status and body["code"] == code
    assert body["type"] == f"urn:kiban:problem:{code}"
    assert body["title"] and body["detail"] and body["instance"] == r.request["PATH_INFO"]
    assert body["request_id"] == r["X-Request-ID"]
    return body


def has_japanese(text: str) -> bool:
    return any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture
def auth(alice, make_token):
    return {"Authorization": f"Bearer {make_token(alice)}"}


def test_401_without_credentials(client, world):
    body = problem(client.get("/api/v1/me"), 401, "unauthenticated")
    assert has_japanese(body["detail"])


def test_401_has_www_authenticate(client, world):
    assert client.get("/api/v1/me")["WWW-Authenticate"].startswith("Bearer")


def test_english_on_request(client, world):
    body = problem(client.get("/api/v1/me", headers={"Accept-Language": "en"}), 401, "unauthenticated")
    assert not has_japanese(body["detail"]) and body["title"] == "Authentication required"


def test_404_for_unknown_api_url(client, world):
    problem(client.get("/api/v1/no-such-thing"), 404, "not_found")
    problem(client.get("/api/nothing/here"), 404, "not_found")


def test_405_names_allowed_methods(client, auth):
    r = client.put("/api/v1/users", data="{}", content_type="application/json", headers=auth)
    body = problem(r, 405, "method_not_allowed")
    assert "GET" in r["Allow"] and "POST" in r["Allow"] and "PUT" in body["detail"]


def test_validation_error_names_field_and_rule(client, auth):
    r = client.post("/api/v1/users", data={"username": "", "role": "boss"}, content_type="application/json", headers=auth)
    body = problem(r, 422, "validation_error")
    by_field = {e["field"]: e for e in body["errors"]}
    assert by_field["username"]["rule"] == "min_length" and by_field["username"]["location"] == "body"
    assert by_field["role"]["rule"] == "choice"
    assert body["field"] == "username" and "username" in body["detail"] and has_japanese(body["detail"])
    r = client.post("/api/v1/users", data={"role": "staff"}, content_type="application/json", headers=auth)
    assert problem(r, 422, "validation_error")["errors"][0] == {
        "field": "username", "location": "body", "rule": "required", "message": "必須項目です。"
    }


def test_query_validation(client, auth):
    body = problem(client.get("/api/v1/users?limit=0", headers=auth), 422, "validation_error")
    assert body["errors"][0]["field"] == "limit" and body["errors"][0]["location"] == "query"
    assert body["errors"][0]["message"] == "1以上の値を指定してください。"


def test_malformed_json_writes_nothing(client, auth):
    before = User.objects.count()
    body = problem(
        client.post("/api/v1/users", data='{"username": "x",', content_type="application/json", headers=auth),
        400, "malformed_json",
    )
    assert body["field"] == "body" and "JSON" in body["detail"]
    problem(client.post("/api/v1/users", data=b"\xff\xfe", content_type="application/json", headers=auth), 400, "malformed_json")
    body = problem(client.post("/api/v1/users", data="[1, 2]", content_type="application/json", headers=auth), 422, "validation_error")
    assert User.objects.count() == before


def test_oversize_request_is_413_and_writes_nothing(client, auth, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    payload = json.dumps({"username": "big", "role": "staff", "display_name": "x" * 5000})
    body = problem(client.post("/api/v1/users", data=payload, content_type="application/json", headers=auth), 413, "request_too_large")
    assert "1,000" in body["detail"]
    assert not User.objects.filter(username="big").exists()


def test_kiban_error_keeps_its_code_field_and_rule(client, auth):
    r = client.post("/api/v1/users", data={"username": "bob", "role": "staff"}, content_type="application/json", headers=auth)
    body = problem(r, 409, "username_taken")
    assert (body["field"], body["rule"]) == ("username", "unique")
    r = client.post(
        "/api/v1/users", data={"username": "bob", "role": "staff"}, content_type="application/json",
        headers={**auth, "Accept-Language": "en"},
    )
    assert problem(r, 409, "username_taken")["detail"] == "This username is not available. Choose another."


def test_403_insufficient_scope(client, alice, make_token):
    raw = make_token(alice, scopes=["orgs:read"])
    body = problem(client.get("/api/v1/users", headers={"Authorization": f"Bearer {raw}"}), 403, "insufficient_scope")
    assert body["rule"] == "users:read"


def test_500_is_a_problem_too(client, auth, monkeypatch):
    from kiban.accounts import api as accounts_api

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(accounts_api, "require", boom)
    body = problem(client.get("/api/v1/me", headers=auth), 500, "internal_error")
    assert "secret internals" not in json.dumps(body)


def test_a_lone_surrogate_in_a_detail_is_not_a_500():
    """A detail that quotes the input (a column name, a YAML error) may hold a lone surrogate."""
    from django.test import RequestFactory

    from kiban.api.problems import problem

    resp = problem(RequestFactory().get("/api/v1/x"), status=422, code="invalid", detail_ja="列「a\ud800」が不正です")
    assert resp.status_code == 422
    assert json.loads(resp.content)["detail"] == "列「a?」が不正です"
