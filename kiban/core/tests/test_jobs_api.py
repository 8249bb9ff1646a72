"""The engines' jobs API (kiban.core.jobs_api) through its two users, tidy and anon: upload → queued task →
status, report and result; the page's checks as problem+json; retries; and bodies that never see each other's
jobs (Charlie of 川崎市 and Dan of 総務省 try Alice's, of 千代田区)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tasks_db.models import DBTaskResult
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiban.audit.models import AuditEntry
from kiban.core import jobs
from kiban.core.testing import *  # the fixtures: world, alice, bob, charlie, dan, make_token …
from kiban.core.testing import make_user
from kiban.engines.anon.models import AnonJob
from kiban.engines.anon.tests.test_input_and_cli import make_data
from kiban.engines.anon.tests.test_views import config_text
from kiban.engines.tidy.models import TidyJob
from kiban.engines.tidy.tests.fixtures import bad_L3_09

pytestmark = pytest.mark.django_db

TIDY, ANON = "/api/v1/tidy/jobs", "/api/v1/anon/jobs"


@pytest.fixture(autouse=True)
def _db_queue(settings, tmp_path):
    # The production backend: a submit only queues (a row), the worker runs it later (run_queued below).
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.MEDIA_ROOT = tmp_path / "media"


def run_queued() -> int:
    """What `kiban worker` does with each ready task, without closing the test's connection."""
    rows = list(DBTaskResult.objects.ready())
    for row in rows:
        row.task.call(*row.task_result.args, **row.task_result.kwargs)
        DBTaskResult.objects.filter(pk=row.pk).delete()
    return len(rows)


def auth(raw: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}", **headers}


def upload(client, url, headers, capture, name="table.xlsx", content=b"", **fields):
    with capture(execute=True):
        return client.post(url, {"file": SimpleUploadedFile(name, content), **fields}, headers=headers)


@pytest.fixture
def tidy_file(tmp_path):
    path = bad_L3_09(tmp_path)
    return path.name, path.read_bytes()


@pytest.fixture
def anon_file(tmp_path):
    return "residents.csv", make_data(tmp_path).read_bytes()


@pytest.fixture
def bob_token(bob, make_token):
    return make_token(bob)  # 職員 of 千代田区, every scope his role allows


def body(resp) -> dict:
    return json.loads(resp.content)


def result_names(resp) -> set[str]:
    return set(zipfile.ZipFile(io.BytesIO(b"".join(resp.streaming_content))).namelist())


# ---- the whole way: upload, queue, run, status, report, result ---------------------------------------------------


def test_tidy_upload_runs_in_the_background_and_gives_report_and_result(client, world, bob_token, tidy_file,
                                                                       django_capture_on_commit_callbacks):
    name, content = tidy_file
    resp = upload(client, TIDY, auth(bob_token), django_capture_on_commit_callbacks, name, content)
    assert resp.status_code == 202, resp.content
    job = body(resp)
    assert job["status"] == "queued" and job["filename"] == name and job["created_by"] == "bob"
    assert job["links"]["job"] == f"{TIDY}/{job['id']}" and job["links"]["result"] is None
    assert resp["Location"] == job["links"]["job"] and job["links"]["page"] == f"/tidy/jobs/{job['id']}/"
    # Queued, not run in the request.
    assert TidyJob.objects.get().status == "queued" and DBTaskResult.objects.count() == 1
    entry = AuditEntry.objects.get(action="tidy.job_submit")
    assert entry.org_id == world.org_a.pk and entry.actor_token_prefix and entry.target_id == str(job["id"])

    assert run_queued() == 1
    detail = body(client.get(job["links"]["job"], headers=auth(bob_token)))
    assert detail["status"] == "done" and detail["error"] is None and detail["finished_at"]
    assert isinstance(detail["score"], int) and detail["report"]["score"] == detail["score"]
    assert any(f["rule"] == "L3-09" for f in detail["report"]["findings"])
    result = client.get(detail["links"]["result"], headers=auth(bob_token))
    assert result.status_code == 200 and result["Content-Type"] == "application/zip"
    assert {"report.json", "datapackage.json"} <= result_names(result)
    listed = body(client.get(TIDY, headers=auth(bob_token)))
    assert [j["id"] for j in listed["items"]] == [job["id"]] and "report" not in listed["items"][0]
    assert listed["next_cursor"] is None


