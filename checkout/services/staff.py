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

from dataclasses import dataclass

from django.db import transaction

import roamify
from core import audit
from core.money import format_money
from core.roamify_client import roamify_client
from esims import selectors as esim_usage

from ..events import AuditAction, OrderEventKind
from ..models import LineKind, Order, OrderStatus
from .fulfilment import retry_fulfilment
from .notifications import send_esim_email
from .order_state import CheckoutError, locked, log_event
from .refunds import DEFAULT_SPLIT_RULE, RefundPlan, plan_refund, refund_order
from .upstream_refunds import esims_of, file_upstream_refund


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


def refund_preview(
    order: Order,
    amount_cents: int | None = None,
    *,
    lines: list[str] | None = None,
    rule: str = DEFAULT_SPLIT_RULE,
    refresh: bool = True,
    usage: bool = False,
) -> RefundPlan:
    """The refund of the picked `lines` and/or `amount_cents` (everything left when both are None):
    who gets what back, and each eSIM's state. `refresh` asks Roamify for each eSIM's status now (a
    phone may have installed one); `usage` adds each eSIM's data used and left (the usage cache)."""
    if refresh:
        esims_of(order, refresh=True)  # writes the statuses Roamify gives now on the eSIM rows
    plan = plan_refund(order, lines, amount_cents, rule=rule, full=lines is None and amount_cents is None)
    if usage:
        found = esim_usage.usage_of_many([i.esim for i in plan.esims])
        for item in plan.esims:
            item.usage = found.get(item.esim.pk)
    return plan


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
    lines: list[str] | None = None,
    rule: str = DEFAULT_SPLIT_RULE,
    expected_split: str | None = None,
) -> RefundPlan:
    """Refund the picked lines and/or an amount (everything when both are None) with a reason, and
    claim each picked uninstalled eSIM's cost from Roamify. Raises NeedsSecondConfirmation when an
    installed eSIM is picked and it was not confirmed; CheckoutError when the split is no longer the
    one staff saw (`expected_split`)."""
    name = audit.actor_name(actor)
    reason = " ".join((reason or "").split())
    if not reason:
        raise CheckoutError("Say why the order is refunded: the customer and the audit log read it.")
    order = Order.objects.get(pk=order_id)
    # eSIM statuses asked again: a phone may have installed one since the page was shown.
    plan = refund_preview(order, amount_cents, lines=lines, rule=rule)
    if plan.refusal:
        raise CheckoutError(plan.refusal)
    if plan.needs_second_confirmation and not confirm_installed:
        raise NeedsSecondConfirmation(
            "Installed eSIM(s) "
            + ", ".join(e.tail for e in plan.installed)
            + f": their cost ({_money(plan.installed_cost_cents, order)}) will not come back from Roamify."
        )
    before = _state(order)
    refund_order(
        order_id,
        amount_cents,
        actor=name,
        reason=reason,
        notify=notify,
        lines=lines,
        rule=plan.rule,
        expected_split=plan.split if expected_split is None else expected_split,
    )
    if plan.installed:
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
    notes = f"Order {order.number}: {reason}"[:500]
    for item in plan.claims:  # exactly one request per eSIM: a second call finds the first
        file_upstream_refund(order, item.esim, item.cost_cents, actor=name, notes=notes)
    after = _state(order)
    after["lines"] = plan.picked_keys
    after["goodwill_cents"] = plan.goodwill_cents
    after["split"] = {str(s.payment.pk): s.cents for s in plan.shares if s.cents}
    after["split_rule"] = plan.rule
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
