"""Claiming an eSIM's wholesale cost back from Roamify when the shop refunds it (§2.20).

For each eSIM of a refunded order that nobody installed, one refund request is
filed upstream, exactly once: a row is claimed first (a unique constraint keeps
one live request per eSIM), upstream is called after the transaction, and the
answer is recorded. A second call finds the row and files nothing. When upstream
did not answer, the row stays `requested`; the next attempt (the hourly sync)
looks for a request upstream before filing one. Roamify decides later and says so
with its `refund` webhook (`record_upstream_refund_event`) or when asked
(`sync_upstream_refunds`).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

import roamify
from core.money import format_money
from core.roamify_client import roamify_client
from esims import services as esims
from esims.models import Esim

from ..events import OrderEventKind
from ..models import LineKind, Order, OrderLine, UpstreamRefund
from .order_state import log_event

logger = logging.getLogger(__name__)

# Upstream statuses of an eSIM that no phone has taken yet: Roamify can take those back.
NOT_INSTALLED = frozenset({"NEW", "READY"})
LIVE = (
    UpstreamRefund.Status.REQUESTED,
    UpstreamRefund.Status.PENDING,
    UpstreamRefund.Status.PROCESSING,
    UpstreamRefund.Status.REFUNDED,
)
UPSTREAM_STATUS = {
    "PENDING": UpstreamRefund.Status.PENDING,
    "PROCESSING": UpstreamRefund.Status.PROCESSING,
    "REFUNDED": UpstreamRefund.Status.REFUNDED,
    "REJECTED": UpstreamRefund.Status.REJECTED,
    "CANCELLED": UpstreamRefund.Status.CANCELLED,
}


def is_installed(status: str) -> bool:
    """Anything but NEW/READY counts as installed, unknown statuses too: the cost may not come back."""
    return (status or "").upper() not in NOT_INSTALLED


@dataclass(frozen=True)
class EsimToRefund:
    esim: Esim
    cost_cents: int
    installed: bool
    claim: UpstreamRefund | None  # the request filed for it already, if any

    @property
    def tail(self) -> str:
        return f"…{(self.esim.iccid or self.esim.upstream_esim_id)[-4:]}"


def esims_of(order: Order, *, refresh: bool = True) -> list[EsimToRefund]:
    """The order's eSIMs with their wholesale cost; `refresh` asks upstream for each one's status now
    (no lock held), since a phone may have installed it since we last heard."""
    lines = OrderLine.objects.filter(order=order, kind=LineKind.ESIM).prefetch_related("esims")
    pairs = [(esim, line.wholesale_cents) for line in lines for esim in line.esims.all()]
    if refresh and pairs:
        client = roamify_client()
        for esim, _ in pairs:
            try:
                status = client.get_esim(esim_id=esim.upstream_esim_id).status
            except roamify.RoamifyError as exc:
                logger.warning("could not refresh eSIM %s: %s", esim.upstream_esim_id, exc)
                continue
            if status and status != esim.status:
                Esim.objects.filter(pk=esim.pk).update(status=status, updated_at=timezone.now())
                esim.status = status
    claims = {c.esim_id: c for c in UpstreamRefund.objects.filter(order=order, status__in=LIVE)}
    return [EsimToRefund(esim, cost, is_installed(esim.status), claims.get(esim.pk)) for esim, cost in pairs]


def file_upstream_refunds(order_id: int, *, actor: str = "system", notes: str = "") -> list[UpstreamRefund]:
    """File a refund request for every eSIM of the order that is not installed. Safe to call again."""
    order = Order.objects.get(pk=order_id)
    filed = []
    for item in esims_of(order, refresh=False):
        if item.installed:
            continue
        claim = file_upstream_refund(order, item.esim, item.cost_cents, actor=actor, notes=notes)
        if claim is not None:
            filed.append(claim)
    return filed


def file_upstream_refund(
    order: Order, esim: Esim, cost_cents: int, *, actor: str = "system", notes: str = ""
) -> UpstreamRefund | None:
    claim, retrying = _claim(order, esim, cost_cents, actor, notes)
    if claim.status != UpstreamRefund.Status.REQUESTED or claim.refund_id:
        return claim  # filed before: nothing is sent twice
    client = roamify_client()
    try:
        found = _find_upstream(client, esim) if retrying else None
        request = found or client.create_refund_request(
            esim_id=esim.upstream_esim_id,
            reason=roamify.REFUND_REASON_NOT_INSTALLED,
            notes=(notes or f"Order {order.number}")[:500],
        )
    except roamify.RefundRequestOpenError as exc:  # filed before we knew (e.g. in the partner portal)
        request = _get_or_none(client, exc.refund_id) if exc.refund_id else None
        if request is None:
            return _record_failure(claim, f"Roamify says a request is open already ({exc})")
    except roamify.AlreadyRefundedError:
        return _record(claim, None, UpstreamRefund.Status.REFUNDED, "Roamify had refunded this eSIM already")
    except roamify.RoamifyError as exc:
        return _record_failure(claim, str(exc))
    return _record(claim, request, UPSTREAM_STATUS.get(request.status, UpstreamRefund.Status.PENDING), "")


def _claim(order: Order, esim: Esim, cost_cents: int, actor: str, notes: str) -> tuple[UpstreamRefund, bool]:
    """The live request of this eSIM, or a new one in `requested`. True when retrying an unanswered one."""
    with transaction.atomic():
        existing = UpstreamRefund.objects.select_for_update().filter(esim=esim, status__in=LIVE).first()
        if existing is not None:
            return existing, True
        try:
            with transaction.atomic():
                return UpstreamRefund.objects.create(
                    order=order,
                    esim=esim,
                    cost_cents=cost_cents,
                    currency="USD",
                    reason=roamify.REFUND_REASON_NOT_INSTALLED,
                    notes=notes[:500],
                    requested_by=actor,
                ), False
        except IntegrityError:  # another request for the same eSIM won the race
            return UpstreamRefund.objects.get(esim=esim, status__in=LIVE), True


def _find_upstream(client: roamify.RoamifyClient, esim: Esim) -> roamify.RefundRequest | None:
    """After a call that got no answer: the request may exist upstream; never file a second."""
    for request in client.list_refund_requests(esim_id=esim.upstream_esim_id):
        if request.is_open or request.status == "REFUNDED":
            return request
    return None


def _get_or_none(client: roamify.RoamifyClient, refund_id: str) -> roamify.RefundRequest | None:
    try:
        return client.get_refund_request(refund_id)
    except roamify.RoamifyError:
        return None


def _describe(claim: UpstreamRefund) -> str:
    esim, cost = claim.esim, format_money(claim.cost_cents, claim.currency)
    return f"eSIM …{(esim.iccid or esim.upstream_esim_id)[-4:]} ({cost})"


def _record(
    claim: UpstreamRefund, request: roamify.RefundRequest | None, status: str, note: str
) -> UpstreamRefund:
    with transaction.atomic():
        claim = UpstreamRefund.objects.select_for_update().select_related("esim", "order").get(pk=claim.pk)
        if request is not None:
            claim.refund_id = request.id
            claim.rejection_reason = request.rejection_reason or ""
        claim.status, claim.last_error = status, ""
        if status not in UpstreamRefund.OPEN:
            claim.decided_at = timezone.now()
        claim.save()
        if status == UpstreamRefund.Status.REFUNDED:
            esims.mark_cancelled(claim.esim_id)
        state, ref = claim.get_status_display().lower(), claim.refund_id or "—"
        message = f"Asked Roamify to refund the cost of {_describe(claim)}: request {ref}, {state}"
        message += f". {note}" if note else ""
        log_event(
            claim.order,
            OrderEventKind.UPSTREAM_REFUND,
            message,
            actor=claim.requested_by,
            refund_id=claim.refund_id,
            esim_id=claim.esim.upstream_esim_id,
            status=claim.status,
        )
    return claim


def _record_failure(claim: UpstreamRefund, error: str) -> UpstreamRefund:
    with transaction.atomic():
        claim = UpstreamRefund.objects.select_for_update().select_related("esim", "order").get(pk=claim.pk)
        claim.last_error = error[:2000]
        claim.save(update_fields=["last_error", "updated_at"])
        message = f"Could not ask Roamify to refund {_describe(claim)}: {error}. Tried again within the hour."
        log_event(claim.order, OrderEventKind.UPSTREAM_REFUND_FAILED, message, actor=claim.requested_by)
    return claim


def record_upstream_refund_event(refund_id: str, status: str, reason: str = "", event_id: str = "") -> str:
    """Roamify decided a refund request (its `refund` webhook, or a look-up). Safe to repeat.

    Returns what was done: the new status, "duplicate", "unknown" (not ours) or "ignored".
    """
    new = UPSTREAM_STATUS.get((status or "").upper())
    if new is None or not refund_id:
        return "ignored"
    with transaction.atomic():
        claim = (
            UpstreamRefund.objects.select_for_update()
            .select_related("esim", "order")
            .filter(refund_id=refund_id)
            .first()
        )
        if claim is None:
            return "unknown"
        if claim.status == new:
            return "duplicate"
        if not claim.is_open:
            return "ignored"  # decided already; a late or out-of-order event changes nothing
        claim.status = new
        if new not in UpstreamRefund.OPEN:
            claim.decided_at = timezone.now()
        if new == UpstreamRefund.Status.REJECTED:
            claim.rejection_reason = (reason or "no reason given")[:2000]
        claim.save()
        if new == UpstreamRefund.Status.REFUNDED:  # Roamify took the eSIM back: it is cancelled
            esims.mark_cancelled(claim.esim_id)
        what = _describe(claim)
        message = {
            UpstreamRefund.Status.REFUNDED: f"Roamify refunded the cost of {what} (request {refund_id})",
            UpstreamRefund.Status.REJECTED: (
                f"Roamify rejected the refund request for {what} (request {refund_id}): "
                f"{claim.rejection_reason}. Its cost will not come back."
            ),
            UpstreamRefund.Status.CANCELLED: (
                f"The refund request for {what} was cancelled (request {refund_id})"
            ),
        }.get(new, f"Roamify is processing the refund request for {what} (request {refund_id})")
        log_event(
            claim.order,
            OrderEventKind.upstream_refund_became(new),
            message,
            actor="roamify",
            refund_id=refund_id,
            event_id=event_id,
            status=new,
        )
    return str(new)


def sync_upstream_refunds(older_than_seconds: int = 60) -> dict[str, int]:
    """The safety net for lost webhooks and unanswered calls: file what is still `requested`,
    and ask upstream how the open requests stand."""
    since = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    done = {"filed": 0, "decided": 0}
    for claim in UpstreamRefund.objects.filter(
        status=UpstreamRefund.Status.REQUESTED, updated_at__lt=since
    ).select_related("order", "esim"):
        filed = file_upstream_refund(claim.order, claim.esim, claim.cost_cents, actor=claim.requested_by)
        done["filed"] += bool(filed and filed.refund_id)
    client = roamify_client()
    for claim in UpstreamRefund.objects.filter(
        status__in=[UpstreamRefund.Status.PENDING, UpstreamRefund.Status.PROCESSING]
    ).exclude(refund_id=""):
        request = _get_or_none(client, claim.refund_id)
        if request is not None and record_upstream_refund_event(
            claim.refund_id, request.status, request.rejection_reason or ""
        ) in (
            UpstreamRefund.Status.REFUNDED,
            UpstreamRefund.Status.REJECTED,
            UpstreamRefund.Status.CANCELLED,
        ):
            done["decided"] += 1
    return done


def on_roamify_refund_event(
    sender, refund_id: str = "", status: str = "", reason: str = "", event_id: str = "", **kwargs
) -> None:
    """Receiver of `core.signals.roamify_refund_event` (sent by the Roamify webhook endpoint)."""
    record_upstream_refund_event(refund_id, status, reason or "", event_id)
