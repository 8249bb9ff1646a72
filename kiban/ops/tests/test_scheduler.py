"""The DB-backed scheduler: due jobs are enqueued once, even with several nodes."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from kiban.ops import scheduler
from kiban.ops.models import ScheduledJob


@task()
def ping() -> str:
    return "pong"


@pytest.fixture
def only_ping(monkeypatch):
    """A registry holding just one test job, every 5 minutes."""
    monkeypatch.setattr(scheduler, "_registry", {})
    monkeypatch.setattr(scheduler, "_autodiscover", lambda: None)
    scheduler.periodic(every=timedelta(minutes=5), name="test.ping")(ping)
    return scheduler.registered()["test.ping"]


def test_interval_below_a_minute_is_refused():
    with pytest.raises(ValueError):
        scheduler.periodic(every=timedelta(seconds=5))


def test_housekeeping_jobs_are_registered():
    names = set(scheduler.registered())
    assert {"kiban.ops.tasks.clear_expired_sessions", "kiban.ops.tasks.prune_finished_tasks"} <= names


@pytest.mark.django_db
class TestRunDue:
    def test_new_job_is_first_due_one_interval_later(self, only_ping):
        now = timezone.now()
        scheduler.sync_jobs(now)
        row = ScheduledJob.objects.get(name="test.ping")
        assert row.next_run_at == now + timedelta(minutes=5)
        assert scheduler.run_due("w1", now) == []
        assert DBTaskResult.objects.count() == 0

    def test_due_job_is_enqueued_once_and_rescheduled(self, only_ping):
        now = timezone.now()
        scheduler.sync_jobs(now - timedelta(minutes=5))
        assert scheduler.run_due("w1", now) == ["test.ping"]
        assert scheduler.run_due("w2", now) == []  # the second node finds it already moved on
        assert DBTaskResult.objects.filter(task_path__endswith="ping").count() == 1
        row = ScheduledJob.objects.get(name="test.ping")
        assert row.next_run_at == now + timedelta(minutes=5)
        assert row.last_worker == "w1" and row.run_count == 1

    def test_missed_runs_run_once_then_keep_rhythm(self, only_ping):
        now = timezone.now()
        scheduler.sync_jobs(now - timedelta(hours=3))  # workers were down for hours
        assert scheduler.run_due("w1", now) == ["test.ping"]
        assert scheduler.run_due("w1", now + timedelta(minutes=1)) == []
        assert ScheduledJob.objects.get(name="test.ping").next_run_at == now + timedelta(minutes=5)

    def test_stale_read_cannot_claim(self, only_ping):
        """Two nodes read the same due row; only the compare-and-swap winner enqueues."""
        now = timezone.now()
        scheduler.sync_jobs(now - timedelta(minutes=10))
        stale = ScheduledJob.objects.get(name="test.ping")
        assert scheduler.run_due("w1", now) == ["test.ping"]
        claimed = ScheduledJob.objects.filter(pk=stale.pk, next_run_at=stale.next_run_at).update(last_worker="w2")
        assert claimed == 0

    def test_interval_change_in_code_is_applied(self, only_ping, monkeypatch):
        now = timezone.now()
        scheduler.sync_jobs(now)
        scheduler.periodic(every=timedelta(minutes=2), name="test.ping")(ping)
        scheduler.sync_jobs(now)
        row = ScheduledJob.objects.get(name="test.ping")
        assert row.interval_seconds == 120 and row.next_run_at == now + timedelta(minutes=2)


@pytest.mark.django_db(transaction=True)
def test_concurrent_nodes_enqueue_once(only_ping):
    """Several threads (standing in for nodes) race on one due job: exactly one enqueues it."""
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:memorydb"):
        pytest.skip("in-memory SQLite is not shared between threads")
    now = timezone.now()
    scheduler.sync_jobs(now - timedelta(minutes=10))
    results: list[list[str]] = []

    def node(i: int) -> None:
        from django.db import connections

        try:
            results.append(scheduler.run_due(f"node{i}", now))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=node, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(r) for r in results) == [0, 0, 0, 1]
    assert DBTaskResult.objects.count() == 1
