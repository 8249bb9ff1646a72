"""`kiban check` (check --deploy) reports Kiban's own deployment problems."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from kiban.ops import checks


def _ids(**kwargs) -> set[str]:
    return {m.id for m in run_checks(include_deployment_checks=True, databases=["default"], **kwargs)}


@pytest.mark.django_db
class TestDeployChecks:
    def test_demo_secret_with_debug_off(self, settings):
        settings.USING_DEMO_SECRET = True
        settings.DEBUG = False
        assert "kiban.E001" in _ids()
        settings.USING_DEMO_SECRET = False
        assert "kiban.E001" not in _ids()

    def test_sqlite_is_not_for_production(self, settings):
        engine = settings.DATABASES["default"]["ENGINE"]
        assert ("kiban.E002" in _ids()) == ("postgresql" not in engine)

    def test_registry_must_be_loaded(self, org_a):
        assert "kiban.E005" not in _ids()

    def test_empty_registry(self):
        assert "kiban.E005" in _ids()

    def test_unapplied_migrations(self):
        with mock.patch("kiban.ops.health.unapplied_migrations", return_value=["x.0001_initial"]):
            assert "kiban.E004" in _ids()
        assert "kiban.E004" not in _ids()

    @override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend")
    def test_smtp_mail_is_fine(self):
        assert "kiban.W006" not in _ids()

    def test_console_mail_warns(self, settings):
        settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
        assert "kiban.W006" in _ids()

    def test_not_run_without_deploy(self, settings):
        settings.USING_DEMO_SECRET = True
        assert not {m.id for m in run_checks()} & {"kiban.E001", "kiban.E002", "kiban.E005"}


def test_messages_are_japanese_first():
    with override_settings(USING_DEMO_SECRET=True, DEBUG=False):
        (error,) = checks.check_secret_key(None)
    assert error.msg.startswith("SECRET_KEY がデモ用の既定値のままです")


def test_kiban_check_cli_runs_the_deploy_checks(tmp_path):
    """`kiban check` adds --deploy: on the demo set-up (SQLite, demo secret) it fails, naming why."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "KIBAN_DATA_DIR": str(tmp_path)}
    env.pop("SECRET_KEY", None)
    env.pop("DEBUG", None)
    done = subprocess.run([sys.executable, "-m", "kiban.cli", "check"], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 1
    for check_id in ("kiban.E001", "kiban.E002", "kiban.E004"):
        assert check_id in done.stderr
