"""Placing an order: lines priced from the catalog at this moment, once per cart; then the gift
cards applied are reserved, each as a payment of the `giftcard` provider."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from catalog.currency import RateUnavailable, package_price
from catalog.models import Package
from core.language import current_language
from core.money import format_money
from discounts import rules as discount_rules
from discounts import services as discounts
from esims import selectors as esim_selectors
from esims.models import Esim
from giftcards import selectors as giftcard_selectors
from giftcards.services import redemption as giftcard_redemption
from payments import services as payments
from payments.amounts import prorate
from payments.models import Payment
from payments.providers import PaymentError
from storecredit.services import spending as store_credit

from .. import cart as cart_module
from .. import selectors
from ..events import OrderEventKind
from ..models import LineKind, Order, OrderLine
from .customers import remember_customer
from .deliverable import check_topup, refused
from .order_state import CheckoutError, log_event
from .payment import payment_request

GIFT_CARD_PROVIDER = "giftcard"


class DiscountNoLongerApplies(CheckoutError):
    """The cart's discount code stopped applying between the cart and the order: nothing placed."""

    def __init__(self, code: str, reason: str) -> None:
        # Translators: %(reason)s is why the code does not apply, a whole sentence.
        message = _(
            "Your order was not placed: the code %(code)s no longer applies. %(reason)s "
            "It was removed from your cart: please check the total and try again."
        )
        super().__init__(message % {"code": code, "reason": reason})


# Plans must be activated within a year of purchase; a later start date is a typo.
MAX_TRAVEL_DAYS_AHEAD = 365


def _description(package: Package, topup_for: Esim | None) -> str:
    """The line's name on the order, the receipt and Stripe's payment page, in the buyer's language."""
    if topup_for is not None:
        name = ngettext(
            "Top-up %(data)s, %(days)s day for eSIM …%(last4)s",
            "Top-up %(data)s, %(days)s days for eSIM …%(last4)s",
            package.days,
        )
        return name % {"data": package.data_label, "days": package.days, "last4": topup_for.iccid[-4:]}
    name = ngettext(
        "%(name)s eSIM, %(data)s, %(days)s day", "%(name)s eSIM, %(data)s, %(days)s days", package.days
    )
    return name % {"name": package.destination.local_name, "data": package.data_label, "days": package.days}


def place_order(
    priced: cart_module.PricedCart,
    email: str,
    user=None,
    travel_date: dt.date | None = None,
    *,
    checkout_key: str | None = None,
    gift_cards: Sequence[int] = (),
    discount_code: str = "",
    store_credit: bool = False,
) -> Order:
    """An order in pending_payment, its lines priced from the catalog at this moment.

    `checkout_key` (the cart's own token) makes a double submit give one order:
    the second request gets the order the first one placed. `gift_cards` (card
    ids, found by their codes) are reserved for what they can pay; if one can't
    be, the order is cancelled, nothing stays reserved, and CheckoutError says why. `store_credit`:
    the signed-in buyer's credit pays what the gift cards left (`_reserve_store_credit`).
    `discount_code` is checked again and a use of it reserved under its row lock; one that no
    longer applies places nothing (DiscountNoLongerApplies says why).
    """
    if checkout_key:
        existing = Order.objects.filter(checkout_key=checkout_key).first()
        if existing is not None:
            return existing
    if not priced:
        raise CheckoutError(_("Your cart is empty."))
    needs_date = any(line.package.travel_date_required for line in priced.lines)
    if needs_date and travel_date is None:
        raise CheckoutError(_("Please choose the date your trip starts: one of your plans needs it."))
    if travel_date and travel_date < timezone.localdate():
        raise CheckoutError(_("Your trip start date can't be in the past."))
    if travel_date and travel_date > timezone.localdate() + dt.timedelta(days=MAX_TRAVEL_DAYS_AHEAD):
        raise CheckoutError(_("Your trip start date must be within a year from today."))
    currency = priced.currency or settings.SHOP_CURRENCY
    planned = (
        _plan_gift_cards(list(gift_cards), priced.payable_by_gift_card_cents, currency) if gift_cards else []
    )
    customer = user if user is not None and user.is_authenticated else None
    _check_topups(priced, customer)  # asks upstream: before the transaction, not inside it
    try:
        with transaction.atomic():
            order = _create(
                priced, email, customer, travel_date if needs_date else None, checkout_key, discount_code
            )
    except IntegrityError:
        # A concurrent submit of the same cart won the race: use its order.
        existing = Order.objects.filter(checkout_key=checkout_key).first() if checkout_key else None
        if existing is None:
            raise
        return existing
    if planned:
        _reserve_gift_cards(order, planned)
    if store_credit and customer is not None:
        _reserve_store_credit(order, customer)
    return order