def test_anon_takes_its_configuration_as_a_field_or_a_file(client, bob_token, anon_file,
                                                          django_capture_on_commit_callbacks):
    name, content = anon_file
    as_text = upload(client, ANON, auth(bob_token), django_capture_on_commit_callbacks, name, content,
                     config=config_text())
    as_file = upload(client, ANON, auth(bob_token), django_capture_on_commit_callbacks, name, content,
                     config=SimpleUploadedFile("anon.yaml", config_text().encode()))
    assert as_text.status_code == as_file.status_code == 202, (as_text.content, as_file.content)
    assert body(as_text)["config"] == body(as_file)["config"] == yaml.safe_load(config_text())
    assert run_queued() == 2
    for resp in (as_text, as_file):
        detail = body(client.get(body(resp)["links"]["job"], headers=auth(bob_token)))
        assert detail["status"] == "done", detail["error"]
        assert detail["report"]["verification"]["all_satisfied"]
        result = client.get(detail["links"]["result"], headers=auth(bob_token))
        assert result_names(result) == {"residents_anon.csv", "report.json", "report.html"}
    assert AuditEntry.objects.filter(action="anon.job_submit").count() == 2


def test_a_failed_job_says_why_and_has_no_result(client, bob_token, django_capture_on_commit_callbacks):
    resp = upload(client, TIDY, auth(bob_token), django_capture_on_commit_callbacks, "garbage.csv",
                  bytes(range(256)) * 20)
    url = body(resp)["links"]["job"]
    queued = client.get(f"{url}/result", headers=auth(bob_token))
    assert queued.status_code == 409 and body(queued)["code"] == "job_not_done" and "待機中" in body(queued)["detail"]
    run_queued()
    detail = body(client.get(url, headers=auth(bob_token)))
    assert detail["status"] == "failed" and detail["error"]["code"] == "binary" and detail["report"] is None
    assert "バイナリ" in detail["error"]["message"]
    english = body(client.get(url, headers=auth(bob_token, **{"Accept-Language": "en"})))
    assert english["error"]["message"].startswith("Not a text (CSV) file but binary data")
    failed = client.get(f"{url}/result", headers=auth(bob_token, **{"Accept-Language": "en"}))
    assert failed.status_code == 409 and failed["Content-Type"].startswith("application/problem+json")
    assert "no result (status: failed)" in body(failed)["detail"]


# ---- the page's checks, as problem+json naming the field and the rule --------------------------------------------


def problem_of(resp, status=422) -> dict:
    assert resp.status_code == status, resp.content
    assert resp["Content-Type"].startswith("application/problem+json")
    return body(resp)


def test_refused_uploads_name_the_field_and_rule_in_japanese_and_english(client, bob_token, monkeypatch,
                                                                         django_capture_on_commit_callbacks):
    def post(lang="ja", **data):
        return problem_of(client.post(TIDY, data, headers=auth(bob_token, **{"Accept-Language": lang})))

    pdf = post(file=SimpleUploadedFile("a.pdf", b"%PDF-1.4"))
    assert (pdf["code"], pdf["field"], pdf["rule"]) == ("validation_error", "file", "unsupported_format")
    assert "L1-01" in pdf["detail"] and "この形式は扱えません" in pdf["detail"]
    assert pdf["errors"] == [{"field": "file", "location": "file", "rule": "unsupported_format",
                              "message": "この形式は扱えません（L1-01）。Excel または CSV を選んでください。"}]
    pdf_en = post("en", file=SimpleUploadedFile("a.pdf", b"%PDF-1.4"))
    assert pdf_en["detail"] == "file: This format cannot be read (L1-01). Choose an Excel or CSV file."

    monkeypatch.setattr(jobs, "UPLOAD_MAX_BYTES", 10)  # the page's limit, shared
    big = post(file=SimpleUploadedFile("a.csv", b"a,b\n1,2\n3,4\n"))
    assert (big["field"], big["rule"]) == ("file", "too_large") and "大きすぎます" in big["detail"]
    assert "too large" in post("en", file=SimpleUploadedFile("a.csv", b"a,b\n1,2\n3,4\n"))["detail"]

    missing = post()
    assert (missing["field"], missing["rule"]) == ("file", "required") and "必須" in missing["detail"]
    assert "required" in post("en")["detail"]
    assert not TidyJob.objects.exists() and not AuditEntry.objects.filter(action="tidy.job_submit").exists()


