"""Operational state kept in the database so that several app/worker nodes agree on it."""

from __future__ import annotations

from django.db import models


class ScheduledJob(models.Model):
    """定期実行ジョブ: when a registered periodic job is next due. One row per job name.

    The due time lives in the database, not in a node's memory: a node runs a job only after it has
    moved `next_run_at` forward with a compare-and-swap UPDATE, so two workers never both run it.
    This is system bookkeeping (not a body's data), so it is not written through audited actions.
    """

    name = models.CharField(max_length=200, unique=True)
    interval_seconds = models.PositiveIntegerField()
    next_run_at = models.DateTimeField(db_index=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_worker = models.CharField(max_length=64, blank=True)
    run_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} (every {self.interval_seconds}s, next {self.next_run_at:%Y-%m-%d %H:%M:%S})"
