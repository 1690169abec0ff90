"""Credit paying for orders: what it can pay, and the ledger side of a `storecredit` payment.

The payment provider (`storecredit.provider`) calls reserve, capture, release and refund; each runs
under the account's row lock and is safe to repeat for the same payment (or, for refunds, the same
idempotency key). Credit is in the base currency: a payment in another currency takes its base
amount from the account (its slice of the order's base total, at the order's rate), and keeps the
order's amount and rate on the entry.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.money import format_money, minor_digits
from payments.amounts import prorate

from ..ledger import CreditError, locked, post
from ..models import CreditAccount, CreditEntry, Kind

PROVIDER = "storecredit"


def balance_of(user) -> int:
    """What the customer holds now (0: none, or not signed in)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return CreditAccount.objects.filter(user=user).values_list("balance_cents", flat=True).first() or 0


def to_base(amount: int, currency: str, rate_per_base: Decimal | None) -> int:
    """`amount` of `currency` in the base currency at `rate_per_base` (as `Order.base_cents` does)."""
    if currency == settings.SHOP_CURRENCY or not rate_per_base:
        return amount
    scale = Decimal(10) ** (minor_digits(settings.SHOP_CURRENCY) - minor_digits(currency))
    return int((Decimal(amount) * scale / Decimal(rate_per_base)).to_integral_value(ROUND_HALF_UP))


def share(balance: int, payable: int, position: int, total: int, base_total: int) -> tuple[int, int]:
    """(what credit pays of an order in its currency, what it takes from the account in base cents).

    The credit pays the slice [position, position + amount) of the order's total, worth that slice of
    its base total (`prorate`, as every payment of an order): the most it can pay is the largest amount
    whose slice the balance covers. So paying the whole rest makes the payments add up to the order's
    base total exactly."""
    low, high = 0, max(0, min(payable, total - position))
    while low < high:  # the slice grows with the amount: the largest one the balance covers
        middle = (low + high + 1) // 2
        if prorate(position, middle, total, base_total) <= balance:
            low = middle
        else:
            high = middle - 1
    return low, prorate(position, low, total, base_total)


def reserve(payment) -> CreditEntry:
    """Hold the payment's base amount on the account (its balance goes down now)."""
    with transaction.atomic():
        account = locked(_user_id(payment))
        done = account.entries.filter(payment=payment, kind=Kind.RESERVE).first()
        if done is not None:
            return done
        taken = payment.base_amount_cents
        if account.balance_cents < taken:
            raise CreditError(
                _("Your store credit no longer has %(amount)s.")
                % {"amount": format_money(taken, settings.SHOP_CURRENCY)}
            )
        return post(
            account,
            Kind.RESERVE,
            -taken,
            payment=payment,
            reason=f"Order {payment.data.get('order_number', '')}",
            **_order_side(payment, payment.amount_cents),
        )


def _order_side(payment, order_amount: int) -> dict:
    if payment.currency == settings.SHOP_CURRENCY:
        return {}
    return {
        "order_amount_cents": order_amount,
        "order_currency": payment.currency,
        "rate": payment.data.get("rate"),
    }


def capture(payment) -> str:
    """The order is paid: the reserve becomes spent credit (the balance does not change again)."""
    with transaction.atomic():
        account = locked(_user_id(payment))
        if not account.entries.filter(payment=payment, kind=Kind.RESERVE).exists():
            raise CreditError("Nothing was reserved on the store credit for this payment")
        if not account.entries.filter(payment=payment, kind=Kind.CAPTURE).exists():
            post(
                account,
                Kind.CAPTURE,
                0,
                payment=payment,
                reason=f"Order {payment.data.get('order_number', '')} paid",
            )
    return f"storecredit-{account.pk}"


def release(payment) -> None:
    """The order will not be paid: what was reserved goes back, once, to the grants it came from."""
    with transaction.atomic():
        account = locked(_user_id(payment))
        reserved = account.entries.filter(payment=payment, kind=Kind.RESERVE).first()
        if (
            reserved is None
            or account.entries.filter(payment=payment, kind__in=[Kind.RELEASE, Kind.CAPTURE]).exists()
        ):
            return
        post(
            account,
            Kind.RELEASE,
            -reserved.amount_cents,
            payment=payment,
            draw=reserved.drawn,
            reason=f"Order {payment.data.get('order_number', '')} not paid",
            **_order_side(payment, payment.amount_cents),
        )


def refund(payment, amount_cents: int, idempotency_key: str, *, actor: str = "system") -> str:
    """Money of a refunded order paid with credit goes back as credit, never to a card: a new grant,
    expiring `STORE_CREDIT_EXPIRY_DAYS` from now (the same key: the same entry)."""
    with transaction.atomic():
        account = locked(_user_id(payment))
        done = CreditEntry.objects.filter(idempotency_key=idempotency_key).first()
        if done is not None:
            return f"storecredit-refund-{done.pk}"
        back = prorate(payment.refunded_cents, amount_cents, payment.amount_cents, payment.base_amount_cents)
        try:
            with transaction.atomic():
                entry = post(
                    account,
                    Kind.REFUND,
                    back,
                    payment=payment,
                    idempotency_key=idempotency_key,
                    reason=f"Refund of order {payment.data.get('order_number', '')}",
                    actor=actor,
                    **_order_side(payment, amount_cents),
                )
        except IntegrityError:
            raise CreditError("This refund is being recorded by another request") from None
    return f"storecredit-refund-{entry.pk}"


def _user_id(payment) -> int:
    user_id = (payment.data or {}).get("credit_user_id")
    if not isinstance(user_id, int):
        raise CreditError("This payment names no store credit account")
    return user_id
