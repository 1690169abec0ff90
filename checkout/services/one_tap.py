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

An answer that never came (Stripe unreachable, a timeout, a 500): the charge may have gone through.
The payment stays open (in flight) and the order waits for it; `confirm_charge` (a task, queued
after a short wait, retried with back-off; the reconciler queues it again for any left in flight)
sends the same request with the same key, which Stripe answers with the first request's outcome
without charging again, and records that outcome as the first answer would have been. Stripe keeps
a key for at least 24 hours: past CONFIRM_WINDOW the request is never sent again (it could charge
anew) and staff are asked to look the payment up.
"""

from __future__ import annotations

import datetime as dt
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
from core.queue import after_commit
from esims.models import Esim
from payments import services as payments
from payments.models import Payment, SavedCard
from payments.providers import CardDeclined, PaymentError

from .. import cart as cart_module
from ..events import OrderEventKind
from ..models import LineKind, Order, OrderLine, OrderStatus
from .order_state import CheckoutError, locked, log_event, move
from .ordering import place_order
from .payment import CARD_PROVIDER, payment_request, start_payment

logger = logging.getLogger(__name__)

# How long a replay waits for the first request's charge, still at Stripe, to be answered.
IN_FLIGHT_WAIT_SECONDS = 15.0
# The first look at a charge whose answer was lost, after Stripe has had time to recover.
CONFIRM_DELAY_SECONDS = 30
# How long the same request may be sent again: within Stripe's 24 hours for an idempotency key.
CONFIRM_WINDOW = dt.timedelta(hours=23)


@dataclass
class OneTapResult:
    # pending: sent to Stripe, its answer lost: being confirmed (the order waits, nothing to do)
    status: Literal["paid", "needs_authentication", "declined", "refused", "pending"]
    order: Order | None
    redirect_url: str | None  # needs_authentication: the Stripe Checkout page for the same order
    message: str  # for the customer, in the active language


ONE_TAP_KEY_PREFIX = "onetap-"  # a one-tap order's checkout_key starts so; a cart's token never does


def checkout_key_for(idempotency_key: str) -> str:
    """The order's checkout_key for a one-tap key (any length in, 64 characters at most out)."""
    return ONE_TAP_KEY_PREFIX + hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]


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
    - pending: Stripe's answer was lost (the card may have been charged): the order waits while
      `confirm_charge` learns the outcome;
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
        # No answer (unreachable, a timeout, a 500): the card may have been charged. The payment
        # stays open and the order waiting, until the same request, sent again, says how it went.
        logger.warning("one-tap charge for %s unanswered: %s", order.number, exc)
        Payment.objects.filter(pk=payment.pk).update(
            data={**payment.data, "unanswered": timezone.now().isoformat()}
        )
        log_event(
            order,
            OrderEventKind.PAYMENT_STARTED,
            f"No answer from Stripe ({exc}): the charge is being confirmed with the same key",
            payment_id=payment.pk,
        )
        after_commit("checkout.confirm_off_session_charge", payment.pk, countdown=CONFIRM_DELAY_SECONDS)
        return _pending(_reload(order))
    return _replay(_reload(order))


def _pending(order: Order) -> OneTapResult:
    return OneTapResult(
        "pending",
        order,
        None,
        _(
            "We're confirming the payment with your bank. Your order's page shows how it ends, "
            "and nothing is charged twice."
        ),
    )


def in_flight(payment: Payment) -> bool:
    """An off-session charge sent to Stripe whose answer was never recorded."""
    return bool(
        payment.data.get("off_session")
        and payment.status == Payment.Status.CREATED
        and not payment.external_reference
    )


def confirm_charge(payment_id: int) -> str:
    """Learn how an off-session charge whose answer was lost went, and record it as its first answer
    would have been: 'paid' (captured through `payments.start`, the path of every charge),
    'declined' / 'needs_authentication' (as on the first try: closed, nothing charged), 'unknown'
    (still no answer: ask again later), 'done' (recorded already) or 'expired' (staff asked)."""
    payment = Payment.objects.select_related("order").filter(pk=payment_id).first()
    if payment is None or not in_flight(payment):
        return "done"
    order = payment.order
    if timezone.now() - payment.created_at > CONFIRM_WINDOW:
        return _give_up(order, payment)
    try:
        # The very request of the first try (`payment_request` of the order's total, the payment's
        # key): Stripe gives back the first one's outcome, never a second charge.
        payments.start(payment, payment_request(order, order.total_cents))
    except CardDeclined as exc:
        result = _declined(order, payment, exc)
    except PaymentError as exc:
        logger.warning("one-tap charge for %s still unanswered: %s", order.number, exc)
        # Touched: the reconciler leaves a payment whose task is alive to it.
        Payment.objects.filter(pk=payment.pk).update(updated_at=timezone.now())
        return "unknown"
    else:
        result = _replay(_reload(order))
    log_event(order, OrderEventKind.PAYMENT_STARTED, f"Off-session charge confirmed: {result.status}")
    from .auto_topup import settle  # auto_topup imports this module

    settle(order.pk, result)
    return result.status


def _give_up(order: Order, payment: Payment) -> str:
    with transaction.atomic():
        order = locked(order.pk)
        if order.status == OrderStatus.PENDING_PAYMENT:
            move(
                order,
                OrderStatus.REQUIRES_ACTION,
                f"Stripe never answered off-session payment {payment.pk} (attempt {payment.attempt}): "
                f"look its PaymentIntent up at Stripe (metadata order_number {order.number})",
            )
    return "expired"


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
        waiting = (  # the first request still at Stripe (not one whose answer was lost)
            order.status == OrderStatus.PENDING_PAYMENT
            and off is not None
            and off.status == Payment.Status.CREATED
            and "unanswered" not in off.data
        )
        if not waiting or time.monotonic() > deadline:
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
        if off is not None and in_flight(off):
            return _pending(order)
        return OneTapResult("declined", order, None, _("This payment is still being processed."))
    bank = (off.data.get("decline_message") if off is not None else "") or _("Your card was declined.")
    return OneTapResult("declined", order, None, _declined_message(bank))
