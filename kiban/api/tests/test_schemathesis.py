"""Fuzzing the whole API (schemathesis over /api/v1/openapi.json) as Charlie of body B.

Whatever Charlie sends — valid, invalid, hostile — the API must never answer 5xx, every error must be
problem+json, and no answer may contain body A's data (千代田区: Alice's and Bob's accounts, A's tokens and
audit entries). The registry of bodies itself is public and so is not "A's data".
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.serializers.json import DjangoJSONEncoder
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kiban.accounts import actions
from kiban.accounts.models import ApiToken, Membership
from kiban.api.urls import api
from kiban.core.testing import build_world, mint_token

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _schema():
    raw = json.loads(json.dumps(api.get_openapi_schema(), cls=DjangoJSONEncoder))
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = WSGIHandler()
    return loaded


schema = _schema()


@pytest.fixture
def a_world(db):
    """The world, plus data of body A worth leaking: a token, audit entries, a user list."""
    w = build_world()
    token, _ = actions.do_create_api_token(
        org=w.org_a, name="千代田区の秘密の連携", scopes=["users:read"], acting_user=w.alice
    )
    secrets = [
        "alice@chiyoda.example.jp",
        "bob@chiyoda.example.jp",
        "千代田 アリス",
        "千代田 ボブ",
        token.prefix,
        "千代田区の秘密の連携",
    ]
    # finished engine jobs of body A, with their reports: the job routes must not show them to another body
    from kiban.engines.anon.models import AnonJob
    from kiban.engines.tidy.models import TidyJob

    done = {"status": "done", "created_by": w.alice, "org": w.org_a}
    a_jobs = [
        TidyJob.objects.create(filename="千代田区の秘密の調査票.xlsx", upload="tidy/uploads/a.xlsx",
                               result="tidy/results/a.zip", report={"file": "千代田区の秘密の調査票.xlsx"}, score=77,
                               **done),
        AnonJob.objects.create(filename="千代田区の秘密の名簿.csv", upload="anon/uploads/a.csv",
                               result="anon/results/a.zip", config={"columns": {}}, report={"rows": 1}, **done),
    ]
    secrets += ["千代田区の秘密の調査票", "千代田区の秘密の名簿"]
    a_user_ids = set(Membership.objects.filter(org=w.org_a).values_list("user_id", flat=True))
    a_token_ids = set(ApiToken.objects.filter(org=w.org_a).values_list("pk", flat=True))
    return w, secrets, a_user_ids, a_token_ids, {j.pk for j in a_jobs}


@pytest.fixture
def wsgi_in_test_transaction():
    # Django's test client does the same: a real WSGI request starts and ends by closing "old" connections,
    # which would close the test's own transaction (on PostgreSQL; SQLite's in-memory test database ignores it).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _ids_in(body, key: str = "id") -> set[int]:
    found: set[int] = set()
    if isinstance(body, dict):
        for k, v in body.items():
            if k == key and isinstance(v, int):
                found.add(v)
            found |= _ids_in(v, key)
    elif isinstance(body, list):
        for v in body:
            found |= _ids_in(v, key)
    return found


@schema.parametrize()
@settings(
    max_examples=12,  # modest: CI has 2 cores; the explicit examples still run for every operation
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_charlie_finds_no_5xx_and_no_data_of_a(case, a_world, wsgi_in_test_transaction):
    w, secrets, a_user_ids, a_token_ids, a_job_ids = a_world
    # A fresh token each time: an earlier example may have revoked the previous one.
    raw = mint_token(w.charlie, w.org_b)
    response = case.call(headers={"Authorization": f"Bearer {raw}"})
    case.validate_response(
        response,
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )
    text = response.content.decode("utf-8", "replace")
    for secret in secrets:
        assert secret not in text, f"{case.method} {case.formatted_path} leaked {secret!r}"
    content_type = (response.headers.get("content-type") or [""])[0]
    if response.status_code >= 400:
        assert content_type.startswith("application/problem+json"), (case.method, case.formatted_path, response.status_code)
    path = case.path
    if response.status_code < 300 and text and path.startswith(("/api/v1/users", "/api/v1/tokens")):
        ids = _ids_in(json.loads(text))
        forbidden = a_user_ids if path.startswith("/api/v1/users") else a_token_ids
        assert not (ids & forbidden), f"{case.method} {case.formatted_path} returned ids of body A"
    if response.status_code < 300 and text and path.startswith(("/api/v1/tidy/jobs", "/api/v1/anon/jobs")):
        if content_type.startswith("application/json"):
            assert not (_ids_in(json.loads(text)) & a_job_ids), f"{case.method} {case.formatted_path} returned A's job"