def test_a_bad_anon_configuration_names_its_own_field(client, bob_token, anon_file):
    name, content = anon_file

    def post(lang="ja", **data):
        return problem_of(client.post(ANON, {"file": SimpleUploadedFile(name, content), **data},
                                      headers=auth(bob_token, **{"Accept-Language": lang})))

    k0 = post(config=config_text(k=0))
    assert k0["field"] == "config.privacy.k" and k0["errors"][0]["location"] == "form" and "privacy.k" in k0["detail"]
    assert post("en", config=config_text(k=0))["errors"][0]["message"].startswith("privacy.k: ")
    assert (post()["field"], post()["rule"]) == ("config", "required")
    assert post(config="a: [")["rule"] == "syntax"
    latin1 = post(config=SimpleUploadedFile("anon.yaml", "職業: x".encode("utf-16")))
    assert (latin1["field"], latin1["rule"]) == ("config", "encoding")
    assert not AnonJob.objects.exists()


def test_an_unreadable_multipart_body_is_a_400(client, bob_token):
    resp = client.post(TIDY, data=b"--x\r\n", content_type="multipart/form-data", headers=auth(bob_token))
    assert problem_of(resp, 400)["code"] == "malformed_multipart"


# ---- retries -----------------------------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_gives_the_same_job(client, bob_token, tidy_file,
                                                       django_capture_on_commit_callbacks):
    name, content = tidy_file
    headers = auth(bob_token, **{"Idempotency-Key": "town-script-0001"})
    first = upload(client, TIDY, headers, django_capture_on_commit_callbacks, name, content)
    again = upload(client, TIDY, headers, django_capture_on_commit_callbacks, name, content)
    assert first.status_code == again.status_code == 202
    assert body(first) == body(again) and again["Location"] == first["Location"]
    assert TidyJob.objects.count() == 1 and DBTaskResult.objects.count() == 1
    assert AuditEntry.objects.filter(action="tidy.job_submit").count() == 1
    other = upload(client, TIDY, headers, django_capture_on_commit_callbacks, name, content + b" ")
    assert problem_of(other)["code"] == "idempotency_key_reused" and TidyJob.objects.count() == 1


# ---- who may: scopes, roles, bodies -----------------------------------------------------------------------------


@pytest.fixture
def alices_jobs(client, alice, make_token, tidy_file, anon_file, django_capture_on_commit_callbacks):
    raw = make_token(alice)
    ids = {}
    for url, (name, content), extra in ((TIDY, tidy_file, {}), (ANON, anon_file, {"config": config_text()})):
        resp = upload(client, url, auth(raw), django_capture_on_commit_callbacks, name, content, **extra)
        ids[url] = body(resp)["id"]
    run_queued()
    assert TidyJob.objects.get().status == AnonJob.objects.get().status == "done"
    return ids


@pytest.mark.parametrize("who", ["charlie", "dan"])
def test_other_bodies_cannot_see_list_guess_or_download_alices_jobs(client, world, make_token, alices_jobs, who,
                                                                    tidy_file, django_capture_on_commit_callbacks):
    raw = make_token(getattr(world, who))  # 管理者 of 川崎市 / of 総務省, every scope
    for url, job_id in alices_jobs.items():
        for path in (f"{url}/{job_id}", f"{url}/{job_id}/result"):
            assert problem_of(client.get(path, headers=auth(raw)), 404)["code"] == "not_found"
        assert body(client.get(url, headers=auth(raw)))["items"] == []
        # Guessing: every id around Alice's is "not found", exactly like one that never existed.
        for guess in range(1, job_id + 5):
            assert client.get(f"{url}/{guess}", headers=auth(raw)).status_code == 404
    # Their own job is theirs only, and does not show Alice's.
    name, content = tidy_file
    own = body(upload(client, TIDY, auth(raw), django_capture_on_commit_callbacks, name, content))
    assert [j["id"] for j in body(client.get(TIDY, headers=auth(raw)))["items"]] == [own["id"]]
    assert TidyJob.objects.get(pk=own["id"]).org == getattr(world, {"charlie": "org_b", "dan": "ministry"}[who])


