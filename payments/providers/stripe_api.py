"""A thin, typed wrapper of the calls the shop makes to Stripe (Checkout, hosted page).

Every call that can move money carries an idempotency key derived from our
own ids, so a retried request never charges or refunds twice.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import stripe
from django.conf import settings
from django.utils.translation import gettext as _

from core.money import minor_digits

from .base import CardDeclined, PaymentError, PaymentRequest

# Stripe's largest amount: eight digits of the currency's minor unit ($999,999.99, ¥99,999,999).
MAX_AMOUNT_CENTS = 99_999_999
# Currencies Stripe counts in whole units (https://docs.stripe.com/currencies#zero-decimal).
STRIPE_ZERO_DECIMAL = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)


def _shift(currency: str) -> int:
    """How many more decimals Stripe's unit has than ours for `currency` (0 for every one we sell)."""
    return (0 if currency.upper() in STRIPE_ZERO_DECIMAL else 2) - minor_digits(currency)


def to_stripe_units(amount: int, currency: str) -> int:
    """Our minor units as Stripe counts them: whole yen for JPY (1280 is ¥1,280), cents for EUR."""
    return amount * 10 ** _shift(currency) if _shift(currency) >= 0 else _whole(amount, -_shift(currency))


def _whole(amount: int, digits: int) -> int:
    units, rest = divmod(amount, 10**digits)
    if rest:
        raise PaymentError("The amount has more decimals than Stripe takes for its currency")
    return units


def stripe_amount(value: object, name: str, currency: str | None = None) -> int | None:
    """An amount as Stripe sends it: an integer of minor units from 0 to MAX_AMOUNT_CENTS, or None
    when it is null or absent. ValueError for anything else: JSON's true is no 1 (bool is an int
    in Python), nor 299.0 or "299" 299, and a negative or huge one is nothing Stripe sends.

    With `currency` (the object's own), the amount comes back in our minor units of it, and a
    currency that is no ISO code is refused: a yen amount is never read as cents."""
    if value is None:
        return None
    if type(value) is not int or not 0 <= value <= MAX_AMOUNT_CENTS:
        raise ValueError(f"{name} is not an amount of minor units: {value!r:.40}")
    if currency is None:
        return value
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise ValueError(f"{name} comes with no currency Stripe uses: {currency!r:.20}")
    shift = _shift(currency)
    if shift < 0:
        return value * 10**-shift
    if value % 10**shift:
        raise ValueError(f"{name} is not a whole number of our minor units: {value!r:.40}")
    return value // 10**shift


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str | None
    status: str  # open, complete, expired
    payment_status: str  # unpaid, paid, no_payment_required
    amount_total: int | None
    currency: str | None
    client_reference_id: str | None
    payment_intent_id: str | None
    order_number: str | None
    customer_name: str = ""  # what the buyer typed on the payment page, when Stripe returns it
    customer_phone: str = ""

    @classmethod
    def from_stripe(cls, obj: Any) -> CheckoutSession:
        """From a Stripe object or an event's dict; ValueError when it is not a session."""
        data = obj.to_dict() if hasattr(obj, "to_dict") else obj
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise ValueError("not a Checkout Session")
        intent = data.get("payment_intent")
        if isinstance(intent, dict):  # expanded
            intent = intent.get("id")
        metadata = data.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        details = data.get("customer_details")
        details = details if isinstance(details, dict) else {}
        return cls(
            id=data["id"],
            url=_str(data.get("url")),
            status=_str(data.get("status")) or "",
            payment_status=_str(data.get("payment_status")) or "",
            amount_total=stripe_amount(
                data.get("amount_total"), "amount_total", _str(data.get("currency")) or "USD"
            ),
            currency=(_str(data.get("currency")) or "").upper() or None,
            client_reference_id=_str(data.get("client_reference_id")),
            payment_intent_id=_str(intent),
            order_number=_str(metadata.get("order_number")) or _str(data.get("client_reference_id")),
            customer_name=(_str(details.get("name")) or "").strip()[:200],
            customer_phone=(_str(details.get("phone")) or "").strip()[:40],
        )

    @property
    def is_paid(self) -> bool:
        return self.status == "complete" and self.payment_status == "paid"


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _id_of(value: object) -> str | None:
    """An id Stripe gives as a string, or inside an expanded object."""
    if isinstance(value, str):
        return value
    found = getattr(value, "id", None) if not isinstance(value, dict) else value.get("id")
    return found if isinstance(found, str) else None


