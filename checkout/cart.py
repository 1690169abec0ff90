"""The cart, kept in the session: package ids and quantities, priced on every read.

Prices are never taken from the browser: each view of the cart prices its
lines from the catalog, and an order freezes them when it is placed. Gift
cards bought are lines of their own (an amount, checked again on every read);
gift cards applied to pay are kept as card ids, found by their code first.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from catalog.currency import Rate, current_rate, package_price
from catalog.models import Package
from discounts import rules as discount_rules
from discounts import services as discounts
from discounts.models import Kind as DiscountKind
from esims.models import Esim
from giftcards import services as giftcards

from .models import LineKind

SESSION_KEY = "cart"
TOKEN_KEY = "cart_token"  # noqa: S105 - a session key's name, not a secret
TOPUP_PREFIX = "topup:"  # a top-up line's key: topup:<eSIM id>:<package id>
GIFT_LINES_KEY = "cart_gift_lines"  # gift cards being bought: {key: {amount_cents, recipient_*, ...}}
APPLIED_KEY = "cart_gift_cards"  # ids of gift cards applied to pay
EMAIL_KEY = "cart_email"  # the email of an order put back in the cart, for the checkout form
DISCOUNT_KEY = discounts.SESSION_KEY  # the discount code typed in, or brought by a share link
CREDIT_KEY = "cart_store_credit"  # the signed-in customer chose to pay with their store credit
NO_LONGER_SOLD = gettext_lazy("A plan in your cart is no longer sold and was removed.")


class CartError(ValueError):
    """Bad cart input, with a message for the customer."""


@dataclass(frozen=True)
class CartLine:
    package: Package
    quantity: int
    esim: Esim | None = None  # set for a top-up of one of the customer's eSIMs
    unit_cents: int | None = None  # the price in the cart's currency (None: the base retail price)

    @property
    def unit_price_cents(self) -> int:
        return self.package.retail_cents if self.unit_cents is None else self.unit_cents

    @property
    def total_cents(self) -> int:
        return self.unit_price_cents * self.quantity

    @property
    def key(self) -> str:
        """What the cart's forms name this line by."""
        return _topup_key(self.esim.pk, self.package.package_id) if self.esim else self.package.package_id


def _topup_key(esim_id: int, package_id: str) -> str:
    return f"{TOPUP_PREFIX}{esim_id}:{package_id}"


def _parse_topup_key(key: str) -> tuple[int, str] | None:
    if not key.startswith(TOPUP_PREFIX):
        return None
    esim_id, _, package_id = key[len(TOPUP_PREFIX) :].partition(":")
    return (int(esim_id), package_id) if esim_id.isdigit() and package_id else None


def line_name(package: Package, esim: Esim | None = None) -> str:
    """How the customer knows a line: "The 1 GB, 7-day top-up for your eSIM …1234"."""
    if esim is not None:
        # Translators: e.g. "The 1 GB, 7-day top-up for your eSIM …1234".
        name = ngettext(
            "The %(data)s, %(days)s-day top-up for your eSIM %(iccid)s",
            "The %(data)s, %(days)s-day top-up for your eSIM %(iccid)s",
            package.days,
        )
        return name % {"data": package.data_label, "days": package.days, "iccid": esim.iccid_masked}
    name = ngettext(
        "The %(name)s eSIM, %(data)s, %(days)s day",
        "The %(name)s eSIM, %(data)s, %(days)s days",
        package.days,
    )
    return name % {"name": package.destination.local_name, "data": package.data_label, "days": package.days}


@dataclass(frozen=True)
class GiftLine:
    """A gift card being bought: an amount for a recipient."""

    key: str
    amount_cents: int
    recipient_name: str
    recipient_email: str
    message: str = ""
    send_on: str | None = None  # ISO date; None: as soon as it is paid
    template_suffix: str = "globe"
    currency: str = ""  # what its amount is in (empty: the base currency, as carts were before)
    quantity = 1

    @property
    def total_cents(self) -> int:
        return self.amount_cents

    def data(self) -> dict:
        return {
            "amount_cents": self.amount_cents,
            "recipient_name": self.recipient_name,
            "recipient_email": self.recipient_email,
            "message": self.message,
            "send_on": self.send_on,
            "template_suffix": self.template_suffix,
            "currency": self.currency or settings.SHOP_CURRENCY,
        }


