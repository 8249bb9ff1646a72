from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from kiban.ops import scheduler
from kiban.ops.management.commands.worker import SchedulerThread
from kiban.ops.models import ScheduledJob

RAN: list[int] = []


@task()
def add_one(n: int) -> int:
    RAN.append(n)
    return n + 1


# transaction=True: the worker closes stale connections between tasks, as it must in production; inside a
# test's wrapping transaction that would close the test's own connection (on PostgreSQL).
@pytest.mark.django_db(transaction=True)
def test_worker_runs_queued_tasks():
    RAN.clear()
    result = add_one.enqueue(41)
    call_command("worker", "--batch", "--no-startup-delay", "--no-scheduler", verbosity=0)
    row = DBTaskResult.objects.get(id=result.id)
    assert row.status == "SUCCESSFUL" and row.return_value == 42
    assert RAN == [41]


@pytest.mark.django_db(transaction=True)
def test_scheduler_thread_enqueues_due_jobs(monkeypatch):
    thread = SchedulerThread("node-a", interval=0.01)
    ticks: list[list[str]] = []
    real_run_due = scheduler.run_due

    def one_tick(worker_id, now=None):
        thread.stopped.set()  # first: a failing tick must not make the loop retry forever
        ticks.append(real_run_due(worker_id, timezone.now() + timedelta(days=2)))
        return ticks[-1]

    monkeypatch.setattr(scheduler, "run_due", one_tick)
    thread.run()  # in this thread: the test database is not shared with others
    housekeeping = {f"kiban.ops.tasks.{name}" for name in ("clear_expired_sessions", "prune_finished_tasks",
                                                             "prune_old_exports")}
    assert housekeeping <= set(ticks[0])
    assert ScheduledJob.objects.filter(last_worker="node-a").count() == len(ticks[0])
    assert DBTaskResult.objects.count() == len(ticks[0])


@pytest.mark.django_db
def test_housekeeping_tasks_run():
    from django.contrib.sessions.models import Session

    Session.objects.create(session_key="x" * 32, session_data="", expire_date=timezone.now() - timedelta(days=1))
    from kiban.ops.tasks import clear_expired_sessions, prune_finished_tasks

    clear_expired_sessions.call()
    prune_finished_tasks.call()
    assert not Session.objects.exists()


def test_old_exports_are_pruned(tmp_path, settings):
    import os
    import time

    from kiban.ops.tasks import prune_old_exports

    settings.DATA_DIR = tmp_path
    exports = tmp_path / "exports"
    exports.mkdir()
    old, new, other = exports / "kiban-131016-old.zip", exports / "kiban-131016-new.zip", exports / "keep.txt"
    for path in (old, new, other):
        path.write_bytes(b"x")
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    os.utime(other, (two_days_ago, two_days_ago))
    assert prune_old_exports.call() == 1
    assert not old.exists() and new.exists() and other.exists()
