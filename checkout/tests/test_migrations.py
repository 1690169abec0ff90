"""Moving payments, Stripe events and eSIMs into their own apps keeps every row."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]

BEFORE = [("checkout", "0001_initial"), ("payments", None), ("esims", None)]


def migrate(targets, state_at):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(state_at).apps


@pytest.fixture(autouse=True)
def latest_schema_afterwards():
    """A failure half-way must not leave the old schema behind: the database's flush and every
    later test of this process would fail with it."""
    yield
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    if executor.migration_plan(latest):
        executor.migrate(latest)


def test_paid_orders_keep_their_payments_events_and_esims():
    old = migrate(BEFORE, [("checkout", "0001_initial")])
    Order, Line = old.get_model("checkout", "Order"), old.get_model("checkout", "OrderLine")
    Payment, Event, Esim = (old.get_model("checkout", m) for m in ("Payment", "StripeEvent", "Esim"))
    Destination, Package = old.get_model("catalog", "Destination"), old.get_model("catalog", "Package")
    dest = Destination.objects.create(upstream_id="jp-esims", code="JP", name="Japan", slug="japan")
    package = Package.objects.create(
        package_id="esim-japan-7days-1gb-all",
        destination=dest,
        name="1 GB",
        days=7,
        data_mb=1024,
        wholesale_cents=500,
        retail_cents=799,
    )
    order = Order.objects.create(
        number="RE-AAAA-BBBB",
        email="t@example.com",
        currency="USD",
        total_cents=799,
        status="completed",
        upstream_order_id="up-1",
        completed_at="2026-11-30T10:00:00Z",
    )
    line = Line.objects.create(
        order=order,
        package=package,
        package_id_upstream=package.package_id,
        description="Japan eSIM, 1 GB, 7 days",
        quantity=1,
        unit_price_cents=799,
        total_cents=799,
        wholesale_cents=500,
    )
    Payment.objects.create(
        order=order,
        session_id="cs_1",
        payment_intent_id="pi_1",
        amount_cents=799,
        currency="USD",
        status="succeeded",
    )
    Event.objects.create(event_id="evt_1", type="checkout.session.completed", order_number=order.number)
    Esim.objects.create(
        order=order,
        order_line=line,
        upstream_esim_id="e-1",
        iccid="8901",
        lpa_code="LPA:1$a$b",
        with_top_up=True,
    )

    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    new = migrate(latest, latest)
    order = new.get_model("checkout", "Order").objects.get(number="RE-AAAA-BBBB")
    payment = new.get_model("payments", "Payment").objects.get(order=order)
    assert (
        payment.provider,
        payment.status,
        payment.external_reference,
        payment.capture_reference,
        payment.amount_cents,
    ) == ("stripe", "captured", "cs_1", "pi_1", 799)
    assert new.get_model("payments", "StripeEvent").objects.get().reference == order.number
    line = new.get_model("checkout", "OrderLine").objects.get(order=order)
    assert (line.kind, line.upstream_order_id) == ("esim", "up-1")
    assert line.fulfilled_at == order.completed_at
    esim = line.esims.get()
    assert (esim.iccid, esim.lpa_code, esim.email, esim.title, esim.with_top_up) == (
        "8901",
        "LPA:1$a$b",
        "t@example.com",
        "Japan eSIM, 1 GB, 7 days",
        True,
    )