def _plan_gift_cards(card_ids: list[int], payable: int, currency: str) -> list[giftcard_selectors.Redemption]:
    """What each applied card will pay (in the order's currency; a card in another currency at the
    rate now), from their balances now; refused before any order exists when one can no longer pay
    its part, or its currency has no fresh rate."""
    try:
        plan = giftcard_selectors.plan_redemption(card_ids, payable, currency, cart_module.rate_between)
    except RateUnavailable as exc:
        raise CheckoutError(str(exc)) from None
    if len(plan) < len(card_ids):
        raise CheckoutError(_("A gift card you applied can no longer be used. Please review your cart."))
    left = payable
    for redemption in plan:
        if left > 0 and redemption.amount_cents == 0:
            raise CheckoutError(
                _("Gift card …%(last)s has no balance left. Please remove it to go on.")
                % {"last": redemption.card.last_characters}
            )
        left -= redemption.amount_cents
    return [r for r in plan if r.amount_cents > 0]


def _reserve_gift_cards(order: Order, planned: list[giftcard_selectors.Redemption]) -> None:
    """Reserve what each card was planned to pay, within what a gift card may pay for (not gift
    cards). A card whose balance dropped meanwhile (another checkout won) refuses its reserve.

    Each payment's base amount is its slice of the order's on the running sum (`prorate`), so the
    payments of an order add up to its base total exactly."""
    # After the discount: what is left of the lines a gift card may pay for.
    left = sum(line.total_cents for line in order.lines.all() if line.kind != LineKind.GIFTCARD)
    position = 0
    for planned_one in planned:
        amount = min(planned_one.amount_cents, left)
        if amount <= 0:
            break
        left -= amount
        extra = {}
        if planned_one.rate is not None:  # a card in another currency: what it takes, at what rate
            card = planned_one.card
            _paid, taken = giftcard_redemption.card_share(
                amount, card.balance_cents, planned_one.rate, card.currency, order.currency
            )
            taken = min(taken, planned_one.taken_cents)
            extra = {
                "card_amount_cents": taken,
                "card_currency": card.currency,
                "rate": str(planned_one.rate),
            }
        base = prorate(position, amount, order.total_cents, order.base_total_cents)
        position += amount
        payment = payments.open_payment(
            order,
            GIFT_CARD_PROVIDER,
            amount,
            order.currency,
            base_amount_cents=base,
            gift_card_id=planned_one.card.pk,
            **extra,
        )
        try:
            payments.start(payment, payment_request(order, amount))
        except PaymentError as exc:
            # Its balance changed since it was applied (spent elsewhere, disabled): the order is
            # cancelled (releasing the others) and the cart may be sent again.
            payments.fail(payment.pk, str(exc))
            Order.objects.filter(pk=order.pk).update(checkout_key=None)
            # Translators: %(reason)s is the gift card's refusal, a whole sentence.
            refusal = _("%(reason)s Your order was not placed: please check your gift cards.") % {
                "reason": exc
            }
            raise CheckoutError(refusal) from None


