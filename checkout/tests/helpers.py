from __future__ import annotations

from catalog.models import Package
from checkout import cart, services
from checkout.models import Order
from checkout.services.payment import payment_request
from payments import services as payments


def paid_order(package: Package, quantity: int = 1, email: str = "traveller@example.com") -> Order:
    priced = cart.PricedCart([cart.CartLine(package, quantity)], [])
    order = services.place_order(priced, email)
    force_paid(order)
    return order


def force_paid(order: Order, provider: str = "test-instant") -> None:
    """Paid without Stripe (for fulfilment tests): a provider that captures at once pays it all."""
    payment = payments.open_payment(order, provider, order.total_cents, order.currency)
    payments.start(payment, payment_request(order, order.total_cents))
    order.refresh_from_db()
    # Paid: a running worker may already have moved it on to fulfilling.
    assert order.paid_at is not None and order.status != "pending_payment", order.status
