"""Writes of the anon engine's web face (匿名加工ジョブの登録), with its 監査記録 in the same transaction;
start, finish and failure are kiban.core.jobs'."""

from __future__ import annotations

from typing import Any

from kiban.core.jobs import submit_job

from .models import AnonJob


def do_submit_job(actor: Any, org, uploaded_file, config: dict, *, request=None) -> AnonJob:
    """Store the data and the (already validated) configuration for the acting body; queue the work."""
    return submit_job(AnonJob, actor, org, uploaded_file, enqueue=_enqueue, fields={"config": config},
                      details={"privacy": config.get("privacy"), "metric": config.get("metric")}, request=request)


def _enqueue(job_id: int) -> None:
    from .tasks import run_anon_job

    run_anon_job.enqueue(job_id)
