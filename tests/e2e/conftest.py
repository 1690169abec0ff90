"""What the browser journeys share: the catalog as a sync from the Roamify sandbox writes it."""

from __future__ import annotations

import pytest

SNAPSHOT_PREFIX = "synced_copy_of_"


def _catalog_models() -> list:
    """The catalog app's models, its many-to-many tables included."""
    from django.apps import apps

    return list(apps.get_app_config("catalog").get_models(include_auto_created=True))


@pytest.fixture(scope="session")
def _catalog_synced_once() -> list[bool]:
    """Whether this test process has synced the catalog once and kept a copy of its tables."""
    return []


@pytest.fixture
def synced_catalog(transactional_db, postgres, roamify, _catalog_synced_once) -> None:
    """The seed-1 catalog in the database, committed (the live server reads it), as a first sync
    from the sandbox writes it.

    The first journey of a test process really syncs (and fails if the sync does) and keeps a copy
    of the catalog's tables beside them (a flush empties only the models' tables); the journeys after
    it get that copy back. A first sync writes 28,000 packages and takes 10-20 s; the copy, under
    a second. The sync itself is tested in catalog/tests/test_sync.py.
    """
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from catalog.cache import bump_catalog_version
    from catalog.models import SyncRun
    from catalog.services import sync_catalog

    q = connection.ops.quote_name
    models = _catalog_models()
    # S608: the table names come from the models (quoted); there are no values.
    tables = [(q(m._meta.db_table), q(SNAPSHOT_PREFIX + m._meta.db_table)) for m in models]
    if not _catalog_synced_once:
        result = sync_catalog(trigger="test")
        assert result.run.status == SyncRun.Status.SUCCEEDED, result.run.error
        with connection.cursor() as cursor:
            for table, copy in tables:
                cursor.execute(f"DROP TABLE IF EXISTS {copy}")
                cursor.execute(f"CREATE TABLE {copy} AS SELECT * FROM {table}")  # noqa: S608
        _catalog_synced_once.append(True)
        return
    # One transaction: the foreign keys (deferred) are checked once every table is back.
    with transaction.atomic(), connection.cursor() as cursor:
        for table, copy in tables:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
            cursor.execute(f"INSERT INTO {table} SELECT * FROM {copy}")  # noqa: S608
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)
    bump_catalog_version()
