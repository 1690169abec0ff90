"""Paying a Checkout Session: card checks, PaymentMethod + PaymentIntent in localstripe, 3DS.

One code path for the hosted form and for `POST /_control/sessions/<id>/pay`.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .checkout import CheckoutSession

if TYPE_CHECKING:
    from .state import Sandbox

log = logging.getLogger("sandboxes.stripe")

Outcome = Literal["paid", "declined", "requires_action", "invalid", "not_open", "error"]

AUTH_FAILED = (
    "We are unable to authenticate your payment method. Please choose a different "
    "payment method and try again."
)
GENERIC_ERROR = "An error occurred while processing your card. Try again in a little bit."

# Stripe's decline test cards that localstripe would let through (it only
# declines them when attaching to a customer): we charge localstripe's own
# always-declined card instead and report Stripe's decline code and message.
DECLINES: dict[str, tuple[str, str]] = {
    "4000000000000002": ("generic_decline", "Your card was declined."),
    "4000000000009995": ("insufficient_funds", "Your card has insufficient funds."),
    "4000000000009987": ("lost_card", "Your card was declined."),
    "4000000000009979": ("stolen_card", "Your card was declined."),
    "4000000000000069": ("expired_card", "Your card has expired."),
    "4000000000000127": ("incorrect_cvc", "Your card's security code is incorrect."),
    "4000000000000119": ("processing_error", GENERIC_ERROR),
}
LOCALSTRIPE_DECLINE = "4000000000000341"

TEST_CARDS: list[tuple[str, str]] = [
    ("4242 4242 4242 4242", "succeeds"),
    ("4000 0000 0000 0341", "is declined"),
    ("4000 0000 0000 9995", "is declined: insufficient funds"),
    ("4000 0025 0000 3155", "asks for 3D Secure authentication"),
]


@dataclass
class CardInput:
    number: str
    exp: str = ""
    cvc: str = ""
    name: str = ""
    email: str = ""


@dataclass
class PayOutcome:
    outcome: Outcome
    message: str | None = None
    code: str | None = None
    decline_code: str | None = None
    errors: dict[str, str] = field(default_factory=dict)  # field name -> message
    payment_intent: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "message": self.message,
            "code": self.code,
            "decline_code": self.decline_code,
            "errors": self.errors,
            "payment_intent": self.payment_intent,
        }


def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def validate_card(card: CardInput, today: dt.date | None = None) -> tuple[dict[str, str], dict[str, Any]]:
    """Checks Stripe's card form makes before anything reaches the API."""
    today = today or dt.date.today()
    errors: dict[str, str] = {}
    parsed: dict[str, Any] = {}

    email = card.email.strip()
    if not email:
        errors["email"] = "Your email is incomplete."
    elif not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        errors["email"] = "Your email is invalid."
    parsed["email"] = email

    number = re.sub(r"[\s-]", "", card.number)
    if not number:
        errors["number"] = "Your card number is incomplete."
    elif not number.isdigit():
        errors["number"] = "Your card number is invalid."
    elif len(number) < 16:
        errors["number"] = "Your card number is incomplete."
    elif len(number) > 16 or not luhn_ok(number):
        errors["number"] = "Your card number is invalid."
    parsed["number"] = number

    exp = re.sub(r"[\s/]", "", card.exp)
    if not exp.isdigit() or len(exp) not in (4, 6):
        errors["exp"] = "Your card's expiration date is incomplete."
    else:
        month = int(exp[:2])
        year = int(exp[2:]) + (2000 if len(exp) == 4 else 0)
        if not 1 <= month <= 12:
            errors["exp"] = "Your card's expiration date is invalid."
        elif year < today.year:
            errors["exp"] = "Your card's expiration year is in the past."
        elif (year, month) < (today.year, today.month):
            errors["exp"] = "Your card's expiration date is in the past."
        elif year > today.year + 50:
            errors["exp"] = "Your card's expiration year is invalid."
        parsed["exp_month"], parsed["exp_year"] = month, year

    cvc = card.cvc.strip()
    if not cvc.isdigit() or len(cvc) < 3:
        errors["cvc"] = "Your card's security code is incomplete."
    elif len(cvc) > 3:
        errors["cvc"] = "Your card's security code is invalid."
    parsed["cvc"] = cvc

    name = card.name.strip()
    if not name:
        errors["name"] = "Enter the name on your card."
    parsed["name"] = name
    return errors, parsed


def not_open_message(session: CheckoutSession) -> str:
    if session.status == "complete":
        return "This Checkout Session is already paid."
    return "This Checkout Session has expired."


async def pay(sb: Sandbox, session: CheckoutSession, card: CardInput) -> PayOutcome:
    async with sb.lock(session.id):
        await sb.expire_if_due(session)
        if session.status != "open":
            return PayOutcome("not_open", not_open_message(session))
        errors, card_data = validate_card(card)
        if errors:
            return PayOutcome("invalid", next(iter(errors.values())), errors=errors)
        outcome = await _charge(sb, session, card_data)
        session.attempts.append(
            {
                "at": int(time.time()),
                "card_last4": card_data["number"][-4:],
                "outcome": outcome.outcome,
                "payment_intent": outcome.payment_intent,
                "message": outcome.message,
            }
        )
        return outcome


