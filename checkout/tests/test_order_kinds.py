"""Orders with lines of several kinds, with a real Celery worker on Redis, both sandboxes and
PostgreSQL: two eSIM lines and a top-up of an eSIM the customer owns, in one order."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from checkout import cart, services, tasks
from checkout.models import LineKind, Order, OrderStatus
from conftest import wait_until
from core.roamify_client import roamify_client
from esims.models import Esim

from .conftest import make_package
from .helpers import force_paid

pytestmark = pytest.mark.xdist_group("worker")

TERMINAL = (OrderStatus.COMPLETED, OrderStatus.REQUIRES_ACTION, OrderStatus.REFUNDED)


def status_of(order: Order) -> str:
    order.refresh_from_db()
    return order.status


def owned_esim(user, package) -> Esim:
    """An eSIM the customer bought earlier (fulfilled by the worker)."""
    order = services.place_order(cart.PricedCart([cart.CartLine(package, 1)], []), user.email, user)
    force_paid(order)
    wait_until(lambda: status_of(order) == OrderStatus.COMPLETED, 60, what="first eSIM")
    esim = order.esims.get()
    assert esim.customer == user and esim.with_top_up
    return esim


def topup_package(esim: Esim):
    offered = roamify_client().topup_packages(esim.iccid)
    choice = next(p for p in offered if not p.is_unlimited and p.package_id != esim.package_id_upstream)
    return make_package(package_id=choice.package_id)


@pytest.fixture
def traveller(transactional_db):
    return get_user_model().objects.create_user("owner@example.com", "owner@example.com", "a long pass 123")


def test_esim_and_topup_lines_paid_by_card_are_fulfilled_once_each(
    celery_worker, roamify, stripe, live_server, package, traveller
):
    esim = owned_esim(traveller, package)
    other = make_package("FR")
    topup = topup_package(esim)
    stripe.control.register_webhook(f"{live_server.url}/checkout/stripe/webhook/", stripe.webhook_secret)
    priced = cart.PricedCart(
        [cart.CartLine(package, 1), cart.CartLine(other, 1), cart.CartLine(topup, 1, esim=esim)], []
    )
    order = services.place_order(priced, traveller.email, traveller)
    assert sorted(order.lines.values_list("kind", flat=True)) == ["esim", "esim", "topup"]
    services.start_payment(order)
    session_id = order.payments.get().external_reference
    assert stripe.control.pay(session_id)["outcome"] == "paid"
    event = stripe.control.wait_for_event("checkout.session.completed", delivered=True)[0]
    for _ in range(9):
        stripe.control.redeliver(event["id"])
    wait_until(lambda: status_of(order) == OrderStatus.COMPLETED, 60, what="order completed")
    topup_line = order.lines.get(kind=LineKind.TOPUP)
    ledger = {o["referenceId"]: o for o in roamify.control.ledger()}
    mine = [o for o in roamify.control.ledger() if o["referenceId"].startswith(order.number)]
    assert sorted(o["kind"] for o in mine) == ["instant", "topup"]  # one upstream order per kind
    assert ledger[order.number]["items"] == [
        {"packageId": package.package_id, "quantity": 1},
        {"packageId": other.package_id, "quantity": 1},
    ]
    assert ledger[topup_line.upstream_reference]["items"] == [{"packageId": topup.package_id, "quantity": 1}]
    assert order.esims.count() == 2 and not order.esims.filter(pk=esim.pk).exists()
    assert all(line.fulfilled_at for line in order.lines.all())
    assert order.events.filter(to_status="paid").count() == 1
    # Redelivered tasks later change nothing.
    tasks.fulfil_order.delay(order.id)
    tasks.fulfil_order.delay(order.id)
    wait_until(lambda: order.events.filter(kind="email").count() >= 2, 30, what="receipt and eSIM email")
    assert len([o for o in roamify.control.ledger() if o["referenceId"].startswith(order.number)]) == 2


@pytest.mark.parametrize("fault", ["timeout", "server_error", "no_balance", "down"])
def test_topup_lines_end_completed_or_visibly_needing_action(
    celery_worker, roamify, package, traveller, fault
):
    esim = owned_esim(traveller, package)
    topup = topup_package(esim)
    control = roamify.control
    expected = OrderStatus.COMPLETED
    if fault == "timeout":
        control.inject_fault("POST", "/api/esim/order/topup", hang_seconds=5, then="create")
    elif fault == "server_error":
        control.inject_fault("POST", "/api/esim/order/topup", status=500, count=2)
    elif fault == "no_balance":
        control.set_balance(0)
        expected = OrderStatus.REQUIRES_ACTION
    elif fault == "down":
        control.inject_fault("POST", "/api/esim/order/topup", status=503, count=None)
        control.inject_fault("GET", "/api/esim/order", status=503, count=None)
        expected = OrderStatus.REQUIRES_ACTION
    order = services.place_order(
        cart.PricedCart([cart.CartLine(topup, 1, esim=esim)], []), traveller.email, traveller
    )
    force_paid(order)  # queues fulfilment
    wait_until(lambda: status_of(order) in TERMINAL, 120, what=f"a final state under {fault}")
    assert order.status == expected, order.action_reason
    line = order.lines.get()
    topups = [o for o in control.ledger() if o["referenceId"] == line.upstream_reference]
    assert len(topups) == (1 if expected == OrderStatus.COMPLETED else 0)
    if expected == OrderStatus.REQUIRES_ACTION:
        assert order.action_reason and not line.fulfilled_at


def test_a_topup_of_someone_elses_esim_is_refused(roamify, package, traveller):
    esim = Esim.objects.create(
        upstream_esim_id="e-x", iccid="8901000000000000099", with_top_up=True, customer=traveller
    )
    stranger = get_user_model().objects.create_user("s@example.com", "s@example.com", "a long pass 123")
    priced = cart.PricedCart([cart.CartLine(package, 1, esim=esim)], [])
    for user in (stranger, None):
        with pytest.raises(services.CheckoutError, match="eSIM of your own"):
            services.place_order(priced, "s@example.com", user)
    Esim.objects.filter(pk=esim.pk).update(with_top_up=False)
    with pytest.raises(services.CheckoutError, match="can't be topped up"):
        services.place_order(priced, traveller.email, traveller)
    assert not Order.objects.exists()
