"""The staff page: upload → background task → report and download; bodies never see each other's jobs."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kiban.audit.models import AuditEntry
from kiban.core.testing import PASSWORD  # noqa: F401
from kiban.engines.tidy.models import TidyJob

from .fixtures import bad_L3_09

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _immediate_tasks(settings, tmp_path):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.MEDIA_ROOT = tmp_path / "media"


def _upload(client, path, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("tidy:upload"), {"file": SimpleUploadedFile(path.name, path.read_bytes())})


def test_upload_report_download(client, world, tmp_path, django_capture_on_commit_callbacks):
    client.force_login(world.bob)  # 職員 of 千代田区
    assert client.get(reverse("tidy:upload")).status_code == 200
    resp = _upload(client, bad_L3_09(tmp_path), django_capture_on_commit_callbacks)
    assert resp.status_code == 302
    job = TidyJob.objects.get()
    assert job.org == world.org_a and job.status == TidyJob.Status.DONE and job.score is not None
    page = client.get(resp["Location"])
    body = page.content.decode()
    assert page.status_code == 200 and "L3-09" in body and "ダウンロード" in body
    dl = client.get(reverse("tidy:download", args=[job.pk]))
    assert dl.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(b"".join(dl.streaming_content))).namelist()
    assert {"cross.csv", "cross.parquet", "datapackage.json", "report.json", "recipe.yaml"} <= set(names)
    actions = list(AuditEntry.objects.filter(org=world.org_a).values_list("action", flat=True))
    assert "tidy.job_submit" in actions and "tidy.job_finish" in actions


def test_bad_file_is_a_clear_failure(client, world, tmp_path, django_capture_on_commit_callbacks):
    client.force_login(world.bob)
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(bytes(range(256)) * 20)
    _upload(client, garbage, django_capture_on_commit_callbacks)
    job = TidyJob.objects.get()
    assert job.status == TidyJob.Status.FAILED and job.error_code == "binary"
    assert "バイナリ" in client.get(reverse("tidy:detail", args=[job.pk])).content.decode()


def test_unsupported_extension_is_refused_in_the_form(client, world, tmp_path):
    client.force_login(world.bob)
    resp = client.post(reverse("tidy:upload"), {"file": SimpleUploadedFile("a.pdf", b"%PDF-1.4")})
    assert resp.status_code == 400 and "L1-01" in resp.content.decode()
    assert not TidyJob.objects.exists()


def test_other_body_gets_404(client, world, tmp_path, django_capture_on_commit_callbacks):
    client.force_login(world.bob)
    _upload(client, bad_L3_09(tmp_path), django_capture_on_commit_callbacks)
    job = TidyJob.objects.get()
    client.force_login(world.charlie)  # 管理者 of 川崎市
    assert client.get(reverse("tidy:detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("tidy:download", args=[job.pk])).status_code == 404
    assert job.filename not in client.get(reverse("tidy:upload")).content.decode()


def test_anonymous_is_sent_to_login(client):
    resp = client.get(reverse("tidy:upload"))
    assert resp.status_code == 302 and "login" in resp["Location"]


def test_what_could_not_be_inspected_is_shown(client, world):
    """The page must not look cleaner than the report: its limitations are shown with the score."""
    job = TidyJob.objects.create(org=world.org_a, created_by=world.bob, filename="a.xlsb", upload="tidy/u/a.xlsb",
                                 status=TidyJob.Status.DONE, score=100,
                                 report={"score": 100, "summary": {"FATAL": 0, "CRITICAL": 0, "MAJOR": 0, "MINOR": 0},
                                         "findings": [], "tables": [], "needs_human_check": [],
                                         "limitations": ["xlsb 形式のこのファイルでは非表示行・列、数式を検査していません。"]})
    client.force_login(world.bob)
    body = client.get(reverse("tidy:detail", args=[job.pk])).content.decode()
    assert "検査できなかった点" in body and "xlsb 形式のこのファイルでは非表示行・列、数式を検査していません。" in body
