"""Suite-wide pytest set-up.

`make test` runs everything on SQLite, then again on a throwaway PostgreSQL cluster with
KIBAN_DB_TESTS_ONLY=1: on that second run only the tests that touch the database (django_db mark,
db/transactional_db/live_server fixtures, Django TestCase/TransactionTestCase classes) are run, since the
pure-library tests cannot depend on it.
"""

import os

import pytest

DB_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "live_server"}


def pytest_collection_modifyitems(config, items):
    if os.environ.get("KIBAN_DB_TESTS_ONLY") != "1":
        return
    from django.test import TransactionTestCase  # TestCase subclasses it

    keep, drop = [], []
    for item in items:
        cls = getattr(item, "cls", None)
        uses_db = (
            item.get_closest_marker("django_db") is not None
            or bool(DB_FIXTURES & set(getattr(item, "fixturenames", ())))
            or (cls is not None and issubclass(cls, TransactionTestCase))
        )
        (keep if uses_db else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True)
def _english_off(settings):
    """Tests see the product as users do: Japanese unless a test asks for English."""
    settings.LANGUAGE_CODE = "ja"


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """Templates use {% static %}: without a collectstatic manifest, the production storage (whitenoise's
    manifest) would raise. Tests serve the source files as they are; kiban/ops/tests/test_static.py checks the
    manifest build separately."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
