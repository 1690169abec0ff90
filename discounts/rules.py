"""Whether a code applies to a cart, and what it takes off each line: pure, no queries of its own.

The caller describes the cart (`Item`s in the order's currency, each with its floor: its cost plus
the minimum margin at the order's rate) and the buyer (`Buyer`: what checkout knows of earlier
orders and uses of the code). `evaluate` returns the discount per line or raises `Refused` with the
reason in the customer's words.

Decisions: the minimum spend is counted on the lines the code applies to, before any discount, in
the order's currency (the base amount converted at the order's rate, rounded up). A fixed amount
is split over those lines in proportion to their totals (running sums, so the parts add up); each
line's part is then capped at what keeps it at its floor, and what a cap leaves is not moved to
other lines. A percent is taken off each line, rounded half up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import formats, timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from catalog.pricing import PricingRules, floor_price
from core.money import convert, format_money

from .models import DiscountCode, Kind, LineKinds


class Refused(ValueError):
    """The code does not apply; the message says why. `lasting`: no change of cart will help."""

    def __init__(self, message: str, *, lasting: bool = False) -> None:
        super().__init__(message)
        self.lasting = lasting


@dataclass(frozen=True)
class Item:
    """A cart line as a discount sees it."""

    key: str
    kind: str  # "esim", "topup" or "giftcard"
    total_cents: int  # the list total of the line (unit × quantity), in the order's currency
    floor_cents: int = 0  # the least the line may be sold for (cost + minimum margin) × quantity
    package_id: int | None = None
    destination_id: int | None = None
    region: str = ""


@dataclass(frozen=True)
class Buyer:
    email: str = ""
    user_id: int | None = None
    uses: int = 0  # uses of this code (reserved or counted) by this email or account
    has_paid_order: bool = False  # an earlier paid order by this email or account


@dataclass(frozen=True)
class LineDiscount:
    key: str
    cents: int  # what it takes off the line
    wanted_cents: int  # what it would have taken without the floor
    total_cents: int  # the line's list total

    @property
    def capped(self) -> bool:
        return self.cents < self.wanted_cents


@dataclass(frozen=True)
class Applied:
    code: DiscountCode
    lines: list[LineDiscount] = field(default_factory=list)

    @property
    def cents(self) -> int:
        return sum(line.cents for line in self.lines)

    @property
    def wanted_cents(self) -> int:
        return sum(line.wanted_cents for line in self.lines)

    @property
    def capped(self) -> bool:
        return any(line.capped for line in self.lines)

    def of(self, key: str) -> int:
        return next((line.cents for line in self.lines if line.key == key), 0)


def _date(value: dt.datetime) -> str:
    return formats.date_format(timezone.localtime(value), "j F Y")


def in_currency(base_cents: int, currency: str, rate_per_base: Decimal, rounding=ROUND_HALF_UP) -> int:
    if currency == settings.SHOP_CURRENCY:
        return base_cents
    return convert(base_cents, rate_per_base, settings.SHOP_CURRENCY, currency, rounding=rounding)


def line_floor(wholesale_cents: int, quantity: int, currency: str, rate_per_base: Decimal) -> int:
    """The least a line may be sold for: cost plus the minimum margin per unit, in the order's
    currency rounded up (as `catalog.currency.local_price` floors a price)."""
    unit = floor_price(wholesale_cents, PricingRules.from_settings())
    return in_currency(unit, currency, rate_per_base, ROUND_CEILING) * quantity


def scope_words(code: DiscountCode) -> str:
    """What the code is for, for its refusals: "Japan, Korea plans", "top-ups"."""
    names = [d.local_name for d in code.destinations.all()] + list(code.regions)
    kinds = set(code.line_kinds) & set(LineKinds.values)
    if names:
        # Translators: e.g. "Japan plans", "Japan or Asia plans" (what a discount code is for).
        return _("%(places)s plans") % {"places": get_text_list(names, _("or"))}
    if code.packages.all():
        return _("selected plans")
    if kinds == {LineKinds.TOPUP}:
        return _("top-ups")
    if kinds == {LineKinds.ESIM}:
        return _("new eSIMs")
    return _("plans")


def covers(code: DiscountCode, item: Item) -> bool:
    if item.kind not in LineKinds.values:
        return False  # gift cards, whatever the code says
    if code.line_kinds and item.kind not in code.line_kinds:
        return False
    destinations = {d.pk for d in code.destinations.all()}
    packages = {p.pk for p in code.packages.all()}
    if not (destinations or packages or code.regions):
        return True
    return (
        item.destination_id in destinations
        or item.package_id in packages
        or (bool(item.region) and item.region in code.regions)
    )


def check_code(code: DiscountCode, buyer: Buyer, now: dt.datetime | None = None) -> None:
    """The rules that do not depend on the cart."""
    now = now or timezone.now()
    if not code.active:
        raise Refused(_("This code is no longer valid."), lasting=True)
    if code.valid_from and now < code.valid_from:
        raise Refused(_("This code starts on %(date)s.") % {"date": _date(code.valid_from)}, lasting=True)
    if code.valid_until and now >= code.valid_until:
        raise Refused(_("This code expired on %(date)s.") % {"date": _date(code.valid_until)}, lasting=True)
    if code.max_uses is not None and code.uses >= code.max_uses:
        raise Refused(_("This code has no uses left."), lasting=True)
    if code.kind == Kind.REFERRAL and code.referrer_id is not None:
        own_email = buyer.email and buyer.email.lower() == (code.referrer.email or "").lower()
        if (buyer.user_id is not None and buyer.user_id == code.referrer_id) or own_email:
            raise Refused(_("You can't use your own referral code."), lasting=True)
    if code.max_uses_per_customer is not None and buyer.uses >= code.max_uses_per_customer:
        raise Refused(_("You have already used this code."), lasting=True)
    if code.first_order_only and buyer.has_paid_order:
        raise Refused(_("This code is for a first order only."), lasting=True)


def _split(amount: int, totals: list[int]) -> list[int]:
    """`amount` in parts proportional to `totals` (running sums: they add up to `amount`)."""
    whole, done, parts = sum(totals), 0, []
    for total in totals:
        before = amount * done // whole if whole else 0
        done += total
        parts.append((amount * done // whole if whole else 0) - before)
    return parts


def evaluate(
    code: DiscountCode,
    items: list[Item],
    buyer: Buyer,
    currency: str,
    rate_per_base: Decimal = Decimal(1),
    now: dt.datetime | None = None,
) -> Applied:
    """What `code` takes off each of `items` for `buyer`, or Refused."""
    check_code(code, buyer, now)
    covered = [item for item in items if covers(code, item)]
    if not covered:
        if items and all(item.kind not in LineKinds.values for item in items):
            raise Refused(_("This code is not for gift cards."))
        raise Refused(_("This code is valid for %(scope)s only.") % {"scope": scope_words(code)})
    spent = sum(item.total_cents for item in covered)
    least = in_currency(code.min_spend_cents, currency, rate_per_base, ROUND_CEILING)
    if spent < least:
        # Translators: e.g. "Spend at least $20.00 on Japan plans to use this code."
        refusal = _("Spend at least %(amount)s on %(scope)s to use this code.")
        raise Refused(refusal % {"amount": format_money(least, currency), "scope": scope_words(code)})
    if code.percent_off is not None:
        percent = Decimal(code.percent_off)
        wanted = [
            int((item.total_cents * percent / 100).to_integral_value(ROUND_HALF_UP)) for item in covered
        ]
    else:
        amount = min(in_currency(code.amount_off_cents or 0, currency, rate_per_base), spent)
        wanted = _split(amount, [item.total_cents for item in covered])
    lines = [
        LineDiscount(item.key, max(0, min(want, item.total_cents - item.floor_cents)), want, item.total_cents)
        for item, want in zip(covered, wanted, strict=True)
    ]
    return Applied(code, lines)