@dataclass(frozen=True)
class PricedCart:
    lines: list[CartLine]
    removed: list[str]  # lines dropped from the cart: no longer sold, or no longer deliverable
    gift_lines: list[GiftLine] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # what the customer is told of the removed lines
    currency: str = ""  # what every line is priced in (the visitor's currency)
    rate: Rate | None = None  # the rate those prices were worked out at (None: the base currency)
    # The discount code (`with_discount`): what it takes off each line, or why it does not apply.
    discount_code: str = ""
    discount: discount_rules.Applied | None = None
    discount_refusal: str = ""
    discount_from_friend: bool = False  # a friend's referral code: the cart says whose gift it is

    @property
    def total_cents(self) -> int:
        """What the cart costs after its discount (before gift cards pay)."""
        return sum(line.total_cents for line in self.lines) + self.gift_cards_cents - self.discount_cents

    @property
    def discount_cents(self) -> int:
        return self.discount.cents if self.discount else 0

    @property
    def discounted_lines(self) -> list[tuple[CartLine, discount_rules.LineDiscount]]:
        """The lines the discount takes money off, with what it takes from each."""
        if self.discount is None:
            return []
        by_key = {line.key: line for line in self.lines}
        return [(by_key[d.key], d) for d in self.discount.lines if d.key in by_key and d.cents]

    @property
    def gift_cards_cents(self) -> int:
        return sum(line.total_cents for line in self.gift_lines)

    @property
    def payable_by_gift_card_cents(self) -> int:
        """A gift card can't pay for another gift card."""
        return self.total_cents - self.gift_cards_cents

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines) + len(self.gift_lines)

    def __bool__(self) -> bool:
        return bool(self.lines or self.gift_lines)


def _raw(session: SessionBase) -> dict[str, int]:
    raw = session.get(SESSION_KEY)
    return dict(raw) if isinstance(raw, dict) else {}


def _save(session: SessionBase, lines: dict[str, int]) -> None:
    session[SESSION_KEY] = lines
    if TOKEN_KEY not in session:
        session[TOKEN_KEY] = secrets.token_urlsafe(18)
    session.modified = True


def token(session: SessionBase) -> str | None:
    """This cart's own token, new with each cart: one order per cart, however often it is submitted."""
    return session.get(TOKEN_KEY)


def parse_quantity(value: object) -> int:
    try:
        quantity = int(str(value).strip())
    except (TypeError, ValueError):
        raise CartError(_quantity_range()) from None
    if not 1 <= quantity <= settings.CART_MAX_QUANTITY:
        raise CartError(_quantity_range())
    return quantity


def _quantity_range() -> str:
    return _("Please choose a quantity between 1 and %(max)s.") % {"max": settings.CART_MAX_QUANTITY}


def _too_many_plans() -> str:
    most = settings.CART_MAX_LINES
    refusal = ngettext(
        "Your cart can hold %(max)s different plan at most.",
        "Your cart can hold %(max)s different plans at most.",
        most,
    )
    return refusal % {"max": most}


def add(session: SessionBase, package_id: str, quantity: object = 1) -> Package:
    qty = parse_quantity(quantity)
    package_id = str(package_id)[:160]
    # PostgreSQL text cannot hold NUL: no plan has such an id (and the query would fail).
    package = None if "\x00" in package_id else Package.objects.active().filter(package_id=package_id).first()
    if package is None:
        raise CartError(_("Sorry, that plan is not available any more."))
    lines = _raw(session)
    new_qty = lines.get(package.package_id, 0) + qty
    if new_qty > settings.CART_MAX_QUANTITY:
        most = settings.CART_MAX_QUANTITY
        raise CartError(_("You can buy at most %(max)s of one plan per order.") % {"max": most})
    if package.package_id not in lines and len(lines) + len(_gift_raw(session)) >= settings.CART_MAX_LINES:
        raise CartError(_too_many_plans())
    lines[package.package_id] = new_qty
    _save(session, lines)
    return package


