"""One-tap top-up with a saved card.

# stand-in until saved-cards merges: helper "saved-cards" writes the real module (an off-session
# PaymentIntent at Stripe, Checkout as the fallback). This stand-in keeps the same names and
# contract so automatic top-ups can be built and tested meanwhile: it places the order as the cart
# would (idempotent on the key, through the order's `checkout_key`), declines or asks for
# authentication as Stripe does for its test PaymentMethods (`pm_card_chargeDeclined`,
# `pm_card_authenticationRequired`), and otherwise pays with the test suite's instant provider,
# after which fulfilment is the same exactly-once path as every order. It is never meant for
# production: without the `test-instant` provider it refuses to charge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.utils.translation import gettext as _

from catalog import currency as currencies
from catalog.models import Package
from esims.models import Esim
from payments import services as payments
from payments.models import SavedCard

from .. import cart as cart_module
from ..models import Order, OrderStatus
from .order_state import CheckoutError
from .ordering import place_order
from .payment import payment_request

# Stripe's test PaymentMethods that fail off-session (the stand-in's only way to be told to decline).
DECLINING = frozenset(
    {"pm_card_chargeDeclined", "pm_card_visa_chargeDeclined", "pm_card_chargeDeclinedInsufficientFunds"}
)
AUTHENTICATING = frozenset({"pm_card_authenticationRequired", "pm_card_authenticationRequiredChargeDeclined"})
STANDIN_PROVIDER = "test-instant"


@dataclass
class OneTapResult:
    status: Literal["paid", "needs_authentication", "declined", "refused"]
    order: Order | None
    redirect_url: str | None
    message: str


def buy_topup_with_saved_card(
    *, customer, esim: Esim, package: Package, card: SavedCard, idempotency_key: str, source: str
) -> OneTapResult:
    """Charge `card` off-session for `package` on `esim`; once per `idempotency_key`."""
    order = Order.objects.filter(checkout_key=idempotency_key).first()
    if order is None:
        priced = _priced(package, esim)
        try:
            order = place_order(priced, esim.email or customer.email, customer, checkout_key=idempotency_key)
        except CheckoutError as exc:
            return OneTapResult("refused", None, None, str(exc))
    if order.is_paid:
        return OneTapResult("paid", order, None, "")
    if order.status != OrderStatus.PENDING_PAYMENT:
        return OneTapResult("refused", order, None, _("This order is already paid or closed."))
    pay_url = settings.SITE_URL + order.access_url()
    if card.stripe_payment_method_id in AUTHENTICATING:
        return OneTapResult(
            "needs_authentication", order, pay_url, _("Your bank asks you to confirm this payment.")
        )
    if card.stripe_payment_method_id in DECLINING:
        return OneTapResult("declined", order, pay_url, _("Your card was declined."))
    payment = payments.open_payment(order, STANDIN_PROVIDER, order.total_cents, order.currency)
    payments.start(payment, payment_request(order, order.total_cents))
    order.refresh_from_db()
    return OneTapResult("paid", order, None, "")


def _priced(package: Package, esim: Esim) -> cart_module.PricedCart:
    """The top-up as the cart prices it, in the active currency."""
    currency = currencies.get_active_currency()
    if currency == settings.SHOP_CURRENCY:
        return cart_module.PricedCart([cart_module.CartLine(package, 1, esim=esim)], [], currency=currency)
    unit = currencies.package_price(package, currency)
    line = cart_module.CartLine(package, 1, esim=esim, unit_cents=unit)
    return cart_module.PricedCart([line], [], currency=currency, rate=currencies.current_rate(currency))
