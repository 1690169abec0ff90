"""Fulfilment, line by line: eSIM lines (one instant order upstream), top-up lines (a
top-up order each), and other kinds through the fulfillers registered for them.

Safe to run twice, or in two workers at once: a lease on the order lets one
worker at a time work on it, each line is marked fulfilled in the transaction
that records its result, and before any purchase after the first attempt
upstream is asked for an order with our reference (never two for one payment).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

import roamify
from core.money import format_money
from core.queue import after_commit
from core.roamify_client import roamify_client
from esims import services as esims

from ..events import OrderEventKind
from ..models import LineKind, Order, OrderEvent, OrderLine, OrderStatus
from .order_state import CheckoutError, locked, log_event, move, new_event

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    done: bool
    retry: bool = False
    message: str = ""
    completed: bool = False  # this run completed the order


class LineRefused(Exception):
    """A line that cannot be fulfilled without staff (the message says why)."""


class _NotReadyYet(Exception):
    """Upstream has the order but its eSIM profiles are not ready yet."""


# Fulfillers of line kinds that other apps own (gift cards). Each runs inside a
# transaction with the order locked, makes no outside call and is safe to run twice.
LineFulfiller = Callable[[OrderLine], None]
_FULFILLERS: dict[str, LineFulfiller] = {}


def register_line_fulfiller(kind: str, fulfiller: LineFulfiller) -> None:
    _FULFILLERS[kind] = fulfiller


REFUSALS = (
    roamify.InsufficientBalanceError,
    roamify.ValidationError,
    roamify.NotFoundError,
    roamify.AuthenticationError,
    roamify.ConflictError,
    LineRefused,
)
PASSING = (roamify.UpstreamTimeout, roamify.UpstreamUnavailable, roamify.ProfilePendingError, _NotReadyYet)


def fulfil_order(order_id: int, *, final_attempt: bool = False) -> Outcome:
    now = timezone.now()
    with transaction.atomic():
        order = locked(order_id)
        if order.status not in (OrderStatus.PAID, OrderStatus.FULFILLING):
            return Outcome(done=True, message=f"nothing to do ({order.status})")
        if order.fulfilment_lease_until and order.fulfilment_lease_until > now:
            return Outcome(done=False, retry=True, message="another worker holds the lease")
        order.fulfilment_attempts += 1
        order.fulfilment_lease_until = now + dt.timedelta(seconds=settings.FULFILMENT_LEASE_SECONDS)
        if order.status == OrderStatus.PAID:
            move(order, OrderStatus.FULFILLING, "Fulfilling the order")
        else:
            order.save()
        attempt = order.fulfilment_attempts
        # A line staff refunded before it was delivered is never bought.
        pending = list(
            order.lines.filter(fulfilled_at__isnull=True, refunded_at__isnull=True).select_related("esim")
        )
    try:
        esim_lines = [line for line in pending if line.kind == LineKind.ESIM]
        if esim_lines:
            # An order of eSIMs alone is completed in the transaction that records them.
            done = _fulfil_esim_lines(order, esim_lines, attempt, complete=len(esim_lines) == len(pending))
            if done is not None:
                return done
        for line in pending:
            if line.kind == LineKind.TOPUP:
                _fulfil_topup(order, line, attempt)
            elif line.kind != LineKind.ESIM:
                _fulfil_registered(order, line)
    except REFUSALS as exc:
        return _needs_action(
            order_id, f"Upstream refused the order: {exc}" if not isinstance(exc, LineRefused) else str(exc)
        )
    except PASSING as exc:
        if final_attempt:
            return _needs_action(order_id, f"Upstream did not deliver after {attempt} attempts: {exc}")
        _release_lease(order_id, f"Attempt {attempt}: {type(exc).__name__}: {exc}")
        return Outcome(done=False, retry=True, message=str(exc))
    except Exception as exc:  # unknown failure: never silent, never lost
        logger.exception("fulfilment of %s failed", order.number)
        if final_attempt:
            return _needs_action(order_id, f"Unexpected error: {type(exc).__name__}: {exc}")
        _release_lease(order_id, f"Attempt {attempt}: unexpected {type(exc).__name__}: {exc}")
        return Outcome(done=False, retry=True, message=str(exc))
    return _complete(order_id)


# --- eSIM lines -----------------------------------------------------------------------------------


def _fulfil_esim_lines(
    order: Order, lines: list[OrderLine], attempt: int, *, complete: bool = False
) -> Outcome | None:
    """One instant order upstream for every eSIM line, referenceId = our order number.

    With `complete`, the order is completed in the same transaction when no line is left: the
    outcome of that, or None when the caller goes on (to other lines, or `_complete`)."""
    upstream_order = _esim_order(order, lines, attempt)
    ready = _ready_esims(upstream_order)
    line_for = _line_assignment(lines, upstream_order, len(ready))
    with transaction.atomic():
        locked_order = locked(order.pk)
        if locked_order.status != OrderStatus.FULFILLING:
            return None
        saved = esims.record_delivered(
            [
                esims.Delivered(
                    esim=e,
                    upstream_order_id=upstream_order.id,
                    title=line.description if line else "",
                    package_id=line.package_id_upstream if line else "",
                )
                for e, line in zip(ready, line_for, strict=False)
            ],
            customer=locked_order.customer,
            email=locked_order.email,
        )
        OrderLine.esims.through.objects.bulk_create(
            [
                OrderLine.esims.through(orderline=line or lines[0], esim=record)
                for record, line in zip(saved, line_for, strict=False)
            ],
            ignore_conflicts=True,
        )
        OrderLine.objects.filter(pk__in=[line.pk for line in lines]).update(
            fulfilled_at=timezone.now(), upstream_order_id=upstream_order.id
        )
        locked_order.upstream_order_id = upstream_order.id
        delivered = new_event(
            locked_order,
            OrderEventKind.ESIMS_DELIVERED,
            f"{len(saved)} eSIM(s) ready from upstream order {upstream_order.id}",
            upstream_order_id=upstream_order.id,
        )
        if complete:
            return _complete_locked(locked_order, after=[delivered])
        locked_order.save(update_fields=["upstream_order_id", "updated_at"])
        delivered.save(force_insert=True)
    return None


def _esim_order(order: Order, lines: list[OrderLine], attempt: int) -> roamify.Order:
    client = roamify_client()
    if attempt > 1 or order.upstream_order_id:
        existing = client.find_order(order.number)
        if existing is not None:
            return existing
    items = [(line.package_id_upstream, line.quantity) for line in lines]
    placed = client.create_instant_order(items, reference_id=order.number, start_date=order.travel_date)
    with transaction.atomic():  # one commit for both
        Order.objects.filter(pk=order.pk).update(upstream_order_id=placed.id)
        log_event(
            order,
            OrderEventKind.UPSTREAM_ORDER,
            f"Upstream order {placed.id} ({placed.status})",
            upstream_order_id=placed.id,
            upstream_status=placed.status,
        )
    return placed


def _ready_esims(upstream_order: roamify.Order) -> list[roamify.Esim]:
    """Every eSIM of the order with its profile; asks upstream for those still without one."""
    if upstream_order.status in ("CANCELLED", "REFUNDED"):
        raise roamify.ValidationError(f"upstream order is {upstream_order.status}")
    client = roamify_client()
    by_id = {e.id: e for e in upstream_order.esims}
    ready = []
    for esim_id in upstream_order.esim_ids:
        esim = by_id.get(esim_id)
        if esim is None or not esim.has_profile:
            esim = client.get_esim(esim_id=esim_id)
        if not esim.has_profile and esim.status == "NEW" and upstream_order.status == "COMPLETED":
            esim = client.apply(esim_id=esim_id)[0]  # a plain order's eSIM waits for apply
        if not esim.has_profile:
            raise _NotReadyYet(f"eSIM {esim_id} is {esim.status}")
        ready.append(esim)
    if not ready:
        raise _NotReadyYet(f"upstream order {upstream_order.id} is {upstream_order.status}")
    return ready


def _line_assignment(lines: list[OrderLine], upstream_order: roamify.Order, n: int) -> list[OrderLine | None]:
    """Which order line each eSIM belongs to: by package id where upstream says, else in order."""
    by_package = {line.package_id_upstream: line for line in lines}
    packages = [i.package_id for i in upstream_order.items]
    if len(packages) >= n:
        return [by_package.get(p) for p in packages[:n]]
    expanded = [line for line in lines for _ in range(line.quantity)]
    return (expanded + [None] * n)[:n]


# --- Top-up lines ---------------------------------------------------------------------------------


def _fulfil_topup(order: Order, line: OrderLine, attempt: int) -> None:
    """A top-up order upstream for the line's eSIM, referenceId = the line's own reference."""
    client = roamify_client()
    reference = line.upstream_reference
    placed = client.find_order(reference) if attempt > 1 or line.upstream_order_id else None
    if placed is None:
        placed = client.create_topup(line.esim.iccid, line.package_id_upstream, reference_id=reference)
        log_event(
            order,
            OrderEventKind.UPSTREAM_ORDER,
            f"Upstream top-up order {placed.id} ({placed.status}) for eSIM …{line.esim.iccid[-4:]}",
            upstream_order_id=placed.id,
            line=line.pk,
        )
    if placed.status in ("CANCELLED", "REFUNDED"):
        raise roamify.ValidationError(f"upstream top-up order is {placed.status}")
    if placed.status != "COMPLETED":
        raise _NotReadyYet(f"upstream top-up order {placed.id} is {placed.status}")
    try:
        refreshed = client.get_esim(iccid=line.esim.iccid)
    except roamify.RoamifyError:
        refreshed = None  # the top-up is done; the new expiry shows on the next refresh
    with transaction.atomic():
        locked(order.pk)
        esims.record_topped_up(line.esim, refreshed)
        OrderLine.objects.filter(pk=line.pk).update(fulfilled_at=timezone.now(), upstream_order_id=placed.id)


# --- Lines of other apps --------------------------------------------------------------------------


def _fulfil_registered(order: Order, line: OrderLine) -> None:
    fulfiller = _FULFILLERS.get(line.kind)
    if fulfiller is None:
        raise LineRefused(f"No fulfiller for {line.get_kind_display()} lines")
    with transaction.atomic():
        locked(order.pk)
        line = OrderLine.objects.select_for_update().get(pk=line.pk)
        if line.fulfilled_at:
            return
        fulfiller(line)
        line.fulfilled_at = timezone.now()
        line.save(update_fields=["fulfilled_at"])


# --- Ending a run ---------------------------------------------------------------------------------


def _release_lease(order_id: int, message: str) -> None:
    with transaction.atomic():
        order = locked(order_id)
        order.fulfilment_lease_until = None
        order.save()
        log_event(order, OrderEventKind.FULFILMENT_RETRY, message)


def _needs_action(order_id: int, reason: str) -> Outcome:
    with transaction.atomic():
        order = locked(order_id)
        order.fulfilment_lease_until = None
        order.action_reason = reason
        move(order, OrderStatus.REQUIRES_ACTION, reason)
    if settings.AUTO_REFUND_FAILED_FULFILMENT:
        from .refunds import refund_order

        try:
            refund_order(order_id, reason=f"Automatic refund: {reason}")
        except Exception as exc:  # the order stays visible in admin as requires_action
            with transaction.atomic():
                log_event(locked(order_id), OrderEventKind.REFUND_FAILED, f"Automatic refund failed: {exc}")
    return Outcome(done=True, message=reason)


def _complete(order_id: int) -> Outcome:
    with transaction.atomic():
        return _complete_locked(locked(order_id))


def _complete_locked(order: Order, after: Sequence[OrderEvent] = ()) -> Outcome:
    """Complete the locked order if no line is left (inside the caller's transaction).

    `after`: the caller's timeline entries (from `_fulfil_esim_lines`, which changed the order's
    upstream_order_id), written in one INSERT with the completion's, or with the order saved when
    it does not complete."""
    if order.status not in (OrderStatus.FULFILLING, OrderStatus.PAID):
        outcome = Outcome(done=True, message=f"already {order.status}")
    elif order.lines.filter(fulfilled_at__isnull=True, refunded_at__isnull=True).exists():
        outcome = Outcome(done=False, retry=True, message="lines left to fulfil")
    else:
        order.fulfilment_lease_until = None
        order.completed_at = timezone.now()
        order.action_reason = ""
        move(
            order,
            OrderStatus.COMPLETED,
            "Every line fulfilled",
            after=after,
            upstream_order_id=order.upstream_order_id,
        )
        return Outcome(done=True, completed=True, message="completed")
    if after:
        order.save(update_fields=["upstream_order_id", "updated_at"])
        OrderEvent.objects.bulk_create(after)
    return outcome


def retry_fulfilment(order_id: int, *, actor: str) -> None:
    """Staff: try a requires_action (or stuck) order again."""
    with transaction.atomic():
        order = locked(order_id)
        if order.status not in (OrderStatus.REQUIRES_ACTION, OrderStatus.PAID, OrderStatus.FULFILLING):
            raise CheckoutError(f"An order that is {order.get_status_display().lower()} can't be retried.")
        if order.paid_at is None:
            # Money came after the order was cancelled (or did not fit): deliver only what was paid.
            captured = order.payments.captured_cents()
            if captured < order.total_cents:
                cur = order.currency
                raise CheckoutError(
                    f"This order is not paid in full ({format_money(captured, cur)} of "
                    f"{format_money(order.total_cents, cur)}): refund it instead."
                )
            order.paid_at = timezone.now()  # staff take the late money: the order is paid from now
        order.fulfilment_lease_until = None
        if order.status == OrderStatus.REQUIRES_ACTION:
            move(order, OrderStatus.FULFILLING, "Retry requested", actor=actor)
        else:
            order.save()
            log_event(order, OrderEventKind.RETRY, "Retry requested", actor=actor)
        after_commit("checkout.fulfil_order", order.pk)
