"""The staff page: data + configuration → background job → report, checklist and download; bodies never see
each other's jobs; a bad configuration is refused in the form before any work."""

from __future__ import annotations

import io
import zipfile

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kiban.audit.models import AuditEntry
from kiban.engines.anon.models import AnonJob

from .test_input_and_cli import JOBS, make_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _immediate_tasks(settings, tmp_path):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.MEDIA_ROOT = tmp_path / "media"


def config_text(**privacy) -> str:
    return yaml.safe_dump({
        "columns": {
            "氏名": {"role": "identifier"}, "個人番号": {"role": "identifier", "kind": "individual_code"},
            "住民ID": {"role": "identifier", "kind": "linking_code"},
            "年齢": {"role": "quasi", "hierarchy": {"builder": "intervals", "widths": [5, 10, 20]}},
            "生年月日": {"role": "quasi", "hierarchy": {"builder": "date", "levels": ["month", "fiscal_year"]}},
            "職業": {"role": "sensitive",
                     "hierarchy": {"rows": [[j, "専門" if j in ("教員", "医療") else "一般", "*"] for j in JOBS]}},
        },
        "unlisted": "drop",
        "privacy": {"k": 3, "suppression_limit": 0.05, **privacy},
        "metric": "entropy",
    }, allow_unicode=True, sort_keys=False)


def submit(client, tmp_path, text, capture):
    data = make_data(tmp_path)
    with capture(execute=True):
        return client.post(reverse("anon:upload"), {"file": SimpleUploadedFile("residents.csv", data.read_bytes()),
                                                    "config": text})


def test_submit_report_download(client, world, tmp_path, django_capture_on_commit_callbacks):
    client.force_login(world.bob)  # 職員 of 千代田区
    assert client.get(reverse("anon:upload")).status_code == 200
    resp = submit(client, tmp_path, config_text(), django_capture_on_commit_callbacks)
    assert resp.status_code == 302
    job = AnonJob.objects.get()
    assert job.org == world.org_a and job.status == AnonJob.Status.DONE, job.error_message
    page = client.get(resp["Location"]).content.decode()
    assert "作成基準のチェックリスト" in page and "個人識別符号の全部の削除" in page
    html = client.get(reverse("anon:report", args=[job.pk]))
    assert html.status_code == 200 and b"<svg" in html.content
    dl = client.get(reverse("anon:download", args=[job.pk]))
    names = zipfile.ZipFile(io.BytesIO(b"".join(dl.streaming_content))).namelist()
    assert set(names) == {"residents_anon.csv", "report.json", "report.html"}
    assert job.report["verification"]["all_satisfied"]
    actions = set(AuditEntry.objects.filter(org=world.org_a).values_list("action", flat=True))
    assert {"anon.job_submit", "anon.job_finish"} <= actions


def test_bad_configuration_is_refused_before_work(client, world, tmp_path, django_capture_on_commit_callbacks):
    client.force_login(world.bob)
    resp = submit(client, tmp_path, config_text(k=0), django_capture_on_commit_callbacks)
    assert resp.status_code == 400 and "privacy.k" in resp.content.decode()
    text = yaml.safe_load(config_text())
    text["columns"]["年齢"]["hierarchy"] = "/etc/passwd"
    resp = submit(client, tmp_path, yaml.safe_dump(text, allow_unicode=True), django_capture_on_commit_callbacks)
    assert resp.status_code == 400 and "files_not_allowed" not in resp.content.decode() and "階層ファイル" in resp.content.decode()
    assert not AnonJob.objects.exists()


def test_data_errors_fail_the_job_clearly(client, world, tmp_path, django_capture_on_commit_callbacks):
    client.force_login(world.bob)
    text = yaml.safe_load(config_text())
    text["columns"]["年齢"]["hierarchy"]["max"] = 50  # ages above 50 are not covered
    submit(client, tmp_path, yaml.safe_dump(text, allow_unicode=True), django_capture_on_commit_callbacks)
    job = AnonJob.objects.get()
    assert job.status == AnonJob.Status.FAILED and job.error_code == "anon_hierarchy_uncovered"
    assert "区間の範囲外" in job.error_message and "年齢" in job.error_message
    assert "区間の範囲外" in client.get(reverse("anon:detail", args=[job.pk])).content.decode()
    assert not job.result


def test_other_body_gets_404(client, world, tmp_path, django_capture_on_commit_callbacks):
    client.force_login(world.bob)
    submit(client, tmp_path, config_text(), django_capture_on_commit_callbacks)
    job = AnonJob.objects.get()
    client.force_login(world.charlie)  # 管理者 of 川崎市
    for name in ("anon:detail", "anon:report", "anon:download"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert job.filename not in client.get(reverse("anon:upload")).content.decode()


def test_anonymous_is_sent_to_login(client):
    resp = client.get(reverse("anon:upload"))
    assert resp.status_code == 302 and "login" in resp["Location"]
