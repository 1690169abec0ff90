"""One-tap top-up: a top-up bought with a saved card, its owner confirming once (or away, for an
automatic top-up).

The order is the same as a top-up bought through the cart (one top-up OrderLine, priced by the
catalog, `place_order` with its checks), paid by an off-session PaymentIntent through the Stripe
provider, and recorded through `payments.capture`, the path the webhook takes: the same receivers
mark the order paid and queue the same exactly-once fulfilment.

Currency: the order is priced in the currency the eSIM itself was bought in (its eSIM order's), so
a top-up bought in one tap on any page and one bought automatically, with no page at all, cost the
same; without a fresh rate for it, in the shop's base currency. `price_for` says what it will be.

Replays: `idempotency_key` (the caller's, e.g. a form's token or a threshold crossing) becomes the
order's `checkout_key`: the same key again finds the same order and reports how it stands, never a
second order or charge. Stripe's key is the payment's own (`offsession-<order>-<attempt>`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.currency import RateUnavailable, current_rate, package_price
from catalog.models import Package
from esims.models import Esim
from payments import services as payments
from payments.models import Payment, SavedCard
from payments.providers import CardDeclined, PaymentError

from .. import cart as cart_module
from ..events import OrderEventKind
from ..models import LineKind, Order, OrderLine, OrderStatus
from .order_state import CheckoutError, locked, log_event
from .ordering import place_order
from .payment import CARD_PROVIDER, payment_request, start_payment

logger = logging.getLogger(__name__)

# How long a replay waits for the first request's charge, still at Stripe, to be answered.
IN_FLIGHT_WAIT_SECONDS = 15.0


@dataclass
class OneTapResult:
    status: Literal["paid", "needs_authentication", "declined", "refused"]
    order: Order | None
    redirect_url: str | None  # needs_authentication: the Stripe Checkout page for the same order
    message: str  # for the customer, in the active language


def checkout_key_for(idempotency_key: str) -> str:
    """The order's checkout_key for a one-tap key (any length in, 64 characters at most out)."""
    return "onetap-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]


def order_currency(esim: Esim) -> str:
    """The currency the eSIM was bought in (its eSIM order's), or the shop's."""
    line = (
        OrderLine.objects.filter(esim=esim, kind=LineKind.ESIM).select_related("order").order_by("id").first()
    )
    if line is None:
        line = OrderLine.objects.filter(esim=esim).select_related("order").order_by("id").first()
    return line.order.currency if line is not None else settings.SHOP_CURRENCY


def price_for(esim: Esim, package: Package) -> tuple[int, str]:
    """What a one-tap top-up of `package` for `esim` costs now: (minor units, currency)."""
    currency = order_currency(esim)
    if currency != settings.SHOP_CURRENCY:
        try:
            return package_price(package, currency), currency
        except RateUnavailable:
            pass
    return package.retail_cents, settings.SHOP_CURRENCY


def _priced(esim: Esim, package: Package) -> cart_module.PricedCart:
    currency = order_currency(esim)
    rate = None
    if currency != settings.SHOP_CURRENCY:
        try:
            rate = current_rate(currency)
        except RateUnavailable:
            currency = settings.SHOP_CURRENCY
    unit = None if rate is None else package_price(package, currency)
    return cart_module.PricedCart(
        [cart_module.CartLine(package, 1, esim, unit)], [], currency=currency, rate=rate
    )


