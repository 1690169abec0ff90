"""Fulfilment against the real Roamify sandbox over HTTP, on PostgreSQL."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from checkout import services
from checkout.models import Order, OrderStatus
from checkout.services import place_order

from .helpers import paid_order

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


def ledger_for(roamify, order: Order) -> list[dict]:
    return [o for o in roamify.control.ledger() if o["referenceId"] == order.number]


def test_paid_order_gets_its_esims_once(roamify, package):
    order = paid_order(package, quantity=2)
    outcome = services.fulfil_order(order.id)
    assert outcome.done and not outcome.retry
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    esims = list(order.esims.all())
    assert len(esims) == 2
    for esim in esims:
        assert esim.lpa_code.startswith("LPA:1$") and esim.iccid.startswith("89")
        assert esim.lpa_code == f"LPA:1${esim.smdp_address}${esim.activation_code}"
        assert esim.ios_install_url.endswith(esim.lpa_code)
        assert esim.order_lines.get().package_id_upstream == package.package_id
        assert esim.email == order.email and esim.title == order.lines.get().description
    assert len(ledger_for(roamify, order)) == 1
    # Running again (a redelivered task) changes nothing and orders nothing.
    assert services.fulfil_order(order.id).message.startswith("nothing to do")
    assert len(ledger_for(roamify, order)) == 1
    kinds = list(order.events.filter(kind="status").values_list("to_status", flat=True))
    assert kinds[-3:] == ["paid", "fulfilling", "completed"]


def test_timeout_then_lookup_by_reference_orders_once(roamify, package, settings):
    settings.ROAMIFY_INSTANT_ORDER_TIMEOUT = 1.0
    roamify.control.inject_fault("POST", "/api/esim/order/instant", hang_seconds=2.5, then="create")
    order = paid_order(package)
    first = services.fulfil_order(order.id)
    assert first.retry and not first.done
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLING and order.fulfilment_lease_until is None
    second = services.fulfil_order(order.id)
    assert second.done
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED and order.esims.count() == 1
    assert len(ledger_for(roamify, order)) == 1


def test_server_error_is_retried_and_orders_once(roamify, package):
    roamify.control.inject_fault("POST", "/api/esim/order/instant", status=500, count=1)
    order = paid_order(package)
    assert services.fulfil_order(order.id).retry
    assert services.fulfil_order(order.id).done
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert len(ledger_for(roamify, order)) == 1


def test_pending_profile_is_followed_up_until_ready(roamify, package):
    roamify.control.set_knobs(instant_pending_seconds=30)
    order = paid_order(package)
    assert services.fulfil_order(order.id).retry
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLING and order.esims.count() == 0
    roamify.control.advance_clock(60)
    assert services.fulfil_order(order.id).done
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED and order.esims.get().lpa_code
    assert len(ledger_for(roamify, order)) == 1


def test_insufficient_balance_needs_action_with_the_reason(roamify, package):
    roamify.control.set_balance(0)
    order = paid_order(package)
    outcome = services.fulfil_order(order.id)
    assert outcome.done
    order.refresh_from_db()
    assert order.status == OrderStatus.REQUIRES_ACTION
    assert "balance" in order.action_reason.lower()
    assert ledger_for(roamify, order) == []


def test_upstream_down_for_good_ends_in_requires_action(roamify, package):
    roamify.control.inject_fault("POST", "/api/esim/order/instant", status=503, count=None)
    roamify.control.inject_fault("GET", "/api/esim/order", status=503, count=None)
    order = paid_order(package)
    assert services.fulfil_order(order.id).retry
    assert services.fulfil_order(order.id, final_attempt=True).done
    order.refresh_from_db()
    assert order.status == OrderStatus.REQUIRES_ACTION
    assert "did not deliver after 2 attempts" in order.action_reason


def test_package_gone_upstream_ends_in_requires_action(roamify, package):
    roamify.control.remove_package(package.package_id)
    order = paid_order(package)
    services.fulfil_order(order.id)
    services.fulfil_order(order.id, final_attempt=True)
    order.refresh_from_db()
    assert order.status == OrderStatus.REQUIRES_ACTION
    assert ledger_for(roamify, order) == []


def test_retry_by_staff_after_balance_is_topped_up(roamify, package):
    roamify.control.set_balance(0)
    order = paid_order(package)
    services.fulfil_order(order.id)
    roamify.control.set_balance(1000)
    with mock.patch("checkout.services.fulfilment.after_commit") as queued:
        services.retry_fulfilment(order.id, actor="staff@example.com")
    queued.assert_called_once_with("checkout.fulfil_order", order.id)
    assert services.fulfil_order(order.id).done
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert order.events.filter(actor="staff@example.com", to_status="fulfilling").exists()


def test_travel_date_package_needs_and_sends_the_start_date(roamify, db):
    import datetime as dt

    from checkout import cart

    from .conftest import make_package
    from .helpers import force_paid

    pkg = make_package(package_id=roamify.control.special_packages()["travelDate"][0])
    assert pkg.travel_date_required
    priced = cart.PricedCart([cart.CartLine(pkg, 1)], [])
    with pytest.raises(services.CheckoutError, match="date your trip starts"):
        place_order(priced, "a@example.com")
    with pytest.raises(services.CheckoutError, match="past"):
        place_order(priced, "a@example.com", travel_date=dt.date(2020, 1, 1))
    order = place_order(priced, "a@example.com", travel_date=dt.date.today() + dt.timedelta(days=3))
    force_paid(order)
    assert services.fulfil_order(order.id).done
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED


@pytest.mark.parametrize("quantity", [1, 3])
def test_fulfilling_an_order_of_esims_takes_the_same_few_queries_for_one_or_three(roamify, package, quantity):
    """Pinned: 13 queries in 3 transactions (each BEGIN and COMMIT counted): the lease; the upstream
    order's id and its timeline entry; the eSIM rows (one statement for them all), their lines, and
    the completion with its two timeline entries (one INSERT)."""
    order = paid_order(package, quantity=quantity)
    with CaptureQueriesContext(connection) as queries:
        assert services.fulfil_order(order.id).completed
    assert len(queries) == 19, "\n".join(q["sql"] for q in queries)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED
    assert len(ledger_for(roamify, order)) == 1


def test_the_esim_email_and_the_receipt_take_few_queries(roamify, package, clear_cache):
    """Pinned, each: the order read once, what the email shows (the eSIMs; the payments and the
    lines), then the order marked and its timeline entry in one transaction (each BEGIN and
    COMMIT counted; the test mail backend writes no outbox row)."""
    order = paid_order(package)
    assert services.fulfil_order(order.id).completed
    for send, statements in ((services.send_esim_email, 6), (services.send_receipt, 7)):
        with CaptureQueriesContext(connection) as queries:
            assert send(order.id)
        assert len(queries) == statements, "\n".join(q["sql"] for q in queries)
        assert not send(order.id)  # once
