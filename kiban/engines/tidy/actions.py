"""Writes of the tidy engine's web face (整形ジョブの登録・完了), each with its 監査記録 in the same transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from kiban.audit.log import record

from .models import TidyJob


def do_submit_job(actor: Any, org, uploaded_file, *, request=None) -> TidyJob:
    """Store an upload for the acting body and queue its processing (not in the request)."""
    with transaction.atomic():
        job = TidyJob(org=org, created_by=actor, filename=uploaded_file.name[:255])
        job.upload.save(uploaded_file.name, uploaded_file, save=False)
        job.save()
        record(actor=actor, org=org, action="tidy.job_submit", target=job,
               after={"filename": job.filename, "size": uploaded_file.size}, request=request)
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from .tasks import run_tidy_job

    run_tidy_job.enqueue(job_id)


def do_start_job(job: TidyJob) -> None:
    with transaction.atomic():
        TidyJob.objects.filter(pk=job.pk).update(status=TidyJob.Status.RUNNING)


def do_finish_job(job: TidyJob, *, report: dict | None, result_name: str | None, result_bytes: bytes | None,
                  error_code: str = "", error_message: str = "") -> None:
    """Record the outcome; the system is the actor (the work ran in the background worker)."""
    from django.core.files.base import ContentFile

    with transaction.atomic():
        job.finished_at = timezone.now()
        job.report = report
        job.score = report.get("score") if report else None
        job.error_code, job.error_message = error_code, error_message
        job.status = TidyJob.Status.FAILED if error_code else TidyJob.Status.DONE
        if result_bytes is not None and result_name:
            job.result.save(result_name, ContentFile(result_bytes), save=False)
        job.save()
        record(actor=None, org=job.org, action="tidy.job_finish", target=job,
               after={"status": job.status, "score": job.score, "error_code": error_code})
