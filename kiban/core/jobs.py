"""エンジンのジョブ (an engine job): the one way a staff page hands a file to an engine for background work.

An engine's job model subclasses `EngineJob` and adds what is its own (its `upload` and `result` fields with
their folders, a configuration, a score …). Everything else is here, once:

- the model: owner body (団体), who and when, file name, status (queued → running → done | failed), the
  report, the error code and message;
- the writes, each with its 監査記録 in the same transaction: `submit_job` (stores the upload and queues the
  work after commit), `start_job`, `finish_job` and `fail_job`. The audit actions are
  `<action_prefix>_submit` and `<action_prefix>_finish` (e.g. "tidy.job_submit");
- `run_job`, the body of an engine's django-tasks task: copy the upload to a temporary folder, call the
  engine's work, record the outcome (the engine's own error → a failed job with its code and message);
- the page pieces: `UploadFormMixin` (format and size checks), `upload_page` (form + recent jobs),
  `get_job_or_404`, `detail_context` and `download_result` — another body's job is a 404.

The API routes (`/api/v1/<engine>/jobs…`) are kiban.core.jobs_api's `job_router`, built on the same pieces:
the engine's page form validates, its submit action writes.

Templates: `jobs/upload.html` and `jobs/detail.html` (in kiban/templates) are the layouts the engines' pages
extend.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kiban.audit.log import record
from kiban.core.tenancy import OrgScopedModel, actor_user, get_scoped_or_404

# What a staff page accepts (the worker shares the server; the CLI has its own, larger limits).
UPLOAD_MAX_BYTES = 50 * 1024 * 1024
RECENT_JOBS = 20


class EngineJob(OrgScopedModel):
    """An upload and its result. Belongs to the uploader's acting body (団体); other bodies never see it.

    Subclasses set `action_prefix` (the audit actions' prefix, e.g. "tidy.job") and declare `upload` and
    `result` FileFields; they may override `finish_details` to add to the finish audit entry."""

    action_prefix: ClassVar[str] = ""

    class Status(models.TextChoices):
        QUEUED = "queued", _("待機中")
        RUNNING = "running", _("処理中")
        DONE = "done", _("完了")
        FAILED = "failed", _("失敗")

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("登録者"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("登録日時"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("完了日時"))
    filename = models.CharField(max_length=255, verbose_name=_("ファイル名"))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, verbose_name=_("状態"))
    report = models.JSONField(null=True, blank=True, verbose_name=_("報告"))
    error_code = models.CharField(max_length=60, blank=True, verbose_name=_("エラーコード"))
    error_message = models.TextField(blank=True, verbose_name=_("エラー内容"))
    error_message_en = models.TextField(blank=True, verbose_name=_("エラー内容（英語）"))

    class Meta:
        abstract = True
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def error_text(self) -> str:
        """The failure message in the active language (English when asked for and known)."""
        from django.utils.translation import get_language

        if (get_language() or "").startswith("en") and self.error_message_en:
            return self.error_message_en
        return self.error_message

    @property
    def pending(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    def finish_details(self) -> dict[str, Any]:
        """Engine-specific keys of the finish audit entry, read from the job as saved."""
        return {}


# --------------------------------------------------------------------------------------------------------------
# Writes, each with its audit entry in the same transaction.


def submit_job(model: type[EngineJob], actor: Any, org, uploaded_file, *, enqueue: Callable[[int], Any],
               fields: dict[str, Any] | None = None, details: dict[str, Any] | None = None,
               request=None) -> EngineJob:
    """Store an upload for the acting body and queue its processing (after commit, never in the request).
    `actor` is a User (a page) or an ApiToken (the API): the job's creator is its user, the audit names both."""
    with transaction.atomic():
        job = model(org=org, created_by=actor_user(actor), filename=uploaded_file.name[:255], **(fields or {}))
        job.upload.save(uploaded_file.name, uploaded_file, save=False)
        job.save()
        record(actor=actor, org=org, action=f"{model.action_prefix}_submit", target=job,
               after={"filename": job.filename, "size": uploaded_file.size, **(details or {})}, request=request)
        transaction.on_commit(lambda: enqueue(job.pk))
    return job


def start_job(job: EngineJob) -> None:
    with transaction.atomic():
        type(job).objects.filter(pk=job.pk).update(status=EngineJob.Status.RUNNING)


def finish_job(job: EngineJob, *, report: dict | None, result_name: str | None = None,
               result_bytes: bytes | None = None, fields: dict[str, Any] | None = None,
               error_code: str = "", error_message: str = "", error_message_en: str = "") -> None:
    """Record the outcome; the system is the actor (the work ran in the background worker)."""
    with transaction.atomic():
        job.finished_at = timezone.now()
        job.report = report
        for name, value in (fields or {}).items():
            setattr(job, name, value)
        job.error_code, job.error_message, job.error_message_en = error_code, error_message, error_message_en
        job.status = EngineJob.Status.FAILED if error_code else EngineJob.Status.DONE
        if result_bytes is not None and result_name:
            job.result.save(result_name, ContentFile(result_bytes), save=False)
        job.save()
        record(actor=None, org=job.org, action=f"{job.action_prefix}_finish", target=job,
               after={"status": job.status, "error_code": error_code, **job.finish_details()})


def fail_job(job: EngineJob, error: Any) -> None:
    """Record an engine error (anything with `.code` and `.message(lang)`) as the job's failure."""
    finish_job(job, report=None, error_code=error.code, error_message=error.message("ja"),
               error_message_en=error.message("en"))


# --------------------------------------------------------------------------------------------------------------
# The background task's body.


@dataclass
class Outcome:
    """What an engine's work produced: the report (JSON-ready), the result file and engine-specific fields."""

    report: dict
    result_name: str
    result_bytes: bytes
    fields: dict[str, Any] = field(default_factory=dict)


def run_job(model: type[EngineJob], job_id: int, work: Callable[[EngineJob, Path, Path], Outcome], *,
            errors: type[Exception] | tuple[type[Exception], ...]) -> None:
    """Run one job: mark it running, copy the upload to `<tmp>/<filename>`, call `work(job, src, tmp)` and
    record its outcome. An engine error (`errors`) fails the job with its code and its Japanese and English
    messages."""
    job = model.objects.select_related("org").get(pk=job_id)
    start_job(job)
    with tempfile.TemporaryDirectory(prefix=f"kiban-{model.action_prefix.split('.')[0]}-") as tmp:
        src = Path(tmp) / Path(job.filename).name
        with job.upload.open("rb") as fh, src.open("wb") as out:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                out.write(chunk)
        try:
            outcome = work(job, src, Path(tmp))
        except errors as exc:
            fail_job(job, exc)
            return
        finish_job(job, report=outcome.report, result_name=outcome.result_name, result_bytes=outcome.result_bytes,
                   fields=outcome.fields)


# --------------------------------------------------------------------------------------------------------------
# Page pieces. The engine's views keep their decorators (login, role, never_cache) and call these.


class UploadFormMixin:
    """`clean_file` for a form with a `file` field: a known extension (`formats`) and at most
    UPLOAD_MAX_BYTES. Set `unsupported_message` and `unsupported_code` for the refusal of a format."""

    formats: ClassVar[Any] = ()
    unsupported_message: ClassVar[Any] = ""
    unsupported_code: ClassVar[str] = "format"

    def clean_file(self):
        f = self.cleaned_data["file"]
        ext = "." + f.name.rsplit(".", 1)[-1].lower() if "." in f.name else ""
        if ext not in self.formats:
            raise forms.ValidationError(self.unsupported_message, code=self.unsupported_code)
        if f.size > UPLOAD_MAX_BYTES:
            raise forms.ValidationError(_("ファイルが大きすぎます（50MB まで）。"), code="too_large")
        return f


def upload_page(request: HttpRequest, model: type[EngineJob], form: forms.Form, template: str,
                submit: Callable[[dict], EngineJob], detail_url: str) -> HttpResponse:
    """The upload form and this body's recent jobs; a valid POST submits and goes to the job's page, an
    invalid one is shown again with status 400."""
    if request.method == "POST" and form.is_valid():
        job = submit(form.cleaned_data)
        return redirect(detail_url, pk=job.pk)
    jobs = model.objects.for_org(request.org).select_related("created_by")[:RECENT_JOBS]
    return render(request, template, {"form": form, "jobs": jobs}, status=400 if request.method == "POST" else 200)


def get_job_or_404(request: HttpRequest, model: type[EngineJob], pk: int) -> EngineJob:
    """A job of the acting body; anything else (absent, another body's) is a 404."""
    return get_scoped_or_404(model.objects.for_org(request.org), request.user, pk=pk)


def detail_context(job: EngineJob, **extra: Any) -> dict[str, Any]:
    return {"job": job, "report": job.report or {}, "pending": job.pending, **extra}


def download_result(request: HttpRequest, model: type[EngineJob], pk: int) -> FileResponse:
    job = get_job_or_404(request, model, pk)
    if not job.result:
        raise Http404
    return FileResponse(job.result.open("rb"), as_attachment=True, filename=job.result.name.rsplit("/", 1)[-1])
