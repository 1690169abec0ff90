from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from catalog.currency import store_in_cache
from catalog.models import ExchangeRate, Package
from checkout import cart, services
from checkout.models import Order
from checkout.services.payment import payment_request
from payments import services as payments
from payments.models import SavedCard


@contextmanager
def rates(age: dt.timedelta = dt.timedelta(minutes=5), **per_base: str) -> Iterator[None]:
    """Exchange rates known to the shop (units per base unit, e.g. JPY="150"), fetched `age` ago:
    stored as a refresh from Roamify stores them (rows, then the cache), and gone afterwards."""
    fetched = timezone.now() - age
    ExchangeRate.objects.all().delete()
    for code, value in per_base.items():
        ExchangeRate.objects.create(currency=code, per_base=Decimal(value), fetched_at=fetched)
    store_in_cache()
    try:
        yield
    finally:
        ExchangeRate.objects.all().delete()
        store_in_cache()


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


def shown_on(page: str, name: str) -> str:
    """The value of a hidden input of a page (the refund page's `split` and `shown`)."""
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden {name} on the page"
    return html.unescape(found.group(1))


def refund_on_page(
    client,
    order: Order,
    *,
    lines: list[str] = (),
    goodwill: str = "",
    rule: str = "card_first",
    reason: str = "Refunded in a test",
    notify: bool = True,
    extra: dict | None = None,
):
    """As staff do it: pick on the refund page, see the preview, then press Refund (what was shown).
    Returns (the preview page's HTML, the answer to Refund)."""
    url = reverse("admin:checkout_order_refund", args=[order.pk])
    form = {"lines": list(lines), "goodwill": goodwill, "rule": rule, "reason": reason}
    if notify:
        form["notify"] = "on"
    preview = client.post(url, {**form, "action": "preview"}).content.decode()
    confirm = {
        **form,
        "split": shown_on(preview, "split"),
        "shown": shown_on(preview, "shown"),
        "action": "refund",
    }
    return preview, client.post(url, {**confirm, **(extra or {})})


def saved_card(user, number: str = "4242424242424242") -> SavedCard:
    """A card attached at the Stripe sandbox to a Stripe Customer of the user's (as a Checkout with
    "save this card" would). Stripe's test numbers: 4242… pays, 4000000000000341 declines,
    4000002760003184 always asks for authentication."""
    from payments.providers.stripe_api import gateway

    client = gateway().client
    customer = client.v1.customers.create(params={"email": user.email})
    method = client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}}
    )
    client.v1.payment_methods.attach(method.id, params={"customer": customer.id})
    return SavedCard.objects.create(
        user=user,
        provider_customer=customer.id,
        payment_method=method.id,
        brand="visa",
        last4=number[-4:],
        exp_month=12,
        exp_year=2034,
    )
