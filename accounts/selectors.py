"""Reads for the account pages: the customer's eSIMs and orders, shaped for templates."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db.models import Prefetch
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from checkout.models import LineKind, Order, OrderLine
from esims import selectors as esims
from esims.models import Esim
from esims.usage import UsageSnapshot, format_mb, read_ago


def _with_lines(queryset):
    lines = OrderLine.objects.filter(kind=LineKind.ESIM).select_related("package__destination")
    return queryset.prefetch_related(Prefetch("order_lines", queryset=lines, to_attr="bought_lines"))


def customer_esims(user) -> list[Esim]:
    return list(_with_lines(esims.owned_esims(user)))


def customer_esim(user, pk: int) -> Esim:
    """The customer's own eSIM, or 404 (the same answer whether it exists or not)."""
    esim = _with_lines(esims.owned_esims(user).filter(pk=pk)).first()
    if esim is None:
        raise Http404
    return esim


def esim_with_lines(esim: Esim) -> Esim:
    return _with_lines(Esim.objects.filter(pk=esim.pk)).get()


def destination(esim: Esim):
    lines = getattr(esim, "bought_lines", None) or []
    return lines[0].package.destination if lines and lines[0].package else None


@dataclass(frozen=True)
class Validity:
    label: str  # what the list and the page say, in the active language
    days_left: int | None = None
    expired: bool = False
    cancelled: bool = False  # what templates test (the label is translated)


def validity(esim: Esim, snapshot: UsageSnapshot | None, now: dt.datetime | None = None) -> Validity:
    now = now or timezone.now()
    status = (snapshot.status if snapshot and snapshot.status else esim.status or "").upper()
    if status == "REVOKED" or esim.refund_state == "cancelled":
        return Validity(_("Cancelled"), expired=True, cancelled=True)
    started = snapshot.started_at if snapshot else None
    ends = (snapshot.expires_at if snapshot and snapshot.expires_at else None) or (
        esim.expires_at if started else None
    )
    if status == "EXPIRED" or (ends and ends <= now):
        return Validity(_("Expired"), 0, expired=True)
    if ends:
        days = max(0, math.ceil((ends - now).total_seconds() / 86400))
        return Validity(ngettext("%(days)d day left", "%(days)d days left", days) % {"days": days}, days)
    return Validity(_("Not started: the days count from first use"))


# Upstream's status: (key for the page's CSS class, label in the active language).
STATUS_LABELS = {
    "NEW": ("being-prepared", gettext_lazy("Being prepared")),
    "READY": ("ready-to-install", gettext_lazy("Ready to install")),
    "INSTALLED": ("installed", gettext_lazy("Installed")),
    "EXPIRED": ("expired", gettext_lazy("Expired")),
    "REVOKED": ("cancelled", gettext_lazy("Cancelled")),
}


def _status(esim: Esim, snapshot: UsageSnapshot | None) -> tuple[str, str]:
    if esim.refund_state:  # the shop refunded it ("Cancelled" once Roamify took it back): upstream says READY
        return esim.refund_state, esim.get_refund_state_display()
    status = (snapshot.status if snapshot and snapshot.status else esim.status or "").upper()
    if status in STATUS_LABELS:
        key, label = STATUS_LABELS[status]
        return key, str(label)
    # A status the shop doesn't know: upstream's word as it is.
    return slugify(status) or "unknown", status.title() or _("Unknown")


def status_label(esim: Esim, snapshot: UsageSnapshot | None) -> str:
    return _status(esim, snapshot)[1]


def status_key(esim: Esim, snapshot: UsageSnapshot | None) -> str:
    """The status as a stable word for CSS (`status-<key>`), the same in every language."""
    return _status(esim, snapshot)[0]


def daily_allowance_mb(esim: Esim, snapshot: UsageSnapshot | None) -> int | None:
    """The full-speed data of each day on an unlimited plan (its throttle threshold), if it has one.

    Roamify's usage reports no allowance of the day: it is the package's (catalog `throttle`), and
    the day's use is the usage details' entry for today.
    """
    if snapshot is None or not snapshot.supported or not snapshot.unlimited:
        return None
    lines = getattr(esim, "bought_lines", None) or []
    package = lines[0].package if lines else None
    if package is None or not package.is_unlimited:
        return None
    return package.throttle_threshold_mb or None