def _reserve_store_credit(order: Order, customer) -> None:
    """The customer's store credit pays what the gift cards left, within what it may pay for (not
    gift cards), as one `storecredit` payment: its slice of the order's total after theirs, worth
    that slice of the base total (credit is in the base currency). Credit spent meanwhile (another
    checkout won) refuses the reserve: the order is cancelled, as for a gift card."""
    gift_paid = sum(
        order.payments.filter(provider=GIFT_CARD_PROVIDER, status=Payment.Status.RESERVED).values_list(
            "amount_cents", flat=True
        )
    )
    payable = (
        sum(line.total_cents for line in order.lines.all() if line.kind != LineKind.GIFTCARD) - gift_paid
    )
    amount, base = store_credit.share(
        store_credit.balance_of(customer), payable, gift_paid, order.total_cents, order.base_total_cents
    )
    if amount <= 0:
        return
    extra = {} if order.in_base_currency else {"rate": str(order.rate_per_base)}
    payment = payments.open_payment(
        order,
        store_credit.PROVIDER,
        amount,
        order.currency,
        base_amount_cents=base,
        credit_user_id=customer.pk,
        **extra,
    )
    try:
        payments.start(payment, payment_request(order, amount))
    except PaymentError as exc:
        payments.fail(payment.pk, str(exc))
        Order.objects.filter(pk=order.pk).update(checkout_key=None)
        # Translators: %(reason)s is the store credit's refusal, a whole sentence.
        refusal = _("%(reason)s Your order was not placed: please check your cart.") % {"reason": exc}
        raise CheckoutError(refusal) from None


def topup_offers(esim: Esim, *, max_age: float | None = None) -> list[Package]:
    """The catalog packages upstream accepts as top-ups of `esim`, cheapest first.

    Upstream's list (§2.16) is mapped to the shop's packages by id; one the shop does not sell
    is left out. Raises roamify.RoamifyError when upstream can't say.
    """
    ids = esim_selectors.topup_package_ids(esim, max_age=max_age)
    if not ids:
        return []
    return list(
        Package.objects.active()
        .filter(package_id__in=ids)
        .select_related("destination")
        .order_by("retail_cents", "id")
    )


def _check_topups(priced: cart_module.PricedCart, customer) -> None:
    """A top-up only for the buyer's own eSIM, one upstream says is alive and takes top-ups, and a
    package upstream accepts for it (`deliverable.check_topup`: asked now, before any money)."""
    for line in priced.lines:
        if line.esim is None:
            continue
        esim = Esim.objects.owned_by(customer).filter(pk=line.esim.pk).first() if customer else None
        if esim is None:
            raise CheckoutError(_("You can only top up an eSIM of your own. Please sign in."))
        check_topup(esim, line.package)


def _local_price(package: Package, currency: str) -> int:
    try:
        return package_price(package, currency)
    except RateUnavailable as exc:  # went stale between the cart and now: nothing is charged
        raise CheckoutError(str(exc)) from None


def _discount(code_text: str, order: Order, lines: list[OrderLine], email: str, customer):
    """The code under its row lock, checked again against the order's lines (list prices, at the
    order's rate); each line's discount taken off its total. Returns the locked code."""
    try:
        code = discounts.locked(code_text)
        items = cart_module.discount_items(
            [
                (str(i), line.kind, line.total_cents, line.package, line.quantity)
                for i, line in enumerate(lines)
            ],
            order.currency,
            order.rate_per_base,
        )
        buyer = selectors.discount_buyer(email, customer)(code)
        applied = discount_rules.evaluate(code, items, buyer, order.currency, order.rate_per_base)
    except discount_rules.Refused as exc:
        raise DiscountNoLongerApplies(discounts.normalize(code_text), str(exc)) from None
    for i, line in enumerate(lines):
        line.discount_cents = applied.of(str(i))
        line.total_cents -= line.discount_cents
    return code


