"""Exports stream in bounded memory; the audit log keeps before and after; kept records can't be deleted."""

from __future__ import annotations

import copy
import tracemalloc

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse

from catalog.models import Package
from catalog.tests.factories import DestinationFactory, PackageFactory
from checkout.models import LineKind, Order, OrderLine
from core.forms import MoneyField
from core.models import AuditEntry
from core.money import parse_money

pytestmark = pytest.mark.django_db


def copies_of(order: Order, count: int) -> None:
    """`count` more orders like `order` (numbered RE-00000001 on), each with copies of its lines,
    written by PostgreSQL itself: building 150,000 model objects in Python took most of the test."""
    q = connection.ops.quote_name
    orders, lines = q(Order._meta.db_table), q(OrderLine._meta.db_table)
    own = ("id", "number", "email", "access_token")
    order_columns = ", ".join(q(f.column) for f in Order._meta.concrete_fields if f.column not in own)
    line_columns = [
        q(f.column) for f in OrderLine._meta.concrete_fields if f.column not in ("id", "order_id")
    ]
    # S608: the names come from the models (quoted), the values are parameters.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {orders} (number, email, access_token, {order_columns}) "  # noqa: S608
            f"SELECT 'RE-' || lpad(i::text, 8, '0'), 'c' || i || '@example.com', 't' || i, {order_columns} "
            f"FROM {orders}, generate_series(1, %s) AS i WHERE id = %s",
            [count, order.pk],
        )
        cursor.execute(
            f"INSERT INTO {lines} (order_id, {', '.join(line_columns)}) "  # noqa: S608
            f"SELECT o.id, {', '.join('l.' + c for c in line_columns)} "
            f"FROM {lines} AS l, {orders} AS o WHERE l.order_id = %s AND o.id > %s",
            [order.pk, order.pk],
        )


def test_order_export_of_100000_rows_streams_in_bounded_memory(staff_client, postgres):
    package = PackageFactory(destination=DestinationFactory(name="Japan"))
    first = Order.objects.create(
        email="c0@example.com",
        currency="USD",
        total_cents=1998,
        status="completed",
        number="RE-00000000",
        access_token="t0",
    )
    line = OrderLine(
        order=first,
        kind=LineKind.ESIM,
        package=package,
        description="Japan 1 GB",
        quantity=1,
        unit_price_cents=999,
        total_cents=999,
        wholesale_cents=686,
    )
    OrderLine.objects.bulk_create([line, copy.copy(line)])
    copies_of(first, 49_999)
    assert Order.objects.count() == 50_000 and OrderLine.objects.count() == 100_000
    # Statistics, as autovacuum keeps them on a real database: without them PostgreSQL plans the
    # export's per-order subqueries for empty tables (a full scan each, about 1 s a chunk).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    # The lines CSV: a row per line, in bounded memory.
    response = staff_client.get(reverse("admin:checkout_order_export", args=["lines"]))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows, size = 0, 0
    tracemalloc.start()
    try:
        for chunk in response.streaming_content:
            rows += chunk.count(b"\n")
            size += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rows == 100_001  # the header and one row per line
    # The CSV is ~14 MB; streaming holds a chunk of 2,000 orders at a time, not the file.
    assert size > 8_000_000 and peak < 12_000_000, (size, peak)
    # The orders CSV streams the same way (not traced again: tracing makes it slow), a row per order.
    orders_csv = staff_client.get(reverse("admin:checkout_order_export", args=["orders"]))
    assert (
        orders_csv.streaming and sum(chunk.count(b"\n") for chunk in orders_csv.streaming_content) == 50_001
    )
    assert AuditEntry.objects.filter(action="export", actor="boss@example.com").exists()


