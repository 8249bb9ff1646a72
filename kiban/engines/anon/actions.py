"""Writes of the anon engine's web face (匿名加工ジョブの登録・完了), each with its 監査記録 in the same transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from kiban.audit.log import record

from .models import AnonJob


def do_submit_job(actor: Any, org, uploaded_file, config: dict, *, request=None) -> AnonJob:
    """Store the data and the (already validated) configuration for the acting body; queue the work."""
    with transaction.atomic():
        job = AnonJob(org=org, created_by=actor, filename=uploaded_file.name[:255], config=config)
        job.upload.save(uploaded_file.name, uploaded_file, save=False)
        job.save()
        record(actor=actor, org=org, action="anon.job_submit", target=job,
               after={"filename": job.filename, "size": uploaded_file.size,
                      "privacy": config.get("privacy"), "metric": config.get("metric")}, request=request)
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from .tasks import run_anon_job

    run_anon_job.enqueue(job_id)


def do_start_job(job: AnonJob) -> None:
    with transaction.atomic():
        AnonJob.objects.filter(pk=job.pk).update(status=AnonJob.Status.RUNNING)


def do_finish_job(job: AnonJob, *, report: dict | None, report_html: str = "", result_name: str | None = None,
                  result_bytes: bytes | None = None, error_code: str = "", error_message: str = "") -> None:
    """Record the outcome; the system is the actor (the work ran in the background worker)."""
    from django.core.files.base import ContentFile

    with transaction.atomic():
        job.finished_at = timezone.now()
        job.report = report
        job.report_html = report_html
        job.error_code, job.error_message = error_code, error_message
        job.status = AnonJob.Status.FAILED if error_code else AnonJob.Status.DONE
        if result_bytes is not None and result_name:
            job.result.save(result_name, ContentFile(result_bytes), save=False)
        job.save()
        summary = None
        if report:
            summary = {"transformation": {t["column"]: t["level"] for t in report["transformation"]},
                       "loss": report["metric"]["value"], "suppressed": report["suppression"]["records"]}
        record(actor=None, org=job.org, action="anon.job_finish", target=job,
               after={"status": job.status, "error_code": error_code, "result": summary})