def _create(
    priced: cart_module.PricedCart, email: str, customer, travel_date, checkout_key, discount_code: str = ""
) -> Order:
    # Prices are read again here, never taken from what the browser had, in the cart's currency at
    # the rate it was priced at (kept on the order: the books convert at it, never at today's).
    packages = {
        p.id: p
        for p in Package.objects.active()
        .select_related("destination")
        .filter(id__in=[line.package.id for line in priced.lines])
    }
    if len(packages) != len({line.package.id for line in priced.lines}):
        raise CheckoutError(_("A plan in your cart is no longer sold. Please review your cart."))
    topups = {line.esim.id for line in priced.lines if line.esim is not None}
    owned = {e.id: e for e in Esim.objects.owned_by(customer).filter(id__in=topups)} if customer else {}
    lines: list[OrderLine] = []
    currency, rate = priced.currency or settings.SHOP_CURRENCY, priced.rate
    order = Order.objects.create(
        email=email,
        customer=customer,
        currency=currency,
        language=current_language(),
        rate_per_base=rate.per_base if rate else 1,
        rate_fetched_at=rate.fetched_at if rate else None,
        total_cents=0,
        travel_date=travel_date,
        checkout_key=checkout_key,
    )
    total = 0
    for line in priced.lines:
        package = packages[line.package.id]
        esim = None
        if line.esim is not None:
            esim = owned.get(line.esim.id)
            if esim is None:
                raise CheckoutError(_("You can only top up an eSIM of your own. Please sign in."))
            if esim.topup_refusal:
                raise refused(cart_module.line_name(package, esim), esim.topup_refusal)
        unit = package.retail_cents if rate is None else _local_price(package, currency)
        line_total = unit * line.quantity
        total += line_total
        lines.append(
            OrderLine(
                order=order,
                kind=LineKind.TOPUP if esim else LineKind.ESIM,
                package=package,
                esim=esim,
                package_id_upstream=package.package_id,
                description=_description(package, esim),
                quantity=line.quantity,
                unit_price_cents=unit,
                total_cents=line_total,
                wholesale_cents=package.wholesale_cents,
            )
        )
    for gift in priced.gift_lines:
        total += gift.total_cents
        to = gift.recipient_name or gift.recipient_email
        lines.append(
            OrderLine(
                order=order,
                kind=LineKind.GIFTCARD,
                description=_("Gift card for %(name)s") % {"name": to},
                quantity=1,
                unit_price_cents=gift.total_cents,
                total_cents=gift.total_cents,
                data=gift.data(),
            )
        )
    code = _discount(discount_code, order, lines, email, customer) if discount_code else None
    discount = sum(line.discount_cents for line in lines)
    total -= discount
    order.total_cents, order.discount_cents, order.discount_code = total, discount, code
    order.base_total_cents = order.base_cents(total)
    order.base_discount_cents = order.base_cents(discount)
    order.save(
        update_fields=[
            "total_cents",
            "base_total_cents",
            "discount_cents",
            "base_discount_cents",
            "discount_code",
        ]
    )
    # Each line's base amounts are its slices of the order's (running sums): they add up exactly.
    position = cut = 0
    for order_line in lines:
        order_line.base_total_cents = prorate(position, order_line.total_cents, total, order.base_total_cents)
        order_line.base_discount_cents = prorate(
            cut, order_line.discount_cents, discount, order.base_discount_cents
        )
        position += order_line.total_cents
        cut += order_line.discount_cents
        order_line.save()
    if code is not None:
        try:
            discounts.reserve(code, order, amount_cents=discount, base_amount_cents=order.base_discount_cents)
        except discount_rules.Refused as exc:
            raise DiscountNoLongerApplies(code.code, str(exc)) from None
    with_code = f" with code {code.code} (-{format_money(discount, order.currency)})" if code else ""
    log_event(
        order,
        OrderEventKind.PLACED,
        f"Order placed by {email} for {format_money(total, order.currency)}{with_code}",
        to_status=order.status,
    )
    remember_customer(order)
    return order
