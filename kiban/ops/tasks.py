"""Periodic housekeeping run by `kiban worker` through the scheduler."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

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


EXPORT_RETENTION = timedelta(hours=24)


@periodic(every=timedelta(hours=1))
@task()
def prune_old_exports() -> int:
    """Delete downloaded body exports (団体データの書き出し) older than a day: they hold personal data and the
    body keeps its own copy. Only the UI's export directory is touched, never a path given to the CLI."""
    import time

    from django.conf import settings

    directory = Path(settings.DATA_DIR) / "exports"
    if not directory.is_dir():
        return 0
    cutoff = time.time() - EXPORT_RETENTION.total_seconds()
    removed = 0
    for path in directory.glob("kiban-*.zip*"):
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
