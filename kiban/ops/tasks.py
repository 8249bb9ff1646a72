"""Periodic housekeeping run by `kiban worker` through the scheduler."""

from __future__ import annotations

from datetime import timedelta

from django.core.management import call_command
from django_tasks import task

from kiban.ops.scheduler import periodic


@periodic(every=timedelta(hours=6))
@task()
def clear_expired_sessions() -> None:
    """Delete expired login sessions (Django's clearsessions)."""
    call_command("clearsessions")


@periodic(every=timedelta(days=1))
@task()
def prune_finished_tasks() -> None:
    """Delete finished background-task results older than 14 days, so the queue table stays small."""
    call_command("prune_db_task_results", "--queue-name=*", "--min-age-days=14", verbosity=0)