@dataclass(frozen=True)
class SavedCardDetails:
    payment_method: str
    customer: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class StripeGateway:
    def __init__(self, secret_key: str, api_base: str | None = None) -> None:
        base = {"api": api_base} if api_base else {}
        self.client = stripe.StripeClient(secret_key, base_addresses=base, max_network_retries=2)

    def create_checkout_session(self, request: PaymentRequest, idempotency_key: str) -> CheckoutSession:
        # The one line Stripe's page shows when the card pays only part of the order, in the buyer's language.
        lines = request.lines or [
            (_("Order %(number)s") % {"number": request.order_number}, 1, request.amount_cents)
        ]
        intent_data: dict[str, Any] = {"metadata": {"order_number": request.order_number}}
        if request.save_card:  # Stripe attaches the card to the customer once it is paid with
            intent_data["setup_future_usage"] = "off_session"
        params: dict[str, Any] = {
            "mode": "payment",
            # Stripe takes one or the other: a Customer brings its own email.
            **(
                {"customer": request.provider_customer}
                if request.provider_customer
                else {"customer_email": request.email}
            ),
            "client_reference_id": request.order_number,
            "metadata": {"order_number": request.order_number},
            "payment_intent_data": intent_data,
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "expires_at": request.expires_at
            or int(
                (
                    dt.datetime.now(dt.UTC) + dt.timedelta(minutes=settings.CHECKOUT_SESSION_MINUTES)
                ).timestamp()
            ),
            "line_items": [
                {
                    "quantity": quantity,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": to_stripe_units(unit_cents, request.currency),
                        "product_data": {"name": description},
                    },
                }
                for description, quantity, unit_cents in lines
            ],
        }
        try:
            session = self.client.v1.checkout.sessions.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as exc:
            raise PaymentError(_message(exc)) from exc
        return _read_session(session)

    def retrieve_session(self, session_id: str) -> CheckoutSession:
        try:
            session = self.client.v1.checkout.sessions.retrieve(session_id)
        except stripe.StripeError as exc:
            raise PaymentError(_message(exc)) from exc
        return _read_session(session)

    def expire_session(self, session_id: str) -> None:
        try:
            self.client.v1.checkout.sessions.expire(session_id)
        except stripe.StripeError as exc:
            raise PaymentError(_message(exc)) from exc

    def refund(
        self, payment_intent_id: str, amount_cents: int, idempotency_key: str, currency: str = "USD"
    ) -> str:
        """Refunds go back in the payment's own currency and units (¥1,280 refunds as 1280)."""
        try:
            refund = self.client.v1.refunds.create(
                params={
                    "payment_intent": payment_intent_id,
                    "amount": to_stripe_units(amount_cents, currency),
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise PaymentError(_message(exc)) from exc
        return refund.id

    # --- Saved cards: Customers, PaymentMethods, off-session PaymentIntents ---------------------

    def create_customer(self, email: str, idempotency_key: str) -> str:
        try:
            customer = self.client.v1.customers.create(
                params={"email": email}, options={"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as exc:
            raise PaymentError(_message(exc)) from exc
        return customer.id

    def _method_of_intent(self, payment_intent_id: str):
        """(the PaymentIntent, its PaymentMethod as a dict, or None when it names none)."""
        try:
            intent = self.client.v1.payment_intents.retrieve(payment_intent_id)
            pm_id = _id_of(getattr(intent, "payment_method", None))
            if not pm_id:
                return intent, None
            method = self.client.v1.payment_methods.retrieve(pm_id)
        except stripe.StripeError as exc:
            raise PaymentError(_message(exc)) from exc
        return intent, method.to_dict()

    def card_fingerprint(self, payment_intent_id: str) -> str:
        """Stripe's fingerprint of the card a PaymentIntent was paid with: the same card number
        gives the same fingerprint, whoever pays with it ('' when Stripe names none)."""
        _intent, data = self._method_of_intent(payment_intent_id)
        return str(((data or {}).get("card") or {}).get("fingerprint") or "")

    def card_of_intent(self, payment_intent_id: str) -> SavedCardDetails | None:
        """The card a PaymentIntent was paid with, and the Customer it is attached to (None: none)."""
        intent, data = self._method_of_intent(payment_intent_id)
        if data is None:
            return None
        card = data.get("card") or {}
        customer = _id_of(data.get("customer")) or _id_of(getattr(intent, "customer", None))
        if not customer or not card.get("last4"):
            return None
        return SavedCardDetails(
            payment_method=data["id"],
            customer=customer,
            brand=str(card.get("brand") or ""),
            last4=str(card["last4"])[-4:],
            exp_month=int(card.get("exp_month") or 0),
            exp_year=int(card.get("exp_year") or 0),
        )

    def detach(self, payment_method_id: str) -> None:
        try:
            self.client.v1.payment_methods.detach(payment_method_id)
        except stripe.InvalidRequestError as exc:
            if getattr(exc, "code", "") in ("resource_missing", "payment_method_unexpected_state"):
                return  # gone or detached already: what we wanted
            raise PaymentError(_message(exc)) from exc
        except stripe.StripeError as exc:
            raise PaymentError(_message(exc)) from exc

    def charge_off_session(
        self,
        *,
        customer: str,
        payment_method: str,
        amount_cents: int,
        currency: str,
        order_number: str,
        idempotency_key: str,
    ) -> str:
        """Charge a saved card with its owner away; returns the succeeded PaymentIntent's id.

        CardDeclined when the bank says no, or wants its owner to authenticate
        (`authentication_required`: Stripe's answer to an off-session charge that needs 3D Secure)."""
        try:
            intent = self.client.v1.payment_intents.create(
                params={
                    "amount": to_stripe_units(amount_cents, currency),
                    "currency": currency.lower(),
                    "customer": customer,
                    "payment_method": payment_method,
                    "off_session": True,
                    "confirm": True,
                    "metadata": {"order_number": order_number},
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.CardError as exc:
            code = getattr(exc, "code", "") or ""
            raise CardDeclined(
                _message(exc), code=code, needs_authentication=code == "authentication_required"
            ) from exc
        except stripe.StripeError as exc:
            raise PaymentError(_message(exc)) from exc
        if intent.status == "requires_action":  # some integrations answer so rather than with an error
            raise CardDeclined(
                _("Your bank asks you to confirm this payment."),
                code="authentication_required",
                needs_authentication=True,
            )
        if intent.status != "succeeded":
            raise CardDeclined(_("Your card was declined."), code=str(intent.status))
        return intent.id

    def intent_status(self, payment_intent_id: str) -> tuple[str, int | None, str | None]:
        """A PaymentIntent's status, amount (our minor units) and currency."""
        try:
            intent = self.client.v1.payment_intents.retrieve(payment_intent_id)
        except stripe.StripeError as exc:
            raise PaymentError(_message(exc)) from exc
        currency = (getattr(intent, "currency", "") or "").upper() or None
        amount = stripe_amount(getattr(intent, "amount", None), "amount", currency or "USD")
        return str(intent.status), amount, currency

    @staticmethod
    def parse_event(payload: bytes, signature: str) -> object:
        """The verified body, decoded JSON of any shape (the caller checks it).

        Raises SignatureVerificationError, or ValueError for a body that is not JSON.
        The signature is checked first, and the body is decoded by us: the library's
        construct_event fails with errors of its own on JSON that is not an object.
        """
        text = payload.decode("utf-8")  # UnicodeDecodeError is a ValueError
        tolerance = stripe.Webhook.DEFAULT_TOLERANCE
        stripe.WebhookSignature.verify_header(text, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance)
        # The library refuses a signature older than the tolerance, not one dated ahead of it,
        # which would stay replayable for as long as its date is in the future.
        if _signed_at(signature) > time.time() + tolerance:
            raise stripe.SignatureVerificationError("Timestamp outside the tolerance zone", signature, text)
        return json.loads(text)


def _signed_at(signature: str) -> int:
    """The `t=` of a Stripe-Signature header that verify_header has accepted, read as it reads
    it: the first one (the one the signature was checked against)."""
    items = (item.partition("=") for item in signature.split(","))
    return next(int(value) for name, _, value in items if name == "t")


def _read_session(obj: Any) -> CheckoutSession:
    """An answer of Stripe's API that is not a session we can read is a failed call: nothing is
    recorded from it."""
    try:
        return CheckoutSession.from_stripe(obj)
    except ValueError as exc:
        raise PaymentError(str(exc)) from exc


def _message(exc: stripe.StripeError) -> str:
    return getattr(exc, "user_message", None) or str(exc) or type(exc).__name__


@lru_cache(maxsize=4)
def _gateway(secret_key: str, api_base: str) -> StripeGateway:
    return StripeGateway(secret_key, api_base or None)


def gateway() -> StripeGateway:
    return _gateway(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)
