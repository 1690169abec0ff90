"""What staff do to an order from its page, one function per button, called through the module:
`staff.retry` (fulfilment), `staff.resend` (the eSIM email), `staff.refund` (with the upstream
claims), `staff.add_note`.

Each action says first what it will do (`*_preview`), then does it and writes the audit log
with the values before and after. The refund honours the promise on the shop's pages,
"Not installed? Full refund.": eSIMs nobody installed are refunded in full and their cost
is claimed back from Roamify; an installed eSIM is refunded only after a second
confirmation that says its cost will not come back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

import roamify
from core import audit
from core.money import format_money
from core.roamify_client import roamify_client
from payments.models import Payment

from ..events import AuditAction, OrderEventKind
from ..models import LineKind, Order, OrderStatus
from .fulfilment import retry_fulfilment
from .notifications import send_esim_email
from .order_state import REFUNDABLE, CheckoutError, locked, log_event
from .refunds import refund_order
from .upstream_refunds import EsimToRefund, esims_of, file_upstream_refunds


def _money(cents: int, order: Order) -> str:
    return format_money(cents, order.currency)


def _state(order: Order) -> dict:
    order.refresh_from_db()
    payments = list(order.payments.captured())
    return {
        "status": order.status,
        "refunded_cents": sum(p.refunded_cents for p in payments),
        "refundable_cents": sum(p.refundable_cents for p in payments),
    }


# --- Retry ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPreview:
    can_retry: bool
    refusal: str
    cost_cents: int  # what the lines left to fulfil cost upstream
    balance_cents: int | None  # the partner balance now (None: upstream did not answer)
    balance_error: str = ""

    @property
    def balance_short(self) -> bool:
        return self.balance_cents is not None and self.balance_cents < self.cost_cents


def retry_preview(order: Order) -> RetryPreview:
    """What a retry would cost upstream, and whether the partner balance covers it (asked now)."""
    refusal = (
        ""
        if order.status in (OrderStatus.REQUIRES_ACTION, OrderStatus.PAID, OrderStatus.FULFILLING)
        else (f"An order that is {order.get_status_display().lower()} can't be retried.")
    )
    cost = sum(
        line.wholesale_cents * line.quantity
        for line in order.lines.filter(fulfilled_at__isnull=True, kind__in=[LineKind.ESIM, LineKind.TOPUP])
    )
    try:
        balance, error = roamify_client().balance().amount_cents, ""
    except roamify.RoamifyError as exc:
        balance, error = None, str(exc)
    return RetryPreview(not refusal, refusal, cost, balance, error)


def retry(order_id: int, *, actor) -> None:
    name = audit.actor_name(actor)
    order = Order.objects.get(pk=order_id)
    before = {"status": order.status, "action_reason": order.action_reason}
    retry_fulfilment(order_id, actor=name)
    order.refresh_from_db()
    audit.record(name, AuditAction.ORDER_RETRY, order, before, {"status": order.status})


# --- Resend -----------------------------------------------------------------------------------------


def resend(order_id: int, *, actor) -> None:
    name = audit.actor_name(actor)
    order = Order.objects.get(pk=order_id)
    before = {"esim_email_sent_at": order.esim_email_sent_at}
    send_esim_email(order_id, resend=True, actor=name)
    order.refresh_from_db()
    audit.record(
        name,
        AuditAction.ORDER_RESEND_ESIM_EMAIL,
        order,
        before,
        {"esim_email_sent_at": order.esim_email_sent_at, "to": order.email},
    )


# --- Refund -----------------------------------------------------------------------------------------


@dataclass
class RefundPreview:
    order: Order
    refundable_cents: int
    amount_cents: int
    shares: list[tuple[Payment, int]]  # what goes back on each payment, newest first
    esims: list[EsimToRefund]
    full: bool
    refusal: str = ""
    claims: list[EsimToRefund] = field(default_factory=list)  # eSIMs whose cost will be claimed upstream
    installed: list[EsimToRefund] = field(default_factory=list)  # refunded at the shop's cost

    @property
    def installed_cost_cents(self) -> int:
        return sum(e.cost_cents for e in self.installed)

    @property
    def needs_second_confirmation(self) -> bool:
        return bool(self.installed)


def refund_preview(order: Order, amount_cents: int | None = None, *, refresh: bool = True) -> RefundPreview:
    """The refund of `amount_cents` (all that is left when None): who gets what back, and the eSIMs."""
    captured = list(order.payments.captured().order_by("-created_at", "-id"))
    left = sum(p.refundable_cents for p in captured)
    esims = esims_of(order, refresh=refresh)
    refusal = ""
    if order.status not in REFUNDABLE:
        refusal = f"An order that is {order.get_status_display().lower()} can't be refunded."
    elif left == 0:
        refusal = "Nothing is left to refund on this order."
    wanted = left if amount_cents is None else amount_cents
    if not refusal and not 0 < wanted <= left:
        refusal = f"Choose an amount between {_money(1, order)} and {_money(left, order)}."
    shares, rest = [], wanted
    for payment in captured:
        share = min(max(rest, 0), payment.refundable_cents)
        if share:
            shares.append((payment, share))
            rest -= share
    full = wanted >= left
    fresh = [e for e in esims if e.claim is None]
    return RefundPreview(
        order,
        left,
        wanted,
        shares,
        esims,
        full,
        refusal,
        claims=[e for e in fresh if not e.installed] if full else [],
        installed=[e for e in fresh if e.installed] if full else [],
    )


class NeedsSecondConfirmation(CheckoutError):
    """An installed eSIM is in the refund: staff must confirm its cost will not come back."""


def refund(
    order_id: int,
    amount_cents: int | None = None,
    *,
    actor,
    reason: str,
    notify: bool,
    confirm_installed: bool = False,
) -> RefundPreview:
    """Refund (all, or an amount) with a reason; a full refund also claims each uninstalled eSIM's cost
    from Roamify. Raises NeedsSecondConfirmation when an installed eSIM is in it and it was not confirmed."""
    name = audit.actor_name(actor)
    reason = " ".join((reason or "").split())
    if not reason:
        raise CheckoutError("Say why the order is refunded: the customer and the audit log read it.")
    order = Order.objects.get(pk=order_id)
    plan = refund_preview(order, amount_cents)  # eSIM statuses asked again: a phone may have installed one
    if plan.refusal:
        raise CheckoutError(plan.refusal)
    if plan.needs_second_confirmation and not confirm_installed:
        raise NeedsSecondConfirmation(
            "Installed eSIM(s) "
            + ", ".join(e.tail for e in plan.installed)
            + f": their cost ({_money(plan.installed_cost_cents, order)}) will not come back from Roamify."
        )
    before = _state(order)
    refund_order(order_id, plan.amount_cents, actor=name, reason=reason, notify=notify)
    if plan.full:
        with transaction.atomic():
            locked_order = locked(order_id)
            for item in plan.installed:
                log_event(
                    locked_order,
                    OrderEventKind.UPSTREAM_REFUND_SKIPPED,
                    f"eSIM {item.tail} was installed ({item.esim.status}): not claimed from Roamify; "
                    f"its cost ({_money(item.cost_cents, order)}) stays with the shop",
                    actor=name,
                )
        file_upstream_refunds(order_id, actor=name, notes=f"Order {order.number}: {reason}"[:500])
    after = _state(order)
    after["claimed_esims"] = [e.esim.upstream_esim_id for e in plan.claims]
    after["notified"] = notify
    audit.record(name, AuditAction.ORDER_REFUND, order, before, after, note=reason)
    return plan


# --- Notes ------------------------------------------------------------------------------------------


def add_note(order_id: int, text: str, *, actor) -> None:
    name = audit.actor_name(actor)
    text = (text or "").strip()
    if not text:
        raise CheckoutError("Write the note first.")
    with transaction.atomic():
        order = locked(order_id)
        log_event(order, OrderEventKind.NOTE, text[:5000], actor=name)
        audit.record(name, AuditAction.ORDER_NOTE, order, {}, {"note": text[:5000]})
