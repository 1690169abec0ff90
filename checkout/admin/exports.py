"""The orders export: one CSV row per order line, with the order's payments beside it."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from core.exports import in_chunks, money_cell
from payments.models import Payment

from ..models import Order, OrderLine

ORDER_HEADER = [
    "order",
    "created",
    "paid",
    "status",
    "email",
    "name",
    "currency",
    "order_total",
    "line_kind",
    "description",
    "destination",
    "quantity",
    "unit_price",
    "line_total",
    "line_cost",
    "line_margin",
    "payments",
    "refunded",
]


def order_rows(queryset: QuerySet[Order]) -> Iterable[list]:
    """One row per order line; the order's payments beside each line. Three queries per 2,000 orders."""
    for chunk in in_chunks(
        queryset.only(
            "id",
            "number",
            "created_at",
            "paid_at",
            "status",
            "email",
            "customer_name",
            "currency",
            "total_cents",
        )
    ):
        ids = [o.pk for o in chunk]
        lines: dict[int, list] = {}
        for line in (
            OrderLine.objects.filter(order_id__in=ids)
            .order_by("order_id", "id")
            .values_list(
                "order_id",
                "kind",
                "description",
                "package__destination__name",
                "quantity",
                "unit_price_cents",
                "total_cents",
                "wholesale_cents",
            )
        ):
            lines.setdefault(line[0], []).append(line)
        paid: dict[int, list[str]] = {}
        refunded: dict[int, int] = {}
        for order_id, provider, amount, back in (
            Payment.objects.filter(order_id__in=ids)
            .captured()
            .values_list("order_id", "provider", "amount_cents", "refunded_cents")
        ):
            paid.setdefault(order_id, []).append(f"{provider}:{money_cell(amount)}")
            refunded[order_id] = refunded.get(order_id, 0) + back
        for o in chunk:
            head = [
                o.number,
                o.created_at,
                o.paid_at,
                o.status,
                o.email,
                o.customer_name,
                o.currency,
                money_cell(o.total_cents),
            ]
            tail = [" ".join(paid.get(o.pk, [])), money_cell(refunded.get(o.pk, 0))]
            for _, kind, description, destination, qty, unit, total, cost in lines.get(o.pk, []):
                line_cost = cost * qty if kind != "giftcard" else 0
                yield [
                    *head,
                    kind,
                    description,
                    destination or "",
                    qty,
                    money_cell(unit),
                    money_cell(total),
                    money_cell(line_cost),
                    money_cell(total - line_cost),
                    *tail,
                ]
