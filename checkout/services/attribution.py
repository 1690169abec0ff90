"""Attribution on the order: where the visit that placed it came from (core/attribution.py)."""

from __future__ import annotations

from core.attribution import FIELDS, Visit

from ..models import Order


def record_visit(order: Order, visit: Visit) -> None:
    """Write the visit on an order placed from the cart, once: a second submit of the same cart
    finds the order (its `checkout_key`) and leaves what the first wrote. Nothing for a direct visit
    (no query); one-tap and automatic top-ups are placed without a visit, so they stay empty."""
    if not visit:
        return
    fields = visit.fields()
    written = Order.objects.filter(pk=order.pk, **dict.fromkeys(FIELDS, "")).update(**fields)
    if written:
        for name, value in fields.items():
            setattr(order, name, value)