def add_topup(session: SessionBase, esim: Esim, package: Package) -> None:
    """A top-up of `esim` (one per package and eSIM). The caller has checked that the eSIM is the
    customer's and that upstream accepts the package for it; placing the order checks again."""
    lines = _raw(session)
    key = _topup_key(esim.pk, package.package_id)
    if key in lines:
        return
    if len(lines) >= settings.CART_MAX_LINES:
        raise CartError(_too_many_plans())
    lines[key] = 1
    _save(session, lines)


def set_quantity(session: SessionBase, package_id: str, quantity: object) -> None:
    lines = _raw(session)
    if package_id not in lines:
        raise CartError(_("That plan is not in your cart."))
    if _parse_topup_key(package_id) and parse_quantity(quantity) != 1:
        raise CartError(_("A top-up is bought one at a time for its eSIM."))
    lines[package_id] = parse_quantity(quantity)
    _save(session, lines)


def remove(session: SessionBase, package_id: str) -> None:
    lines = _raw(session)
    lines.pop(package_id, None)
    _save(session, lines)


def clear(session: SessionBase) -> None:
    for key in (SESSION_KEY, TOKEN_KEY, GIFT_LINES_KEY, APPLIED_KEY, EMAIL_KEY, DISCOUNT_KEY, CREDIT_KEY):
        session.pop(key, None)


def restore(session: SessionBase, order, *, gift_cards_applied: bool = True) -> None:
    """An order left unpaid back in the cart (Back from the payment page; checkout.services
    .reopen_for_cart cancelled it first): its plans and quantities, its top-ups of the same eSIMs,
    the gift cards it bought and the gift cards it was paid with, added to what the cart holds.
    Each is checked again when the cart is priced, as anything added is. A link from an email (which
    may be forwarded) puts back what was bought only (`gift_cards_applied=False`): a gift card to
    pay with is applied again by its code."""
    lines = _raw(session)
    gift_lines = _gift_raw(session)
    for line in order.lines.all():
        if line.kind == LineKind.GIFTCARD and line.data:
            gift_lines[secrets.token_hex(4)] = dict(line.data)
        elif line.kind == LineKind.TOPUP and line.esim_id and line.package_id_upstream:
            lines[_topup_key(line.esim_id, line.package_id_upstream)] = 1
        elif line.package_id_upstream:
            wanted = lines.get(line.package_id_upstream, 0) + line.quantity
            lines[line.package_id_upstream] = min(wanted, settings.CART_MAX_QUANTITY)
    session[GIFT_LINES_KEY] = gift_lines
    paid_with = [
        p.data["gift_card_id"]
        for p in (order.payments.all() if gift_cards_applied else [])
        if isinstance(p.data.get("gift_card_id"), int)
        and p.data["gift_card_id"] not in applied_gift_cards(session)
    ]
    session[APPLIED_KEY] = [*applied_gift_cards(session), *paid_with][: settings.GIFTCARD_MAX_PER_ORDER]
    session[EMAIL_KEY] = order.email
    if order.discount_code_id and DISCOUNT_KEY not in session:
        session[DISCOUNT_KEY] = order.discount_code.code
    if any(p.provider == "storecredit" for p in order.payments.all()):
        use_store_credit(session, True)
    _save(session, lines)


def count(session: SessionBase) -> int:
    return sum(q for q in _raw(session).values() if isinstance(q, int)) + len(_gift_raw(session))


# --- Gift cards bought -------------------------------------------------------------------------------


def _gift_raw(session: SessionBase) -> dict[str, dict]:
    raw = session.get(GIFT_LINES_KEY)
    return dict(raw) if isinstance(raw, dict) else {}


def add_gift_card(session: SessionBase, data: dict) -> GiftLine:
    """`data`: a gift card purchase form's cleaned line (giftcards.forms.PurchaseForm.line_data())."""
    gift_lines = _gift_raw(session)
    if len(_raw(session)) + len(gift_lines) >= settings.CART_MAX_LINES:
        most = settings.CART_MAX_LINES
        refusal = ngettext(
            "Your cart can hold %(max)s item at most.", "Your cart can hold %(max)s items at most.", most
        )
        raise CartError(refusal % {"max": most})
    key = secrets.token_hex(4)
    gift_lines[key] = data
    session[GIFT_LINES_KEY] = gift_lines
    _save(session, _raw(session))
    return _gift_line(key, data)


