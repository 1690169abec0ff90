"""A worker keeps its database connection from task to task, as a web process keeps it from
request to request: no new PostgreSQL connection (a new server process) for every task."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from celery import signals
from celery.app.trace import build_tracer
from celery.fixups.django import DjangoWorkerFixup
from django.db import connection
from django.db.backends.signals import connection_created

from storefront.celery import app

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


@pytest.fixture
def as_in_a_worker() -> Iterator:
    """What a worker process runs around each task: Celery's Django fixup, as the worker installs
    it, and the task traced as the pool traces it (not eagerly)."""
    app.loader.import_default_modules()
    fixup = DjangoWorkerFixup(app).install()

    def run(name: str, *args) -> None:
        tracer = build_tracer(name, app.tasks[name], app=app, eager=False, propagate=True)
        tracer(uuid.uuid4().hex, args, {}, {})

    yield run
    signals.task_prerun.disconnect(fixup.on_task_prerun)
    signals.task_postrun.disconnect(fixup.on_task_postrun)
    signals.worker_process_init.disconnect(fixup.on_worker_process_init)
    signals.beat_embedded_init.disconnect(fixup.close_database)


def test_tasks_share_one_database_connection(as_in_a_worker):
    opened = []

    def count(sender, connection, **kwargs) -> None:
        opened.append(connection)

    connection_created.connect(count)
    try:
        for _ in range(5):
            as_in_a_worker("checkout.reconcile_orders")
    finally:
        connection_created.disconnect(count)
    # Celery's fixup closed it after each task: one connection per task.
    assert len(opened) <= 1


def test_a_connection_lost_between_tasks_is_replaced_before_the_next_task(as_in_a_worker):
    as_in_a_worker("checkout.reconcile_orders")
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"]) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])

    as_in_a_worker("checkout.reconcile_orders")  # the health check finds it gone and reconnects

    connection.ensure_connection()
    assert connection.connection.info.backend_pid != pid