def test_a_token_without_the_engine_scope_is_refused(client, alice, make_token, tidy_file):
    raw = make_token(alice, scopes=["users:read", "anon:use"])
    name, content = tidy_file
    for resp in (client.get(TIDY, headers=auth(raw)),
                 client.post(TIDY, {"file": SimpleUploadedFile(name, content)}, headers=auth(raw))):
        problem = problem_of(resp, 403)
        assert (problem["code"], problem["rule"]) == ("insufficient_scope", "tidy:use")
    assert client.get(ANON, headers=auth(raw)).status_code == 200
    assert not TidyJob.objects.exists()


def test_roles_the_page_refuses_are_refused_too(client, world, make_token):
    from kiban.accounts.scopes import scopes_for_role

    # a viewer cannot be given the engine scopes at all, and a token that has them anyway (made before a
    # demotion) is refused
    assert not {"tidy:use", "anon:use"} & scopes_for_role("viewer")
    assert {"tidy:use", "anon:use"} <= scopes_for_role("staff")
    viewer = make_user("eve", "千代田 イブ", world.org_a, "viewer")
    problem = problem_of(client.get(TIDY, headers=auth(make_token(viewer, scopes=["tidy:use"]))), 403)
    assert problem["code"] in ("insufficient_scope", "insufficient_role")


def test_the_session_works_for_the_acting_body(client, world, alices_jobs):
    client.force_login(world.bob)
    assert [j["id"] for j in body(client.get(TIDY))["items"]] == [alices_jobs[TIDY]]
    client.force_login(world.charlie)
    assert body(client.get(TIDY))["items"] == []
    assert client.get(f"{TIDY}/{alices_jobs[TIDY]}").status_code == 404


def test_a_session_upload_needs_the_csrf_token(world, tidy_file, django_capture_on_commit_callbacks):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.bob)
    name, content = tidy_file
    refused = browser.post(TIDY, {"file": SimpleUploadedFile(name, content)})
    assert problem_of(refused, 403)["code"] == "csrf_failed" and not TidyJob.objects.exists()
    browser.get("/tidy/")  # the page sets the CSRF cookie
    with django_capture_on_commit_callbacks(execute=True):
        resp = browser.post(TIDY, {"file": SimpleUploadedFile(name, content)},
                            headers={"X-CSRFToken": browser.cookies["csrftoken"].value})
    assert resp.status_code == 202 and TidyJob.objects.get().created_by == world.bob


def test_the_list_pages_with_a_cursor_and_filters_by_status(client, bob_token, tidy_file,
                                                            django_capture_on_commit_callbacks):
    name, content = tidy_file
    ids = [body(upload(client, TIDY, auth(bob_token), django_capture_on_commit_callbacks, name, content))["id"]
           for _ in range(3)]
    first = body(client.get(f"{TIDY}?limit=2", headers=auth(bob_token)))
    rest = body(client.get(f"{TIDY}?limit=2&cursor={first['next_cursor']}", headers=auth(bob_token)))
    assert [j["id"] for j in first["items"] + rest["items"]] == ids[::-1] and rest["next_cursor"] is None
    assert body(client.get(f"{TIDY}?status=done", headers=auth(bob_token)))["items"] == []
    assert len(body(client.get(f"{TIDY}?status=queued", headers=auth(bob_token)))["items"]) == 3


# ---- whatever the configuration, an answer: queued or a named refusal (never a 5xx) ------------------------------

yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10**6) | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
config_keys = st.sampled_from(["columns", "privacy", "metric", "unlisted", "input", "output", "tables", "x"])


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(config=st.one_of(
    st.dictionaries(config_keys, yaml_values, max_size=5).map(lambda d: yaml.safe_dump(d, allow_unicode=True)),
    st.binary(max_size=200),
))
def test_any_configuration_is_queued_or_refused_by_name(client, bob_token, anon_file, config):
    name, content = anon_file
    part = SimpleUploadedFile("anon.yaml", config) if isinstance(config, bytes) else config
    resp = client.post(ANON, {"file": SimpleUploadedFile(name, content), "config": part}, headers=auth(bob_token))
    assert resp.status_code in (202, 422), resp.content
    if resp.status_code == 422:
        assert body(resp)["field"].startswith("config")