def remove_gift_card(session: SessionBase, key: str) -> None:
    gift_lines = _gift_raw(session)
    gift_lines.pop(key, None)
    session[GIFT_LINES_KEY] = gift_lines
    session.modified = True


def _gift_line(key: str, data: dict) -> GiftLine:
    return GiftLine(
        key=key,
        amount_cents=int(data["amount_cents"]),
        recipient_name=str(data["recipient_name"]),
        recipient_email=str(data["recipient_email"]),
        message=str(data.get("message", "")),
        send_on=data.get("send_on"),
        template_suffix=str(data.get("template_suffix", "globe")),
        currency=str(data.get("currency") or settings.SHOP_CURRENCY),
    )


def _priced_gift_lines(
    session: SessionBase, currency: str, rate: Rate | None
) -> tuple[list[GiftLine], list[str], list[str]]:
    kept, dropped, notices = [], [], []
    for key, data in _gift_raw(session).items():
        try:  # amounts are checked again: the limits may have changed since
            line = _gift_line(key, data)
            if line.currency != currency:
                # Its amount was chosen in another currency: a card is never silently re-priced.
                dropped.append(key)
                notices.append(
                    _(
                        "The gift card for %(name)s was in %(card_currency)s, and your cart is now in "
                        "%(currency)s: it was removed. Please add it again."
                    )
                    % {"name": line.recipient_name, "card_currency": line.currency, "currency": currency}
                )
                continue
            giftcards.clean_purchase_amount(line.amount_cents, currency, rate.per_base if rate else None)
        except (KeyError, TypeError, ValueError):
            dropped.append(key)
            continue
        kept.append(line)
    for key in dropped:
        remove_gift_card(session, key)
    return kept, [f"gift card {key}" for key in dropped], notices


# --- Gift cards applied to pay -------------------------------------------------------------------------


def applied_gift_cards(session: SessionBase) -> list[int]:
    raw = session.get(APPLIED_KEY)
    return [i for i in raw if isinstance(i, int)] if isinstance(raw, list) else []


def apply_gift_card(session: SessionBase, card_id: int) -> None:
    applied = applied_gift_cards(session)
    if card_id in applied:
        raise CartError(_("That gift card is already applied."))
    if len(applied) >= settings.GIFTCARD_MAX_PER_ORDER:
        most = settings.GIFTCARD_MAX_PER_ORDER
        refusal = ngettext(
            "You can use at most %(max)s gift card on one order.",
            "You can use at most %(max)s gift cards on one order.",
            most,
        )
        raise CartError(refusal % {"max": most})
    session[APPLIED_KEY] = [*applied, card_id]


def unapply_gift_card(session: SessionBase, card_id: object) -> None:
    session[APPLIED_KEY] = [i for i in applied_gift_cards(session) if str(i) != str(card_id)]


# --- Store credit used to pay ---------------------------------------------------------------------------


def uses_store_credit(session: SessionBase) -> bool:
    return session.get(CREDIT_KEY) is True


def use_store_credit(session: SessionBase, use: bool) -> None:
    """The customer's choice to pay with their store credit (what it pays is worked out when priced)."""
    if use:
        session[CREDIT_KEY] = True
    else:
        session.pop(CREDIT_KEY, None)


def rate_between(from_currency: str, to_currency: str) -> Decimal:
    """Units of `to_currency` per one unit of `from_currency` now (both rates through the base
    currency); RateUnavailable when either is stale or missing."""
    return current_rate(to_currency).per_base / current_rate(from_currency).per_base


