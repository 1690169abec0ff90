"""The orders exports, by the books' rules (`checkout.books`): one row per order, or one per line.

Money is a decimal amount ("7.49"). The order's own amounts (its total, a line's price) are in the
order's currency (its own column); its rate, and every other figure, are in the shop's base currency at
that rate, as the books count them. Every money column adds up:
an order's figures are on its row only, and the lines CSV spreads each order's refunds and claims over
its lines so that its columns sum to the orders CSV's. The list's date filters are on the paid time.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import F, QuerySet

from core.attribution import FIELDS
from core.exports import in_chunks, money_cell
from core.money import minor_digits

from .. import books
from ..models import LineKind, Order, OrderLine, UpstreamRefund

ORDER_FIELDS = (
    "id",
    "number",
    "created_at",
    "paid_at",
    "status",
    "email",
    "customer_name",
    "currency",
    "total_cents",
    "rate_per_base",
    "base_total_cents",
    *FIELDS,
)

# The books' figures, the same columns on both CSVs (an order's, or its share on one line).
BOOKS_COLUMNS = (
    ("gross_sales", "gross_sales_cents"),  # at list price: what sold + what the discount took off
    ("discounts", "discounts_cents"),
    ("refunds", "refunds_cents"),
    ("net_revenue", "net_revenue_cents"),
    ("cost_delivered", "delivered_cost_cents"),
    ("cost_recovered", "recovered_cost_cents"),
    ("cost", "cost_cents"),
    ("margin", "margin_cents"),
    ("cost_lost", "lost_cost_cents"),
    ("gift_cards_sold", "giftcards_sold_cents"),
    ("gift_cards_refunded", "giftcard_refunds_cents"),
)


def amount_cell(amount: int, currency: str) -> str:
    """An amount in its own currency's units: 1280 yen is "1280", 1099 euro cents "10.99"."""
    return str(Decimal(amount).scaleb(-minor_digits(currency)))


def visitor_text(text: str) -> str:
    """Text anyone on the internet wrote (a landing URL's utm_campaign), as a spreadsheet shows it
    and never runs it: a leading quote before what would start a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def books_cells(money: books.OrderMoney | books.LineMoney) -> list[str]:
    return [money_cell(getattr(money, attribute)) for _, attribute in BOOKS_COLUMNS]


ORDER_HEADER = [
    "order",
    "created",
    "paid",
    "status",
    "email",
    "name",
    "currency",
    "order_total",  # in the order's currency; every column after `rate` in the base currency
    "rate",
    "base_total",
    "paid_by_card",
    "paid_by_gift_card",
    "paid_by_store_credit",
    "refunded",
    "discount_code",
    *(header for header, _ in BOOKS_COLUMNS),
    *FIELDS,  # where the visit that placed it came from (core/attribution.py)
]


def _with_code(queryset: QuerySet[Order]) -> QuerySet[Order]:
    """The orders' fields the CSVs show, their discount code's text beside them (a join, not a query)."""
    return queryset.only(*ORDER_FIELDS).annotate(code_text=F("discount_code__code"))


def order_rows(queryset: QuerySet[Order]) -> Iterable[list]:
    """One row per order, its figures from `books.with_money`: one query per 2,000 orders."""
    for chunk in in_chunks(books.with_money(_with_code(queryset))):
        for o in chunk:
            m = books.order_money(o)
            yield [
                o.number,
                o.created_at,
                o.paid_at,
                o.status,
                o.email,
                o.customer_name,
                o.currency,
                amount_cell(o.total_cents, o.currency),
                o.rate_per_base,
                money_cell(o.base_total_cents),
                money_cell(m.paid_otherwise_cents),
                money_cell(m.paid_by_giftcard_cents),
                money_cell(m.paid_by_credit_cents),
                money_cell(m.refunded_cents),
                o.code_text or "",
                *books_cells(m),
                *(visitor_text(getattr(o, name)) for name in FIELDS),
            ]


LINE_HEADER = [
    "order",
    "paid",
    "status",
    "currency",
    "line",
    "kind",
    "description",
    "destination",
    "quantity",
    "unit_price",  # in the order's currency
    "line_total",
    "base_line_total",  # and every column from here in the base currency, at the order's rate
    *(header for header, _ in BOOKS_COLUMNS),
]


def line_rows(queryset: QuerySet[Order]) -> Iterable[list]:
    """One row per order line (its order's number on each). Four queries per 2,000 orders."""
    for chunk in in_chunks(books.with_money(queryset.only(*ORDER_FIELDS))):
        ids = [o.pk for o in chunk]
        lines: dict[int, list] = {}
        for row in (
            OrderLine.objects.filter(order_id__in=ids)
            .order_by("order_id", "id")
            .values_list(
                "order_id",
                "id",
                "kind",
                "description",
                "package__destination__name",
                "quantity",
                "unit_price_cents",
                "total_cents",
                "base_total_cents",
                "wholesale_cents",
                "fulfilled_at",
                "base_discount_cents",
            )
        ):
            lines.setdefault(row[0], []).append(row)
        esims: dict[int, list[int]] = {}
        for line_id, esim_id in OrderLine.esims.through.objects.filter(
            orderline__order_id__in=ids
        ).values_list("orderline_id", "esim_id"):
            esims.setdefault(line_id, []).append(esim_id)
        claims: dict[int, list[tuple[int, str, int]]] = {}
        for order_id, esim_id, status, cost, won_later in (
            UpstreamRefund.objects.filter(
                order_id__in=ids, status__in=[UpstreamRefund.Status.REFUNDED, UpstreamRefund.Status.REJECTED]
            )
            .annotate(won_later=books.claim_won_for_its_esim())
            .values_list("order_id", "esim_id", "status", "cost_cents", "won_later")
        ):
            if status == UpstreamRefund.Status.REJECTED:
                if won_later:
                    continue
                status = "lost"
            claims.setdefault(order_id, []).append((esim_id, status, cost))
        for o in chunk:
            rows = lines.get(o.pk, [])
            facts = [
                books.LineFacts(
                    pk=line_id,
                    kind=kind,
                    total_cents=base,
                    delivered_cost_cents=cost * qty if kind != LineKind.GIFTCARD and fulfilled else 0,
                    esim_ids=esims.get(line_id, []),
                    discount_cents=discount,
                )
                for _, line_id, kind, _, _, qty, _, _, base, cost, fulfilled, discount in rows
            ]
            split = books.split_by_line(books.order_money(o), facts, claims.get(o.pk, []))
            for _, line_id, kind, description, destination, qty, unit, total, base, _, _, _ in rows:
                m = split[line_id]
                yield [
                    o.number,
                    o.paid_at,
                    o.status,
                    o.currency,
                    line_id,
                    kind,
                    description,
                    destination or "",
                    qty,
                    amount_cell(unit, o.currency),
                    amount_cell(total, o.currency),
                    money_cell(base),
                    *books_cells(m),
                ]
