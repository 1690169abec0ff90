from __future__ import annotations

from django.utils import timezone

from catalog.models import Package
from checkout import cart, services
from checkout.models import Order, OrderStatus, Payment


def paid_order(package: Package, quantity: int = 1, email: str = "traveller@example.com") -> Order:
    priced = cart.PricedCart([cart.CartLine(package, quantity)], [])
    order = services.place_order(priced, email)
    force_paid(order)
    return order


def force_paid(order: Order) -> None:
    """A paid order without going through Stripe (for fulfilment tests)."""
    Payment.objects.create(order=order, session_id=f"cs_test_{order.number}", amount_cents=order.total_cents,
                           currency=order.currency, status=Payment.Status.SUCCEEDED,
                           payment_intent_id=f"pi_test_{order.number}")
    order.paid_at = timezone.now()
    services._move(order, OrderStatus.PAID, "paid (test)")
