"""`kiban worker`: runs background tasks (django-tasks-db's worker) and the periodic-job scheduler.

Run one or more on any node; they share the queue and the schedule through the database.
"""

from __future__ import annotations

import logging
import threading

from django.db import DatabaseError, close_old_connections
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from kiban.ops import scheduler

logger = logging.getLogger("kiban.worker")


class SchedulerThread(threading.Thread):
    """Checks for due periodic jobs every `interval` seconds until stopped."""

    def __init__(self, worker_id: str, interval: float):
        super().__init__(name="kiban-scheduler", daemon=True)
        self.worker_id = worker_id
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            scheduler.sync_jobs()
        except DatabaseError:
            logger.exception("scheduler: could not register periodic jobs")
        while not self.stopped.is_set():
            close_old_connections()
            try:
                scheduler.run_due(self.worker_id)
            except DatabaseError:
                logger.exception("scheduler: tick failed; retrying")
            self.stopped.wait(self.interval)
        close_old_connections()


class Command(DbWorkerCommand):
    help = "バックグラウンド処理と定期実行ジョブを実行します (Run background tasks and periodic jobs)."

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(queue_name="*", reload=False)
        parser.add_argument(
            "--schedule-interval", type=float, default=15.0,
            help="Seconds between checks for due periodic jobs (default: %(default)s).",
        )
        parser.add_argument("--no-scheduler", action="store_true", help="Run tasks only, no periodic jobs.")

    def handle(self, *args, schedule_interval: float, no_scheduler: bool, **options) -> None:
        thread = None
        if not no_scheduler:
            thread = SchedulerThread(options["worker_id"], schedule_interval)
            thread.start()
        try:
            super().handle(*args, **options)
        finally:
            if thread is not None:
                thread.stopped.set()
                thread.join(timeout=5)