def buy_topup_with_saved_card(
    *, customer, esim: Esim, package: Package, card: SavedCard, idempotency_key: str, source: str
) -> OneTapResult:
    """Buy one top-up of `package` for `esim` with the saved `card`, charged off session.

    `customer`: the signed-in account (a User) that owns both the eSIM and the card. `source`: who
    asked ("esim page", "low-data link", "automatic"), for the order's timeline.
    - paid: charged, the order paid (fulfilment queued, as after the webhook);
    - needs_authentication: the bank wants 3D Secure: `redirect_url` is a Stripe Checkout page for
      the same order (nothing was charged by the first try);
    - declined: the bank said no: the order is cancelled and nothing was charged;
    - refused: the top-up does not fit the eSIM (expired, refunded, revoked, not a top-up
      upstream accepts for it), or the card or eSIM is not this customer's: no order, no charge.
    """
    key = checkout_key_for(idempotency_key)
    existing = Order.objects.filter(checkout_key=key).first()
    if existing is not None:
        return _replay(existing)
    if card.user_id != customer.pk or esim.customer_id != customer.pk:
        return OneTapResult("refused", None, None, _("This card or eSIM is not yours."))
    if esim.expires_at is not None and esim.expires_at <= timezone.now():
        return OneTapResult(
            "refused",
            None,
            None,
            _("This eSIM has expired, so it can't take a top-up. Nothing was charged."),
        )
    try:
        # The same checks as the cart's (upstream asked now), the same line and pricing.
        order = place_order(_priced(esim, package), customer.email, customer, checkout_key=key)
    except CheckoutError as exc:
        return OneTapResult("refused", None, None, str(exc))
    with transaction.atomic():
        order = locked(order.pk)
        if order.payments.exists():  # a concurrent request with the same key placed it first
            payment = None
        else:
            payment = payments.open_payment(
                order,
                CARD_PROVIDER,
                order.total_cents,
                order.currency,
                base_amount_cents=order.base_total_cents,
                off_session=True,
                saved_card=card.pk,
                provider_customer=card.provider_customer,
                payment_method=card.payment_method,
                source=source,
            )
    if payment is None:
        return _replay(order)
    log_event(
        order,
        OrderEventKind.PAYMENT_STARTED,
        f"Saved card {card} charged off session ({source})",
        payment_id=payment.pk,
    )
    try:
        payments.start(payment, payment_request(order, order.total_cents))
    except CardDeclined as exc:
        return _declined(order, payment, exc)
    except PaymentError as exc:
        # Stripe could not be reached (its library retried with the same key): nothing recorded as
        # paid; the order is closed so the customer may try again with a new tap.
        logger.warning("one-tap charge for %s failed: %s", order.number, exc)
        payments.fail(payment.pk, f"Off-session charge failed: {exc}")
        return OneTapResult(
            "declined",
            _reload(order),
            None,
            _("We couldn't reach your bank just now. Nothing was charged: please try again in a minute."),
        )
    return _replay(_reload(order))


def _declined(order: Order, payment: Payment, exc: CardDeclined) -> OneTapResult:
    if exc.needs_authentication:
        # Stripe Checkout for the same order, where the bank can ask its questions. Opened before the
        # off-session payment is closed, so the order stays open for it.
        try:
            url = start_payment(order, lines_checked=True)
        except (PaymentError, CheckoutError) as error:
            logger.warning("no payment page for %s after authentication_required: %s", order.number, error)
            url = None
        _close(payment, f"Off-session charge needs authentication ({exc.code})", str(exc))
        if url:
            return OneTapResult(
                "needs_authentication",
                _reload(order),
                url,
                _("Your bank asks you to confirm this payment. Nothing was charged yet."),
            )
        return OneTapResult("declined", _reload(order), None, _declined_message(str(exc)))
    _close(payment, f"Declined off session ({exc.code or 'card_declined'})", str(exc))
    return OneTapResult("declined", _reload(order), None, _declined_message(str(exc)))


def _declined_message(bank: str) -> str:
    # Translators: %(reason)s is the bank's answer, e.g. "Your card was declined."
    return _("%(reason)s Nothing was charged. Please use another card.") % {"reason": bank}


def _close(payment: Payment, reason: str, bank_message: str) -> None:
    Payment.objects.filter(pk=payment.pk).update(data={**payment.data, "decline_message": bank_message})
    payments.fail(payment.pk, reason)  # the order's receiver cancels it when nothing else can pay


def _reload(order: Order) -> Order:
    return Order.objects.get(pk=order.pk)


def _replay(order: Order) -> OneTapResult:
    """How an order placed by a one-tap stands, as its first answer said (or will say)."""
    deadline = time.monotonic() + IN_FLIGHT_WAIT_SECONDS
    while True:
        order = _reload(order)
        off = order.payments.filter(data__has_key="off_session").order_by("-id").first()
        in_flight = (
            order.status == OrderStatus.PENDING_PAYMENT
            and off is not None
            and off.status == Payment.Status.CREATED
        )
        if not in_flight or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if order.is_paid:
        return OneTapResult("paid", order, None, _("Your top-up is paid. We're adding it to your eSIM now."))
    if order.status == OrderStatus.PENDING_PAYMENT:
        page = (
            order.payments.filter(provider=CARD_PROVIDER, status=Payment.Status.CREATED)
            .exclude(data__has_key="off_session")
            .exclude(redirect_url="")
            .first()
        )
        if page is not None:
            return OneTapResult(
                "needs_authentication",
                order,
                page.redirect_url,
                _("Your bank asks you to confirm this payment. Nothing was charged yet."),
            )
        return OneTapResult("declined", order, None, _("This payment is still being processed."))
    bank = (off.data.get("decline_message") if off is not None else "") or _("Your card was declined.")
    return OneTapResult("declined", order, None, _declined_message(bank))
