"""The interface every payment provider implements (as pretix's providers do)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from payments.models import Payment


class PaymentError(Exception):
    """The provider refused or could not be reached; the message is safe to show staff."""


class CardDeclined(PaymentError):
    """A saved card charged without its owner (off session) was refused. The message is the bank's,
    for the customer; `needs_authentication`: the bank wants its owner to confirm (3D Secure), so the
    payment page can still take it."""

    def __init__(self, message: str, *, code: str = "", needs_authentication: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.needs_authentication = needs_authentication


@dataclass(frozen=True)
class PaymentRequest:
    """What a provider needs to take money for an order, in the shop's words."""

    order_number: str
    email: str
    amount_cents: int
    currency: str
    success_url: str
    cancel_url: str
    # (description, quantity, unit price in cents); they add up to amount_cents, or are empty.
    lines: list[tuple[str, int, int]] = field(default_factory=list)
    # When the payment page closes (Unix time); None: the provider's default.
    expires_at: int | None = None
    # The provider's customer the payment is made as ('' for none: a guest), and whether the card
    # paid with is kept for next time (Stripe: `setup_future_usage`).
    provider_customer: str = ""
    save_card: bool = False


@dataclass(frozen=True)
class StartResult:
    status: str  # a Payment.Status value: created (customer must go to redirect_url), reserved, captured
    external_reference: str = ""
    redirect_url: str = ""
    capture_reference: str = ""


@dataclass(frozen=True)
class ProviderStatus:
    """What the provider says of a payment now."""

    paid: bool
    closed: bool  # can no longer be paid (expired, cancelled)
    amount_cents: int | None = None
    currency: str | None = None
    capture_reference: str = ""
    reference_matches: bool = True  # the provider's record names the order we expect
    payer_name: str = ""  # as the buyer gave them on the provider's page
    payer_phone: str = ""


class PaymentProvider:
    identifier: str = ""
    verbose_name: str = ""
    needs_redirect: bool = False  # the customer leaves the shop to pay

    def start(self, payment: Payment, request: PaymentRequest) -> StartResult:
        raise NotImplementedError

    def can_start(self, payment: Payment) -> bool:
        """Whether start() may still be tried for this attempt (False: the caller opens a new one)."""
        return True

    def capture(self, payment: Payment) -> str:
        """Take a reserved amount; returns the capture reference. No network call under a lock."""
        return payment.capture_reference

    def cancel(self, payment: Payment) -> None:
        """Release what start() reserved or opened."""

    def lookup(self, payment: Payment) -> ProviderStatus | None:
        """Ask the provider how the payment stands (None: it has nothing to say)."""
        return None

    def refund(
        self, payment: Payment, amount_cents: int, idempotency_key: str, *, actor: str = "system"
    ) -> str:
        """Send money back; returns the provider's refund id. Must be idempotent on the key.

        `actor`: who refunds (staff by name), for a provider that keeps its own record of
        refunds (the gift card ledger)."""
        raise NotImplementedError
