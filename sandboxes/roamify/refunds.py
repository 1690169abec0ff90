"""Refund requests (§2.20): one open request per eSIM, decided by Roamify support (the control
API); an approved one puts the eSIM's price back on the balance. Each decision sends a webhook."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .catalog import money, to_cents
from .config import Config
from .errors import ApiError, ControlError, failed, not_found
from .esims import Esim
from .orders import Orders

# Statuses documented; the reason list is [ASSUMPTION] until read on the docs.
REFUND_STATUSES = ("PENDING", "PROCESSING", "REFUNDED", "REJECTED", "CANCELLED")
REFUND_OPEN = ("PENDING", "PROCESSING")
REFUND_REASONS = (
    "NOT_INSTALLED",
    "CUSTOMER_REQUEST",
    "SERVICE_ISSUE",
    "WRONG_PACKAGE",
    "DUPLICATE_ORDER",
    "OTHER",
)
REFUND_ACTIONS = ("process", "approve", "reject")


@dataclass
class RefundRequest:
    id: str
    esim_id: str
    iccid: str
    order_id: str
    reason: str
    notes: str
    amount_cents: int
    status: str
    created_at: int
    updated_at: int
    rejection_reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "refundId": self.id,
            "status": self.status,
            "productType": "esim",
            "esimId": self.esim_id,
            "iccid": self.iccid,
            "orderId": self.order_id,
            "reason": self.reason,
            "notes": self.notes,
            "amount": money(self.amount_cents),
            "currency": "USD",
            "rejectionReason": self.rejection_reason or None,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }


class Refunds(Orders):
    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.refunds: dict[str, RefundRequest] = {}  # refundId -> request, oldest first

    def create_refund(self, iccid: str | None, esim_id: str | None, reason: str, notes: str) -> RefundRequest:
        """One open request per eSIM (409 names it); an eSIM refunded already is refused (422)."""
        e = self.find_esim(iccid, esim_id)
        for r in self.refunds.values():
            if r.esim_id != e.id:
                continue
            if r.status == "REFUNDED":
                raise failed(422, "eSIM has already been refunded")
            if r.status in REFUND_OPEN:
                raise ApiError(
                    409,
                    {
                        "status": "failed",
                        "refundId": r.id,
                        "message": "eSIM already has an open refund request",
                    },
                )
        now = self.now()
        r = RefundRequest(
            id=self._uuid(),
            esim_id=e.id,
            iccid=e.iccid,
            order_id=e.order_id,
            reason=reason,
            notes=notes,
            amount_cents=self._esim_price_cents(e),
            status="PENDING",
            created_at=now,
            updated_at=now,
        )
        self.refunds[r.id] = r
        return r

    def refund(self, refund_id: str) -> RefundRequest:
        r = self.refunds.get(refund_id)
        if r is None:
            raise not_found("Refund request", "refundId")
        return r

    def list_refunds(
        self, status: str | None, esim_id: str | None, iccid: str | None, limit: int
    ) -> list[RefundRequest]:
        found = [
            r
            for r in reversed(self.refunds.values())
            if (status is None or r.status == status)
            and (esim_id is None or r.esim_id == esim_id)
            and (iccid is None or r.iccid == iccid)
        ]
        return found[:limit]

    def cancel_refund(self, refund_id: str) -> RefundRequest:
        r = self.refund(refund_id)
        if r.status not in REFUND_OPEN:
            raise failed(409, f"Refund request is {r.status} and can no longer be cancelled")
        r.status, r.updated_at = "CANCELLED", self.now()  # no webhook on cancel (docs)
        return r

    def refund_action(self, refund_id: str, action: str, body: dict[str, Any]) -> RefundRequest:
        """Roamify support deciding (control API): process, approve (money back), reject (with a reason)."""
        r = self.refunds.get(refund_id)
        if r is None:
            raise ControlError(404, f"refund request {refund_id} not found")
        if action not in REFUND_ACTIONS:
            raise ControlError(404, f"unknown action {action!r}; one of {list(REFUND_ACTIONS)}")
        if r.status not in REFUND_OPEN:
            raise ControlError(409, f"refund request {r.id} is {r.status}")
        r.updated_at = self.now()
        if action == "process":
            r.status = "PROCESSING"  # no webhook (docs)
            return r
        if action == "approve":
            r.status = "REFUNDED"
            self.balance_cents += r.amount_cents  # a balance-paid order is refunded to the balance
        else:
            reason = body.get("reason", "Not eligible for a refund")
            if not isinstance(reason, str) or not reason.strip():
                raise ControlError(400, "reason must be a non-empty string")
            r.status, r.rejection_reason = "REJECTED", reason.strip()[:500]
        event_type = r.status.lower()
        self._emit(
            "refund",
            event_type,
            {
                "timestamp": r.updated_at,
                "refund_id": r.id,
                "status": r.status,
                "product_type": "esim",
                "esim_id": r.esim_id,
                "iccid": r.iccid,
                "order_id": r.order_id,
                "amount": money(r.amount_cents),
                "currency": "USD",
                "rejection_reason": r.rejection_reason or None,
            },
            event_id=f"rfd_{r.id}_{event_type}",
        )
        return r

    def _esim_price_cents(self, e: Esim) -> int:
        order = self.orders_by_id.get(e.order_id)
        for item in order.items if order else ():
            if item.esim_id == e.id:
                return item.price_cents
        return to_cents(e.package.get("price", 0))
