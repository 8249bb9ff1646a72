"""Fixtures of the registry tests: the full registry, loaded once for the whole `kiban/orgs` test package.

Loading every body takes a second or two, so it happens once, inside an outer transaction that is rolled
back when the package's tests end: other apps' tests never see these rows. Each test still runs in its own
savepoint (pytest-django's `db`), so a test that changes the registry leaves no trace for the next one.
"""

from __future__ import annotations

import pytest
from django.db import transaction

from kiban.orgs.actions import LoadResult, load_registry


@pytest.fixture(scope="package")
def loaded_registry(django_db_setup, django_db_blocker) -> LoadResult:
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield load_registry()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def loaded(loaded_registry, db) -> LoadResult:
    """The full registry, for a test that uses the database (rolled back after the test)."""
    return loaded_registry