def usage_figures(esim: Esim, snapshot: UsageSnapshot | None) -> dict:
    """The figures the usage bar and the eSIM page show, formatted, and whether they are current
    (else the page's script asks for them again: accounts.views.esim_usage)."""
    figures = {
        "usage": snapshot,
        "usage_current": esims.usage_is_current(snapshot),
        "usage_current_for": esims.usage_current_for(snapshot),
        "used": "",
        "left": "",
        "allowed": "",
        "today_used": "",
        "daily_allowance": "",
        "today_percent_left": None,
        "read_ago": "",
    }
    if snapshot is None or not snapshot.supported:
        return figures
    figures.update(
        used=format_mb(snapshot.used_mb),
        left=format_mb(snapshot.remaining_mb),
        allowed=format_mb(snapshot.allowed_mb),
        read_ago=read_ago(snapshot.fetched_at),
    )
    allowance = daily_allowance_mb(esim, snapshot)
    if allowance:
        # Upstream's days are UTC days (the chart says so too).
        today = snapshot.used_on(timezone.now().astimezone(dt.UTC).date())
        figures.update(
            today_used=format_mb(today),
            daily_allowance=format_mb(allowance),
            today_percent_left=max(0, 100 - math.ceil(today * 100 / allowance)),
        )
    return figures


def esim_cards(user) -> list[dict]:
    """Each eSIM of the list with its destination, status, data used or left and days left."""
    items = customer_esims(user)
    usage = esims.usage_of_many(items)
    cards = []
    for esim in items:
        snapshot = usage.get(esim.pk)
        cards.append(
            {
                "esim": esim,
                "destination": destination(esim),
                **usage_figures(esim, snapshot),
                "status": status_label(esim, snapshot),
                "status_key": status_key(esim, snapshot),
                "validity": validity(esim, snapshot),
            }
        )
    return cards


def customer_orders(user):
    return Order.objects.for_customer(user).prefetch_related("lines").order_by("-created_at")


def customer_order(user, number: str) -> Order:
    # PostgreSQL text cannot hold NUL: such a number is simply not an order (not a 500).
    order = None if "\x00" in number else Order.objects.for_customer(user).filter(number=number[:20]).first()
    if order is None:
        raise Http404
    return order


def tax_included(total_cents: int) -> tuple[str, int] | None:
    """(label, cents) of the tax included in a total, when the shop set SHOP_TAX_PERCENT."""
    try:
        rate = Decimal(settings.SHOP_TAX_PERCENT or "0")
    except InvalidOperation:
        return None
    if rate <= 0:
        return None
    cents = total_cents - int((Decimal(total_cents) * 100 / (100 + rate)).quantize(Decimal(1)))
    name = settings.SHOP_TAX_NAME or _("Tax")
    # Translators: the tax included in a receipt's total, e.g. "VAT 20% (included)".
    label = _("%(name)s %(rate)s%% (included)") % {"name": name, "rate": rate.normalize()}
    return label, cents


def order_landing(order: Order) -> str:
    """The page of the account an order leads to: its eSIM's when it has one (bought or topped
    up), the gift cards for a gift-card-only order, else the eSIM list."""
    lines = list(order.lines.all())
    esim_ids = {e.pk for e in order.esims} | {line.esim_id for line in lines if line.esim_id}
    if len(esim_ids) == 1:
        return reverse("accounts:esim_detail", args=[esim_ids.pop()])
    if lines and all(line.kind == LineKind.GIFTCARD for line in lines):
        return reverse("giftcards:account_list")
    return reverse("accounts:esim_list")


def auto_topup_offers(esim: Esim) -> list:
    """Top-ups an automatic top-up may buy for the eSIM: those upstream says fit it, sold by the shop."""
    from checkout.services import topup_offers

    return topup_offers(esim) if not esim.topup_refusal_key else []


def auto_topup_of(esim: Esim):
    """The eSIM's automatic top-up rule, on or off (None when never set up)."""
    from checkout.models import AutoTopup

    return AutoTopup.objects.filter(esim=esim).select_related("package", "card").first()
