from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from kiban.ops import health


def _enqueue_stale(seconds: int) -> None:
    from kiban.ops.tasks import clear_expired_sessions

    result = clear_expired_sessions.enqueue()
    DBTaskResult.objects.filter(id=result.id).update(enqueued_at=timezone.now() - timedelta(seconds=seconds))


@pytest.mark.django_db
class TestHealthz:
    def test_ok(self, client):
        response = client.get("/healthz")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        assert body["checks"]["database"]["ok"] is True
        assert body["checks"]["migrations"] == {"ok": True, "unapplied": [], "unapplied_count": 0}
        assert body["checks"]["queue"]["pending"] == 0
        assert response["Cache-Control"].startswith("max-age=0")
        assert response["X-Request-ID"]

    def test_queue_lag_reported_and_fails_when_stale(self, client):
        _enqueue_stale(10)
        body = client.get("/healthz").json()
        assert body["checks"]["queue"]["pending"] == 1
        assert body["checks"]["queue"]["lag_seconds"] >= 10
        _enqueue_stale(health.QUEUE_LAG_LIMIT_SECONDS + 60)
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["checks"]["queue"]["ok"] is False

    def test_unapplied_migrations_are_503(self, client):
        with mock.patch.object(health, "unapplied_migrations", return_value=["ops.0002_future"]):
            response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["checks"]["migrations"]["unapplied"] == ["ops.0002_future"]

    def test_database_down_is_503(self, client):
        with mock.patch("django.db.backends.base.base.BaseDatabaseWrapper.cursor", side_effect=OperationalError):
            result = health.check()
        assert not result.ok
        assert result.checks["database"] == {"ok": False, "error": "OperationalError"}

    def test_only_get(self, client):
        assert client.post("/healthz").status_code == 405
