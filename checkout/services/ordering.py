"""Placing an order: lines priced from the catalog at this moment, once per cart."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Package
from esims.models import Esim

from .. import cart as cart_module
from ..models import LineKind, Order, OrderLine
from .common import CheckoutError, log_event
from .customers import remember_customer

# Plans must be activated within a year of purchase; a later start date is a typo.
MAX_TRAVEL_DAYS_AHEAD = 365


def _description(package: Package, topup_for: Esim | None) -> str:
    days = f"{package.days} day{'s' if package.days != 1 else ''}"
    if topup_for is not None:
        return f"Top-up {package.data_label}, {days} for eSIM …{topup_for.iccid[-4:]}"
    return f"{package.destination.name} eSIM, {package.data_label}, {days}"


def place_order(priced: cart_module.PricedCart, email: str, user=None,
                travel_date: dt.date | None = None, *, checkout_key: str | None = None) -> Order:
    """An order in pending_payment, its lines priced from the catalog at this moment.

    `checkout_key` (the cart's own token) makes a double submit give one order:
    the second request gets the order the first one placed.
    """
    if checkout_key:
        existing = Order.objects.filter(checkout_key=checkout_key).first()
        if existing is not None:
            return existing
    if not priced.lines:
        raise CheckoutError("Your cart is empty.")
    needs_date = any(line.package.travel_date_required for line in priced.lines)
    if needs_date and travel_date is None:
        raise CheckoutError("Please choose the date your trip starts: one of your plans needs it.")
    if travel_date and travel_date < timezone.localdate():
        raise CheckoutError("Your trip start date can't be in the past.")
    if travel_date and travel_date > timezone.localdate() + dt.timedelta(days=MAX_TRAVEL_DAYS_AHEAD):
        raise CheckoutError("Your trip start date must be within a year from today.")
    customer = user if user is not None and user.is_authenticated else None
    try:
        with transaction.atomic():
            return _create(priced, email, customer, travel_date if needs_date else None, checkout_key)
    except IntegrityError:
        # A concurrent submit of the same cart won the race: use its order.
        existing = Order.objects.filter(checkout_key=checkout_key).first() if checkout_key else None
        if existing is None:
            raise
        return existing


def _create(priced: cart_module.PricedCart, email: str, customer, travel_date, checkout_key) -> Order:
    # Prices are read again here, never taken from what the browser had.
    packages = {p.id: p for p in Package.objects.active().select_related("destination")
                .filter(id__in=[line.package.id for line in priced.lines])}
    if len(packages) != len({line.package.id for line in priced.lines}):
        raise CheckoutError("A plan in your cart is no longer sold. Please review your cart.")
    topups = {line.esim.id for line in priced.lines if line.esim is not None}
    owned = {e.id: e for e in Esim.objects.owned_by(customer).filter(id__in=topups)} if customer else {}
    order = Order.objects.create(email=email, customer=customer, currency=settings.SHOP_CURRENCY,
                                 total_cents=0, travel_date=travel_date, checkout_key=checkout_key)
    total = 0
    for line in priced.lines:
        package = packages[line.package.id]
        esim = None
        if line.esim is not None:
            esim = owned.get(line.esim.id)
            if esim is None:
                raise CheckoutError("You can only top up an eSIM of your own. Please sign in.")
            if not esim.with_top_up:
                raise CheckoutError("This eSIM can't be topped up. Please choose a new eSIM instead.")
        line_total = package.retail_cents * line.quantity
        total += line_total
        OrderLine.objects.create(
            order=order, kind=LineKind.TOPUP if esim else LineKind.ESIM, package=package, esim=esim,
            package_id_upstream=package.package_id, description=_description(package, esim),
            quantity=line.quantity, unit_price_cents=package.retail_cents, total_cents=line_total,
            wholesale_cents=package.wholesale_cents,
        )
    order.total_cents = total
    order.save(update_fields=["total_cents"])
    log_event(order, "placed", f"Order placed by {email} for {total} {order.currency} minor units",
              to_status=order.status)
    remember_customer(order)
    return order