async def _charge(sb: Sandbox, session: CheckoutSession, card: dict[str, Any]) -> PayOutcome:
    # A new attempt abandons a 3DS challenge left half way.
    await sb.drop_pending_action(session)

    number = card["number"]
    decline = DECLINES.get(number)
    pm = await sb.ls.post(
        "/v1/payment_methods",
        {
            "type": "card",
            "card": {
                "number": LOCALSTRIPE_DECLINE if decline else number,
                "exp_month": card["exp_month"],
                "exp_year": card["exp_year"],
                "cvc": card["cvc"],
            },
            "billing_details": {"name": card["name"], "email": card["email"]},
        },
    )
    if pm.status != 200:
        log.error("localstripe refused the PaymentMethod: %s %s", pm.status, pm.body[:300])
        return PayOutcome("error", GENERIC_ERROR)
    sb.card_numbers[pm.data["id"]] = number

    pi_data = session.payment_intent_data
    pi_params: dict[str, Any] = {
        "amount": session.amount_total,
        "currency": session.currency,
        "payment_method": pm.data["id"],
        "payment_method_types": ["card"],
        # Stripe copies payment_intent_data.metadata, not the session's metadata.
        "metadata": pi_data.get("metadata") or {},
    }
    if session.customer:
        pi_params["customer"] = session.customer
    pi = await sb.ls.post("/v1/payment_intents", pi_params)
    if pi.status != 200:
        log.error("localstripe refused the PaymentIntent: %s %s", pi.status, pi.body[:300])
        return PayOutcome("error", GENERIC_ERROR)
    pi_id = pi.data["id"]
    # Fields localstripe does not model, patched into its PaymentIntent JSON.
    sb.remember(pi_id, {k: v for k, v in pi_data.items() if k != "metadata"})

    confirmed = await sb.ls.post(f"/v1/payment_intents/{pi_id}/confirm")
    return await _settle(sb, session, pi_id, pi.data["client_secret"], confirmed, card, decline)


async def _settle(
    sb: Sandbox,
    session: CheckoutSession,
    pi_id: str,
    client_secret: str,
    reply: Any,
    card: dict[str, Any],
    decline: tuple[str, str] | None,
) -> PayOutcome:
    if reply.status == 402:
        err = (reply.data or {}).get("error", {})
        code, message = decline or ("generic_decline", err.get("message") or "Your card was declined.")
        return PayOutcome("declined", message, "card_declined", code, payment_intent=pi_id)
    if reply.status != 200:
        log.error("localstripe confirm failed: %s %s", reply.status, reply.body[:300])
        return PayOutcome("error", GENERIC_ERROR, payment_intent=pi_id)
    status = reply.data.get("status")
    if status == "requires_action":
        session.pending_action = {
            "id": pi_id,
            "client_secret": client_secret,
            "email": card["email"],
            "name": card["name"],
        }
        return PayOutcome("requires_action", "Authentication required.", payment_intent=pi_id)
    if status == "requires_payment_method":
        return PayOutcome(
            "declined",
            AUTH_FAILED,
            "payment_intent_authentication_failure",
            payment_intent=pi_id,
        )
    if status in ("succeeded", "processing"):
        await _save_card(sb, session, reply.data.get("payment_method"))
        sb.complete(session, pi_id, email=card["email"], name=card["name"])
        return PayOutcome("paid", None, payment_intent=pi_id)
    log.error("unexpected PaymentIntent status %s", status)
    return PayOutcome("error", GENERIC_ERROR, payment_intent=pi_id)


async def _save_card(sb: Sandbox, session: CheckoutSession, pm_id: Any) -> None:
    """Checkout with a Customer and `setup_future_usage`: once paid, Stripe attaches the card to the
    Customer (and it may then be charged off session)."""
    usage = session.payment_intent_data.get("setup_future_usage")
    if not session.customer or usage not in ("off_session", "on_session") or not isinstance(pm_id, str):
        return
    reply = await sb.ls.post(f"/v1/payment_methods/{pm_id}/attach", {"customer": session.customer})
    if reply.status != 200:
        log.error("localstripe refused to attach %s: %s %s", pm_id, reply.status, reply.body[:300])
        return
    if usage == "off_session":
        sb.set_up.add(pm_id)


async def authenticate(sb: Sandbox, session: CheckoutSession, success: bool) -> PayOutcome:
    """The 3D Secure challenge's two buttons."""
    async with sb.lock(session.id):
        await sb.expire_if_due(session)
        if session.status != "open":
            return PayOutcome("not_open", not_open_message(session))
        pending = session.pending_action
        if not pending:
            return PayOutcome("invalid", "There is no payment waiting for authentication.")
        session.pending_action = None
        reply = await sb.ls.post(
            f"/v1/payment_intents/{pending['id']}/_authenticate",
            {"client_secret": pending["client_secret"], "success": success},
        )
        card = {"email": pending["email"], "name": pending["name"]}
        outcome = await _settle(sb, session, pending["id"], pending["client_secret"], reply, card, None)
        session.attempts.append(
            {
                "at": int(time.time()),
                "card_last4": None,
                "outcome": outcome.outcome,
                "payment_intent": outcome.payment_intent,
                "message": outcome.message,
                "three_d_secure": "complete" if success else "fail",
            }
        )
        return outcome