def test_exports_follow_the_list_filters(staff_client):
    kept = PackageFactory(package_id="esim-keep-1")
    PackageFactory(package_id="esim-other-2", active=False)
    body = b"".join(
        staff_client.get(
            reverse("admin:catalog_package_export", args=["packages"]), {"active__exact": "1"}
        ).streaming_content
    ).decode()
    assert kept.package_id in body and "esim-other-2" not in body
    assert body.splitlines()[0].lstrip("\ufeff").startswith("package_id,name,destination")
    assert ",3.00,4.99," in body  # money as money
    refunds = staff_client.get(reverse("admin:payments_paymentrefund_export", args=["refunds"]))
    assert refunds.status_code == 200


def test_money_typed_as_money():
    typed = ("7.49", "$7.49", "7", "1,234.5", " 0.99 ")
    assert [parse_money(t) for t in typed] == [749, 749, 700, 123450, 99]
    field = MoneyField(min_cents=100, max_cents=999)
    assert field.clean("4.99") == 499
    for text, error in (
        ("7.499", "like 7.49"),
        ("abc", "like 7.49"),
        ("0.50", "at least $1.00"),
        ("10", "at most $9.99"),
    ):
        with pytest.raises(Exception, match=error.replace("$", r"\$")):
            field.clean(text)


def test_price_override_typed_as_money_and_audited(staff_client):
    package = PackageFactory(wholesale_cents=300, retail_cents=499)
    url = reverse("admin:catalog_package_change", args=[package.pk])
    page = staff_client.get(url).content.decode()
    assert "Price override" in page and "$3.00" in page and "wholesale_cents" not in page
    too_low = staff_client.post(url, {"price_override_cents": "3.50", "top_up_capable": "on"})
    too_low = too_low.content.decode()
    assert "Must be at least $4.00" in too_low
    assert staff_client.post(url, {"price_override_cents": "7.49", "top_up_capable": "on"}).status_code == 302
    package.refresh_from_db()
    assert package.price_override_cents == 749 and package.retail_cents == 749
    entry = AuditEntry.objects.get(action="package.price_override")
    assert entry.before == {"price_override_cents": None, "retail_cents": 499}
    assert entry.after["price_override_cents"] == 749 and entry.actor == "boss@example.com"
    assert "package.price_override" in staff_client.get(url).content.decode()  # shown on the object
    # A markup change on a destination, and a sync started, are logged too.
    dest = package.destination
    staff_client.post(
        reverse("admin:catalog_destination_change", args=[dest.pk]),
        {"slug": dest.slug, "markup_percent": "50", "popularity": "0", "active": "on"},
    )
    markup = AuditEntry.objects.get(action="destination.change")
    assert markup.before["markup_percent"] is None and markup.after["markup_percent"] == "50"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("catalog.tasks.sync_catalog_task.delay", lambda **kw: None)
        staff_client.post(reverse("admin:catalog_sync_now"))
    assert AuditEntry.objects.filter(action="catalog.sync_started", actor="boss@example.com").exists()
    listing = staff_client.get(reverse("admin:core_auditentry_changelist")).content.decode()
    assert "package.price_override" in listing and "destination.change" in listing


PROTECTED = [
    "esims.esim",
    "esims.roamifyevent",
    "checkout.order",
    "payments.payment",
    "payments.paymentrefund",
    "payments.stripeevent",
    "core.outboxemail",
    "core.auditentry",
    "checkout.upstreamrefund",
    "checkout.customer",
    "catalog.syncrun",
    "catalog.syncchange",
]


@pytest.mark.parametrize("label", PROTECTED)
def test_no_delete_button_or_action_on_kept_records(label, rf):
    user = get_user_model().objects.create_superuser(f"{label}@example.com", f"{label}@example.com", "pw")
    model = next(m for m in admin.site._registry if m._meta.label_lower == label)
    model_admin = admin.site._registry[model]
    request = rf.get("/")
    request.user = user
    assert not model_admin.has_delete_permission(request)
    assert "delete_selected" not in (model_admin.get_actions(request) or {})


def test_packages_unaffected_by_protection():
    assert Package._meta.label_lower not in PROTECTED  # packages are deactivated by the sync, never deleted
