"""Reads of checkout, for its views and the account area."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from catalog.models import Package
from discounts import services as discounts
from discounts.rules import Buyer
from esims.models import Esim
from payments.models import PaymentRefund

from .models import Customer, LineKind, Order, OrderLine, OrderStatus


def customer_orders(user) -> QuerySet[Order]:
    """A signed-in customer's orders, newest first (none for anyone else)."""
    return Order.objects.for_customer(user).prefetch_related("lines").order_by("-created_at")


def customer_esims(user) -> QuerySet[Esim]:
    """The eSIMs a signed-in customer owns, newest first."""
    return Esim.objects.owned_by(user).order_by("-created_at")


def purchase_kind(kinds: set[str]) -> str:
    """What an order (or cart) is, for the words after purchase: "esim" when it has an eSIM (its
    install comes first), else "topup" or "giftcard" when it is only that, else "mixed"."""
    if LineKind.ESIM in kinds:
        return LineKind.ESIM
    if len(kinds) == 1:
        return next(iter(kinds))
    return "mixed"


def order_kind(order: Order) -> str:
    return purchase_kind({line.kind for line in order.lines.all()})


# The order's status as its buyer reads it: "Preparing eSIM" only when there is an eSIM to prepare.
_FULFILLING = {
    LineKind.TOPUP: gettext_lazy("Adding your top-up"),
    LineKind.GIFTCARD: gettext_lazy("Preparing your gift card"),
    "mixed": gettext_lazy("Completing your order"),
}


def status_label(order: Order, kind: str | None = None) -> str:
    kind = kind or order_kind(order)
    if order.status in (OrderStatus.PAID, OrderStatus.FULFILLING) and kind in _FULFILLING:
        return str(_FULFILLING[kind])
    return str(order.get_status_display())


def esim_plan(esim: Esim) -> Package | None:
    """The catalog package the eSIM was bought as (its data, days and speed cap), if still known."""
    if not esim.package_id_upstream:
        return None
    return Package.objects.filter(package_id=esim.package_id_upstream).first()


def esim_is_unlimited(esim: Esim, plan: Package | None = None) -> bool:
    """Whether the eSIM's data is unlimited: its plan, or an unlimited top-up applied to it since."""
    plan = plan if plan is not None else esim_plan(esim)
    if plan is not None and plan.is_unlimited:
        return True
    return OrderLine.objects.filter(
        kind=LineKind.TOPUP, esim=esim, fulfilled_at__isnull=False, package__is_unlimited=True
    ).exists()


def recent_unpaid_order(session: SessionBase) -> Order | None:
    """The order this visitor placed last, if it still waits for payment (Back from the payment page)."""
    numbers = session.get("orders", [])[:1]
    if not numbers:
        return None
    since = timezone.now() - dt.timedelta(minutes=settings.CHECKOUT_SESSION_MINUTES)
    return Order.objects.filter(
        number__in=numbers, status=OrderStatus.PENDING_PAYMENT, created_at__gte=since
    ).first()


def orders_of_customer(customer: Customer) -> QuerySet[Order]:
    """The orders of a customer record: every order placed with their email, guest or signed in."""
    return Order.objects.filter(email__iexact=customer.email)


def refunds_of(orders: QuerySet[Order]) -> QuerySet[PaymentRefund]:
    """Money sent back on these orders' payments, newest first (one row per refund the shop made)."""
    return (
        PaymentRefund.objects.filter(payment__order__in=orders.values("pk"))
        .select_related("payment__order")
        .order_by("-created_at", "-id")
    )


def has_paid_order(email: str, user=None) -> bool:
    """Whether this email or account has paid for an order before (a first-order code's rule)."""
    who = Q(email__iexact=email) if email else Q(pk__in=[])
    if user is not None and user.is_authenticated:
        who |= Q(customer=user)
    return Order.objects.filter(who, paid_at__isnull=False).exists()


def discount_buyer(email: str, user=None):
    """Who buys, as a discount code's rules see them (`cart.with_discount`, `place_order`)."""

    def buyer_of(code) -> Buyer:
        paid = has_paid_order(email, user) if code.first_order_only and (email or user) else False
        return discounts.buyer(code, email, user, has_paid_order=paid)

    return buyer_of
