"""Writes of the tidy engine's web face (整形ジョブの登録), with its 監査記録 in the same transaction; start,
finish and failure are kiban.core.jobs'."""

from __future__ import annotations

from typing import Any

from kiban.core.jobs import submit_job

from .models import TidyJob


def do_submit_job(actor: Any, org, uploaded_file, *, request=None) -> TidyJob:
    """Store an upload for the acting body and queue its processing (not in the request)."""
    return submit_job(TidyJob, actor, org, uploaded_file, enqueue=_enqueue, request=request)


def _enqueue(job_id: int) -> None:
    from .tasks import run_tidy_job

    run_tidy_job.enqueue(job_id)
