"""Health of one app node (死活監視): database reachable, migrations applied, background queue lag.

Pure checks returning data; the `/healthz` view turns them into JSON with 200 or 503, and `kiban check`
reuses `unapplied_migrations`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

# Oldest ready task older than this means no worker is keeping up (or none is running).
QUEUE_LAG_LIMIT_SECONDS = int(getattr(settings, "KIBAN_QUEUE_LAG_LIMIT_SECONDS", 300))


@dataclass
class Health:
    ok: bool = True
    checks: dict = field(default_factory=dict)

    def add(self, name: str, ok: bool, **details) -> None:
        self.checks[name] = {"ok": ok, **details}
        self.ok = self.ok and ok

    def as_dict(self) -> dict:
        return {"status": "ok" if self.ok else "error", "checks": self.checks}


def unapplied_migrations(alias: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Names (app.migration) of migrations not yet applied to the database `alias`."""
    connection = connections[alias]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def queue_lag_seconds() -> tuple[int, float]:
    """(pending tasks ready to run, age in seconds of the oldest of them) for django-tasks-db."""
    from django_tasks_db.models import DBTaskResult

    ready = DBTaskResult.objects.ready()
    oldest = ready.order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
    lag = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return ready.count(), max(lag, 0.0)


def check() -> Health:
    """Run every check; a failing check does not stop the others from being reported."""
    health = Health()
    started = time.monotonic()
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        health.add("database", False, error=type(exc).__name__)
        health.add("migrations", False, error="database unreachable")
        health.add("queue", False, error="database unreachable")
        return health
    health.add("database", True, latency_ms=round((time.monotonic() - started) * 1000, 2))

    try:
        pending = unapplied_migrations()
    except DatabaseError as exc:
        health.add("migrations", False, error=type(exc).__name__)
    else:
        health.add("migrations", not pending, unapplied=pending[:20], unapplied_count=len(pending))

    try:
        count, lag = queue_lag_seconds()
    except DatabaseError as exc:  # e.g. the tasks table is not migrated yet
        health.add("queue", False, error=type(exc).__name__)
    else:
        health.add("queue", lag <= QUEUE_LAG_LIMIT_SECONDS, pending=count, lag_seconds=round(lag, 1),
                   limit_seconds=QUEUE_LAG_LIMIT_SECONDS)
    for alias in connections:
        if alias == DEFAULT_DB_ALIAS:
            continue
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
            health.add(f"database:{alias}", True)
        except DatabaseError as exc:
            health.add(f"database:{alias}", False, error=type(exc).__name__)
    return health
