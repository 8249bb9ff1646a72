"""A small database-backed scheduler for periodic jobs (定期実行): deadlines, reminders, housekeeping.

Register a django-tasks task with an interval::

    from kiban.ops.scheduler import periodic

    @periodic(every=timedelta(hours=1))
    @task()
    def send_deadline_reminders(): ...

`kiban worker` calls `run_due()` every few seconds on every node. A due job is *claimed* by moving its
`next_run_at` forward with an UPDATE that only matches the value the node read (compare-and-swap); the
database lets exactly one node win, and the winner enqueues the task on the django-tasks queue, where any
worker runs it. Missed runs (all workers down) are not replayed one by one: the job runs once, then keeps
its rhythm from then on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

logger = logging.getLogger("kiban.scheduler")


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: object  # a django-tasks Task (has .enqueue())
    every: timedelta


_registry: dict[str, PeriodicJob] = {}


def periodic(*, every: timedelta, name: str | None = None):
    """Decorator registering a django-tasks `Task` to be enqueued every `every` (at least one minute)."""
    if every < timedelta(minutes=1):
        raise ValueError("periodic jobs run at most once a minute")

    def register(task):
        job_name = name or f"{task.func.__module__}.{task.func.__name__}"
        _registry[job_name] = PeriodicJob(job_name, task, every)
        return task

    return register


def registered() -> dict[str, PeriodicJob]:
    """The registered periodic jobs by name (modules named `tasks` of installed apps are imported first)."""
    _autodiscover()
    return dict(_registry)


def _autodiscover() -> None:
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("tasks")


def sync_jobs(now: datetime | None = None) -> None:
    """Make sure each registered job has its row; a new job is first due one interval from now."""
    from kiban.ops.models import ScheduledJob

    now = now or timezone.now()
    for job in registered().values():
        seconds = int(job.every.total_seconds())
        obj, created = ScheduledJob.objects.get_or_create(
            name=job.name, defaults={"interval_seconds": seconds, "next_run_at": now + job.every}
        )
        if not created and obj.interval_seconds != seconds:
            # The interval changed in code: keep the rhythm but never wait longer than the new interval.
            ScheduledJob.objects.filter(pk=obj.pk).update(
                interval_seconds=seconds, next_run_at=min(obj.next_run_at, now + job.every)
            )


def run_due(worker_id: str, now: datetime | None = None) -> list[str]:
    """Enqueue every job that is due and that this node manages to claim; returns their names."""
    from kiban.ops.models import ScheduledJob

    now = now or timezone.now()
    jobs = registered()
    started: list[str] = []
    for row in ScheduledJob.objects.filter(next_run_at__lte=now, name__in=list(jobs)):
        job = jobs[row.name]
        following = row.next_run_at + job.every
        if following <= now:  # missed runs: run once, then continue from now
            following = now + job.every
        with transaction.atomic():
            claimed = ScheduledJob.objects.filter(pk=row.pk, next_run_at=row.next_run_at).update(
                next_run_at=following, last_run_at=now, last_worker=worker_id[:64], run_count=row.run_count + 1
            )
            if claimed:
                job.task.enqueue()
        if claimed:
            logger.info("periodic job enqueued", extra={"job": job.name, "next_run_at": following.isoformat()})
            started.append(job.name)
    return started