def priced(session: SessionBase, currency: str | None = None) -> PricedCart:
    """The cart priced now in `currency` (default: the base currency), by the catalog's own rule
    (`package_price`). RateUnavailable (a stale or missing rate) before anything is changed."""
    currency = currency or settings.SHOP_CURRENCY
    rate = None if currency == settings.SHOP_CURRENCY else current_rate(currency)
    raw = _raw(session)
    gift_lines, gift_removed, gift_notices = _priced_gift_lines(session, currency, rate)
    if not raw:
        unsaid = [str(NO_LONGER_SOLD)] if len(gift_removed) > len(gift_notices) else []
        return PricedCart([], gift_removed, gift_lines, gift_notices + unsaid, currency, rate)
    topups = {key: parsed for key in raw if (parsed := _parse_topup_key(key))}
    wanted = [key for key in raw if key not in topups] + [pid for _esim, pid in topups.values()]
    packages = {
        p.package_id: p
        for p in Package.objects.active().filter(package_id__in=wanted).select_related("destination")
    }
    esims = (
        {e.pk: e for e in Esim.objects.filter(pk__in=[i for i, _package in topups.values()])}
        if topups
        else {}
    )
    lines, removed, notices = [], [], []
    for package_id, qty in raw.items():
        esim_id, pid = topups.get(package_id, (None, package_id))
        esim = esims.get(esim_id) if esim_id else None
        if esim is not None and pid in packages and esim.topup_refusal:
            # Its eSIM died (revoked, refunded) since it was added: a top-up can't be delivered.
            removed.append(package_id)
            name = line_name(packages[pid], esim)
            # Translators: %(reason)s says why, e.g. "it was refunded".
            notice = _("%(name)s was removed from your cart: %(reason)s.")
            notices.append(notice % {"name": name, "reason": esim.topup_refusal})
        elif pid in packages and isinstance(qty, int) and qty > 0 and (esim_id is None or esim):
            unit = None if rate is None else package_price(packages[pid], currency)
            lines.append(CartLine(packages[pid], qty, esim, unit))
        else:
            removed.append(package_id)
    notices += gift_notices
    if len(removed) + len(gift_removed) > len(notices):
        notices.append(str(NO_LONGER_SOLD))
    if removed:
        _save(session, {k: v for k, v in raw.items() if k not in removed})
    return PricedCart(lines, removed + gift_removed, gift_lines, notices, currency, rate)


# --- The discount code -------------------------------------------------------------------------------


def discount_code(session: SessionBase) -> str:
    value = session.get(DISCOUNT_KEY)
    return value if isinstance(value, str) else ""


def set_discount_code(session: SessionBase, code: str) -> str:
    """One code per order: a new one replaces the one before. Returns the code it replaced."""
    before = discount_code(session)
    session[DISCOUNT_KEY] = code
    return before if before != code else ""


def remove_discount_code(session: SessionBase) -> None:
    session.pop(DISCOUNT_KEY, None)


def discount_items(lines, currency: str, rate_per_base: Decimal) -> list[discount_rules.Item]:
    """Lines as a discount sees them. `lines`: (key, kind, list total, package or None, quantity)."""
    items = []
    for key, kind, total, package, quantity in lines:
        floor = (
            discount_rules.line_floor(package.wholesale_cents, quantity, currency, rate_per_base)
            if package is not None
            else total
        )
        items.append(
            discount_rules.Item(
                key=key,
                kind=kind,
                total_cents=total,
                floor_cents=floor,
                package_id=package.pk if package is not None else None,
                destination_id=package.destination_id if package is not None else None,
                region=package.destination.region if package is not None else "",
            )
        )
    return items


def with_discount(priced: PricedCart, session: SessionBase, buyer_of) -> PricedCart:
    """The cart with its discount code applied, or with the reason it does not apply.

    `buyer_of(code)` says who is buying (`discounts.rules.Buyer`: their uses of the code, an earlier
    paid order). Gift card lines are never discounted."""
    code_text = discount_code(session)
    if not code_text:
        return priced
    code = discounts.by_code(code_text)
    if code is None:
        remove_discount_code(session)
        return priced
    rate = priced.rate.per_base if priced.rate else Decimal(1)
    currency = priced.currency or settings.SHOP_CURRENCY
    items = discount_items(
        [
            (
                line.key,
                LineKind.TOPUP if line.esim else LineKind.ESIM,
                line.total_cents,
                line.package,
                line.quantity,
            )
            for line in priced.lines
        ]
        + [(f"gift:{gift.key}", LineKind.GIFTCARD, gift.total_cents, None, 1) for gift in priced.gift_lines],
        currency,
        rate,
    )
    try:
        applied = discount_rules.evaluate(code, items, buyer_of(code), currency, rate)
    except discount_rules.Refused as exc:
        return replace(priced, discount_code=code.code, discount_refusal=str(exc))
    friend = code.kind == DiscountKind.REFERRAL
    return replace(priced, discount_code=code.code, discount=applied, discount_from_friend=friend)
