"""The books: what the shop earned and what it owes, by the rules in docs/architecture.md ("The books").

One module answers every money question the admin asks (the dashboard, the order list and page, both
CSVs), so they cannot disagree:

- Gift cards are a liability, not a sale. A gift card line is money held for the card's holder;
  revenue is recognised when a card pays for an eSIM or a top-up, so eSIM and top-up lines count
  whatever paid them (a card, a gift card).
- Gross sales = eSIM and top-up lines of orders paid in the range (on the paid time) at their list
  price (what they sold for + what a discount code took off); discounts = what the codes took off
  them, their own line; net revenue = gross sales − discounts − refunds of them (on the day the money
  went back). An undiscounted order's figures are what they were before discounts.
- Cost = wholesale cost of the eSIM and top-up lines delivered (on the order's paid time) less cost
  recovered through Roamify refund requests (on the day Roamify accepted). A rejected request keeps
  the cost and is reported as lost, with its reason.
- Gross margin = net revenue − cost.
- Every figure is in the shop's base currency: an order in another currency counts at the rate stored
  on it (`Order.rate_per_base`), through the base amounts written with each row (lines, payments,
  refunds, gift card ledger entries), which are slices of the order's base total on running sums and so
  add up to it exactly: the books balance to the cent whatever the currencies.
- Gift card liability at a moment = what the cards' ledgers hold then, reserves of unpaid checkouts
  counted as still owed (a reserve becomes spent when its payment is captured). Expired balances are
  breakage, on the day the expiry job closes the card.
- Store credit (`storecredit.selectors`) likewise: credit issued (referral rewards, staff
  adjustments, refunds given back as credit) is a liability; credit spent is revenue through the
  line it pays for (like a gift card, it is one of the payments a line counts, never counted apart);
  expired credit is breakage. A refund of an order paid with credit is a refund of the sale (net
  revenue goes down) and credit owed again (issued, "refunded as credit"): it is not value given
  away. Referral rewards are credit given without a payment: a cost of growth, shown on their own.

A refund of gift card money (a revoked card's unused balance paid back to its buyer) is told from a
refund of an eSIM by its reason (`giftcards.services.revoking._refund_reason`); every other refund is
a refund of what the order's eSIMs and top-ups were paid.

Ranges are half-open, [start, end). Every figure over any number of ranges takes a fixed number of
queries (an aggregate each, one FILTER per range).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import (
    Aggregate,
    Count,
    Exists,
    Expression,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, NullIf

from giftcards.models import GiftCardTransaction
from giftcards.models import Kind as LedgerKind
from payments.models import Payment, PaymentRefund
from storecredit import selectors as credit
from storecredit.services.spending import PROVIDER as CREDIT_PROVIDER

from .models import LineKind, Order, OrderLine, OrderStatus, UpstreamRefund

GIFTCARD_PROVIDER = "giftcard"
REVENUE_KINDS = (LineKind.ESIM, LineKind.TOPUP)
# Orders that were paid (a refunded order was paid, and its refunds count against it).
PAID = (
    OrderStatus.PAID,
    OrderStatus.FULFILLING,
    OrderStatus.COMPLETED,
    OrderStatus.REQUIRES_ACTION,
    OrderStatus.REFUNDED,
)
# How a refund of a revoked card's balance is told apart (giftcards.services.revoking._refund_reason).
GIFTCARD_REFUND_REASON = r"^Gift card #[0-9]+ revoked$"
# Ledger entries that are the cards' own movements; a reserve (and its release) only holds money for
# a checkout that is not paid yet: the money is spent when the gift card payment is captured.
HELD_KINDS = (LedgerKind.RESERVE, LedgerKind.RELEASE, LedgerKind.CAPTURE)

Range = tuple[dt.datetime, dt.datetime]
# What a captured payment still holds (`unpaid_held_cents`).
UNPAID_HELD = F("base_amount_cents") - F("base_refunded_cents")


def _cents(value) -> int:
    return int(value or 0)


def _percent(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None


class Margin:
    """The rules every set of figures shares (a range, an order, a line): net revenue = gross sales
    (list price) − discounts − refunds; cost = wholesale cost delivered − cost recovered from Roamify;
    margin = net revenue − cost."""

    gross_sales_cents: int
    discounts_cents: int
    refunds_cents: int
    delivered_cost_cents: int
    recovered_cost_cents: int

    @property
    def net_revenue_cents(self) -> int:
        return self.gross_sales_cents - self.discounts_cents - self.refunds_cents

    @property
    def cost_cents(self) -> int:
        return self.delivered_cost_cents - self.recovered_cost_cents

    @property
    def margin_cents(self) -> int:
        return self.net_revenue_cents - self.cost_cents

    @property
    def margin_percent(self) -> float | None:
        return _percent(self.margin_cents, self.net_revenue_cents)


# --- Figures over a range --------------------------------------------------------------------------


@dataclass
class Books(Margin):
    """The figures of one date range. Money in minor units of the shop's base currency."""

    start: dt.datetime
    end: dt.datetime
    label: str = ""
    gross_sales_cents: int = 0  # eSIM and top-up lines of orders paid in the range, at list price
    discounts_cents: int = 0  # what discount codes took off them
    refunds_cents: int = 0  # refunds of them, on the day the money went back
    delivered_cost_cents: int = 0  # wholesale cost of the eSIM and top-up lines delivered
    recovered_cost_cents: int = 0  # Roamify refund requests accepted in the range
    lost_cost_cents: int = 0  # Roamify refund requests rejected in the range (the cost stays)
    giftcards_sold_cents: int = 0  # gift card lines of orders paid in the range
    giftcard_refunds_cents: int = 0  # unused balances of revoked cards paid back to their buyers
    giftcards_spent_cents: int = 0  # gift card payments captured (what cards paid for)
    giftcards_unpaid_cents: int = 0  # value added to cards without a payment: by hand, adjusted
    breakage_cents: int = 0  # balances expired in the range
    liability_start_cents: int = 0
    liability_end_cents: int = 0  # gift card liability outstanding at the range's end
    credit_spent_cents: int = 0  # store credit payments captured (what credit paid for)
    credit_rewards_cents: int = 0  # referral rewards given (a cost of growth, not revenue)
    credit_adjusted_cents: int = 0  # staff adjustments, up less down
    credit_refunded_cents: int = 0  # refunds of orders paid with credit, given back as credit
    credit_breakage_cents: int = 0  # store credit expired in the range
    credit_liability_start_cents: int = 0
    credit_liability_end_cents: int = 0  # store credit the accounts hold at the range's end
    orders: int = 0  # orders paid in the range (gift cards alone too)
    sale_orders: int = 0  # of which with an eSIM or a top-up
    completed: int = 0
    fast: int = 0  # completed within a minute of payment
    unpaid_held_cents: int = 0  # `unpaid_held_cents()` as it stands now (not of the range): read with them

    @property
    def liability_change_cents(self) -> int:
        return self.liability_end_cents - self.liability_start_cents

    @property
    def credit_issued_cents(self) -> int:
        return self.credit_rewards_cents + self.credit_adjusted_cents + self.credit_refunded_cents

    @property
    def credit_granted_cents(self) -> int:
        """Credit given without a payment for it (rewards, adjustments)."""
        return self.credit_rewards_cents + self.credit_adjusted_cents

    @property
    def credit_liability_change_cents(self) -> int:
        return self.credit_liability_end_cents - self.credit_liability_start_cents

    @property
    def average_cents(self) -> int:
        return self.gross_sales_cents // self.sale_orders if self.sale_orders else 0

    @property
    def fast_percent(self) -> float | None:
        return _percent(self.fast, self.completed)


def claim_won_for_its_esim() -> Exists:
    """Whether Roamify accepted a refund request for the claim's eSIM: a rejected request followed
    by an accepted one loses no cost."""
    return Exists(UpstreamRefund.objects.filter(esim=OuterRef("esim"), status=UpstreamRefund.Status.REFUNDED))


def _in(name: str, span: Range) -> Q:
    return Q(**{f"{name}__gte": span[0], f"{name}__lt": span[1]})


def books(ranges: Mapping[str, Range]) -> dict[str, Books]:
    """The figures of each named range, in six queries whatever the number of ranges or orders."""
    if not ranges:
        return {}
    found = {key: Books(start, end) for key, (start, end) in ranges.items()}
    earliest = min(start for start, _ in ranges.values())
    latest = max(end for _, end in ranges.values())

    # 1. Sales and delivered cost, on the order's paid time; the orders themselves.
    lines = OrderLine.objects.filter(
        order__status__in=PAID, order__paid_at__gte=earliest, order__paid_at__lt=latest
    )
    revenue = Q(kind__in=REVENUE_KINDS)
    list_price = F("base_total_cents") + F("base_discount_cents")
    minute = dt.timedelta(minutes=1)
    fast = Q(order__completed_at__isnull=False, order__completed_at__lte=F("order__paid_at") + minute)
    sums = lines.aggregate(
        **{
            f"{key}_{name}": agg
            for key, span in ranges.items()
            for name, agg in (
                ("gross", Sum(list_price, filter=_in("order__paid_at", span) & revenue)),
                ("discounts", Sum("base_discount_cents", filter=_in("order__paid_at", span) & revenue)),
                (
                    "sold",
                    Sum("base_total_cents", filter=_in("order__paid_at", span) & Q(kind=LineKind.GIFTCARD)),
                ),
                (
                    "cost",
                    Sum(
                        F("wholesale_cents") * F("quantity"),
                        filter=_in("order__paid_at", span) & revenue & Q(fulfilled_at__lt=span[1]),
                    ),
                ),
                ("orders", Count("order", distinct=True, filter=_in("order__paid_at", span))),
                ("sale_orders", Count("order", distinct=True, filter=_in("order__paid_at", span) & revenue)),
                (
                    "completed",
                    Count(
                        "order",
                        distinct=True,
                        filter=_in("order__paid_at", span) & Q(order__completed_at__isnull=False),
                    ),
                ),
                ("fast", Count("order", distinct=True, filter=_in("order__paid_at", span) & fast)),
            )
        }
    )
    # 2. Refunds we made, on the day the money went back; gift card money told apart by its reason.
    gift_refund = Q(reason__regex=GIFTCARD_REFUND_REASON)
    # Money sent back on an order never paid is no refund of a sale (`unpaid_held_cents`).
    refunded = PaymentRefund.objects.filter(
        created_at__gte=earliest, created_at__lt=latest, payment__order__paid_at__isnull=False
    ).aggregate(
        **{
            f"{key}_all": Sum("base_amount_cents", filter=_in("created_at", span))
            for key, span in ranges.items()
        },
        **{
            f"{key}_gift": Sum("base_amount_cents", filter=_in("created_at", span) & gift_refund)
            for key, span in ranges.items()
        },
    )
    # 3. Refunds made at the provider (Stripe's dashboard) have no row of ours: they count on the day
    # we heard of them (the payment's last change). Gift card and store credit payments captured: what
    # cards and credit paid for.
    ours = (
        PaymentRefund.objects.filter(payment=OuterRef("pk"))
        .values("payment")
        .annotate(s=Sum("base_amount_cents"))
        .values("s")
    )
    payments = (
        Payment.objects.captured()
        .annotate(ours=Coalesce(Subquery(ours, output_field=IntegerField()), Value(0)))
        .aggregate(
            **{
                f"{key}_outside": Sum(
                    F("base_refunded_cents") - F("ours"),
                    filter=_in("updated_at", span)
                    & Q(base_refunded_cents__gt=F("ours"), order__paid_at__isnull=False),
                )
                for key, span in ranges.items()
            },
            **{
                f"{key}_spent": Sum(
                    "base_amount_cents", filter=Q(provider=GIFTCARD_PROVIDER) & _in("captured_at", span)
                )
                for key, span in ranges.items()
            },
            # Money held on orders never paid in full now (`unpaid_held_cents`): no query of its own.
            unpaid_held=Sum(UNPAID_HELD, filter=Q(order__paid_at__isnull=True)),
            **{
                f"{key}_credit": Sum(
                    "base_amount_cents", filter=Q(provider=CREDIT_PROVIDER) & _in("captured_at", span)
                )
                for key, span in ranges.items()
            },
            **{
                f"{key}_spent_before": Sum(
                    "base_amount_cents", filter=Q(provider=GIFTCARD_PROVIDER, captured_at__lt=span[0])
                )
                for key, span in ranges.items()
            },
        )
    )
    # 4. The gift card ledger: liability at each range's start (and its movements within it).
    ledger = GiftCardTransaction.objects.exclude(kind__in=HELD_KINDS).aggregate(
        **{
            f"{key}_before": Sum("base_amount_cents", filter=Q(created_at__lt=span[0]))
            for key, span in ranges.items()
        },
        **{
            f"{key}_moved": Sum("base_amount_cents", filter=_in("created_at", span))
            for key, span in ranges.items()
        },
        **{
            f"{key}_expired": Sum(
                "base_amount_cents", filter=_in("created_at", span) & Q(kind=LedgerKind.EXPIRE)
            )
            for key, span in ranges.items()
        },
        **{
            f"{key}_unpaid": Sum(
                "base_amount_cents",
                filter=_in("created_at", span)
                & (
                    Q(kind=LedgerKind.ADJUST)
                    | Q(kind__in=[LedgerKind.ISSUE, LedgerKind.REVOKE], card__order__isnull=True)
                ),
            )
            for key, span in ranges.items()
        },
    )
    # 5. Roamify's answers to refund requests: cost recovered, or lost (unless a later request won).
    claims = (
        UpstreamRefund.objects.filter(decided_at__gte=earliest, decided_at__lt=latest)
        .annotate(won_later=claim_won_for_its_esim())
        .aggregate(
            **{
                f"{key}_recovered": Sum(
                    "cost_cents", filter=_in("decided_at", span) & Q(status=UpstreamRefund.Status.REFUNDED)
                )
                for key, span in ranges.items()
            },
            **{
                f"{key}_lost": Sum(
                    "cost_cents",
                    filter=_in("decided_at", span)
                    & Q(status=UpstreamRefund.Status.REJECTED, won_later=False),
                )
                for key, span in ranges.items()
            },
        )
    )
    # 6. The store credit ledger: liability at each range's start and end, credit issued, expired.
    credits = credit.ledger_figures(ranges)
    for key, b in found.items():
        b.gross_sales_cents = _cents(sums[f"{key}_gross"])
        b.discounts_cents = _cents(sums[f"{key}_discounts"])
        b.giftcards_sold_cents = _cents(sums[f"{key}_sold"])
        b.delivered_cost_cents = _cents(sums[f"{key}_cost"])
        b.orders, b.sale_orders, b.completed, b.fast = (
            _cents(sums[f"{key}_{n}"]) for n in ("orders", "sale_orders", "completed", "fast")
        )
        b.giftcard_refunds_cents = _cents(refunded[f"{key}_gift"])
        b.refunds_cents = (
            _cents(refunded[f"{key}_all"]) - b.giftcard_refunds_cents + _cents(payments[f"{key}_outside"])
        )
        b.giftcards_spent_cents = _cents(payments[f"{key}_spent"])
        b.breakage_cents = -_cents(ledger[f"{key}_expired"])
        b.giftcards_unpaid_cents = _cents(ledger[f"{key}_unpaid"])
        b.liability_start_cents = _cents(ledger[f"{key}_before"]) - _cents(payments[f"{key}_spent_before"])
        b.liability_end_cents = (
            b.liability_start_cents + _cents(ledger[f"{key}_moved"]) - b.giftcards_spent_cents
        )
        b.recovered_cost_cents = _cents(claims[f"{key}_recovered"])
        b.lost_cost_cents = _cents(claims[f"{key}_lost"])
        c = credits[key]
        b.credit_spent_cents = _cents(payments[f"{key}_credit"])
        b.unpaid_held_cents = _cents(payments["unpaid_held"])
        b.credit_rewards_cents = c.issued.rewards_cents
        b.credit_adjusted_cents = c.issued.adjusted_cents
        b.credit_refunded_cents = c.issued.refunded_as_credit_cents
        b.credit_breakage_cents = c.breakage_cents
        b.credit_liability_start_cents = c.liability_start_cents
        b.credit_liability_end_cents = c.liability_end_cents
    return found


def books_between(start: dt.datetime, end: dt.datetime) -> Books:
    return books({"range": (start, end)})["range"]


@dataclass(frozen=True)
class LostClaim:
    order_id: int
    order_number: str
    cost_cents: int
    currency: str
    reason: str
    decided_at: dt.datetime


def lost_claims(span: Range, limit: int = 20) -> list[LostClaim]:
    """Refund requests Roamify rejected in the range (and no later one won): the cost kept, and why."""
    rows = (
        UpstreamRefund.objects.filter(_in("decided_at", span), status=UpstreamRefund.Status.REJECTED)
        .exclude(claim_won_for_its_esim())
        .order_by("-decided_at")
        .values_list("order_id", "order__number", "cost_cents", "currency", "rejection_reason", "decided_at")
    )
    return [LostClaim(*row) for row in rows[:limit]]


def undelivered_cents(end: dt.datetime) -> int:
    """Money held for paid orders not delivered by `end`: their undelivered lines (gift cards not yet
    issued too), less what was refunded on those orders. The term that makes the books balance while
    orders are still being fulfilled."""
    lines = list(
        OrderLine.objects.filter(order__status__in=PAID, order__paid_at__lt=end)
        .filter(
            Q(kind__in=REVENUE_KINDS) & (Q(fulfilled_at__isnull=True) | Q(fulfilled_at__gte=end))
            | Q(kind=LineKind.GIFTCARD) & (Q(gift_card__isnull=True) | Q(gift_card__created_at__gte=end))
        )
        .values_list("order_id", "base_total_cents")
    )
    held: dict[int, int] = {}
    for order_id, total in lines:
        held[order_id] = held.get(order_id, 0) + total
    if not held:
        return 0
    back: dict[int, int] = {}
    for order_id, amount in PaymentRefund.objects.filter(
        payment__order_id__in=held, created_at__lt=end
    ).values_list("payment__order_id", "base_amount_cents"):
        back[order_id] = back.get(order_id, 0) + amount
    return sum(max(0, cents - back.get(order_id, 0)) for order_id, cents in held.items())


def unpaid_held_cents() -> int:
    """Money held now on orders never paid in full: captured after the order was cancelled, or not
    what it cost (another amount or currency), less what went back. It is no sale (what goes back on
    it is no refund of one) and no liability, but money staff must refund or deliver for (the order
    needs action): the term that keeps the books balanced meanwhile."""
    held = Payment.objects.captured().filter(order__paid_at__isnull=True)
    return _cents(held.aggregate(s=Sum(UNPAID_HELD))["s"])


# --- One order's figures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderMoney(Margin):
    """An order's figures by the same rules, whenever its refunds and claims happened: in the base
    currency at the order's own rate, like every figure of the books."""

    currency: str
    total_cents: int = 0
    gross_sales_cents: int = 0  # its eSIMs and top-ups at list price
    discounts_cents: int = 0  # what its discount code took off them
    giftcards_sold_cents: int = 0
    refunded_cents: int = 0  # all money sent back on its payments (back as credit too)
    giftcard_refunds_cents: int = 0
    delivered_cost_cents: int = 0
    recovered_cost_cents: int = 0
    lost_cost_cents: int = 0
    paid_by_giftcard_cents: int = 0
    paid_by_credit_cents: int = 0  # by store credit
    paid_otherwise_cents: int = 0  # by card (or another provider)

    @property
    def refunds_cents(self) -> int:
        """Refunds of its eSIMs and top-ups (the rest of what went back was gift card money)."""
        return self.refunded_cents - self.giftcard_refunds_cents

    @property
    def has_sales(self) -> bool:
        return bool(self.gross_sales_cents)


ORDER_MONEY_FIELDS = (
    "m_gross",
    "m_discounts",
    "m_sold",
    "m_refunded",
    "m_gift_refunds",
    "m_cost",
    "m_recovered",
    "m_lost",
    "m_by_giftcard",
    "m_by_credit",
    "m_otherwise",
)


def _sum_of(queryset: QuerySet, expression, order_field: str = "order") -> Coalesce:
    """The sum of `expression` over `queryset` (rows of the outer order) as a subquery."""
    summed = queryset.values(order_field).annotate(s=Sum(expression)).values("s")
    return Coalesce(Subquery(summed, output_field=IntegerField()), Value(0))


def with_money(queryset: QuerySet[Order]) -> QuerySet[Order]:
    """Orders annotated with what `order_money` reads (one subquery a figure, no query per order)."""
    return queryset.annotate(**_order_figures())


def _order_figures() -> dict:
    """An order's figures as subqueries on the outer order (`with_money`, `sales_by`)."""
    lines = OrderLine.objects.filter(order=OuterRef("pk"))
    captured = Payment.objects.captured().filter(order=OuterRef("pk"))
    refunds = PaymentRefund.objects.filter(
        payment__order=OuterRef("pk"), reason__regex=GIFTCARD_REFUND_REASON
    )
    claims = UpstreamRefund.objects.filter(order=OuterRef("pk"))
    return dict(
        m_gross=_sum_of(
            lines.filter(kind__in=REVENUE_KINDS), F("base_total_cents") + F("base_discount_cents")
        ),
        m_discounts=_sum_of(lines.filter(kind__in=REVENUE_KINDS), "base_discount_cents"),
        m_sold=_sum_of(lines.filter(kind=LineKind.GIFTCARD), "base_total_cents"),
        m_cost=_sum_of(
            lines.filter(kind__in=REVENUE_KINDS, fulfilled_at__isnull=False),
            F("wholesale_cents") * F("quantity"),
        ),
        m_refunded=_sum_of(captured, "base_refunded_cents"),
        m_by_giftcard=_sum_of(captured.filter(provider=GIFTCARD_PROVIDER), "base_amount_cents"),
        m_by_credit=_sum_of(captured.filter(provider=CREDIT_PROVIDER), "base_amount_cents"),
        m_otherwise=_sum_of(
            captured.exclude(provider__in=[GIFTCARD_PROVIDER, CREDIT_PROVIDER]), "base_amount_cents"
        ),
        m_gift_refunds=_sum_of(refunds, "base_amount_cents", "payment__order"),
        m_recovered=_sum_of(claims.filter(status=UpstreamRefund.Status.REFUNDED), "cost_cents"),
        m_lost=_sum_of(
            claims.filter(status=UpstreamRefund.Status.REJECTED).exclude(claim_won_for_its_esim()),
            "cost_cents",
        ),
    )


def order_money(order: Order) -> OrderMoney:
    """The order's figures: from `with_money`'s annotations when it has them, else read now."""
    if not hasattr(order, "m_gross"):
        order = with_money(Order.objects.filter(pk=order.pk)).get()
    return OrderMoney(
        currency=settings.SHOP_CURRENCY,
        total_cents=order.base_total_cents,
        gross_sales_cents=order.m_gross,
        discounts_cents=order.m_discounts,
        giftcards_sold_cents=order.m_sold,
        refunded_cents=order.m_refunded,
        giftcard_refunds_cents=order.m_gift_refunds,
        delivered_cost_cents=order.m_cost,
        recovered_cost_cents=order.m_recovered,
        lost_cost_cents=order.m_lost,
        paid_by_giftcard_cents=order.m_by_giftcard,
        paid_by_credit_cents=order.m_by_credit,
        paid_otherwise_cents=order.m_otherwise,
    )


# --- Sales by where they came from (attribution) --------------------------------------------------

# What a breakdown groups orders by, and what it calls the orders with nothing there. The source is
# the campaign's `utm_source`, else the referring site; the code is the order's discount code. Another
# breakdown is one more entry here and one more name in the dashboard's call.
BREAKDOWNS: dict[str, tuple[Expression, str]] = {
    "source": (
        Coalesce(NullIf("utm_source", Value("")), NullIf("referrer", Value("")), Value("")),
        "(direct)",
    ),
    "campaign": (F("utm_campaign"), "(none)"),
    "code": (F("discount_code__code"), "(no code)"),
}


CHANNEL_FIGURES = ("m_gross", "m_discounts", "m_refunded", "m_gift_refunds", "m_cost", "m_recovered")


@dataclass
class Channel(Margin):
    """The orders of one source (campaign, ...) paid in one range, each by its own figures
    (`OrderMoney`: its refunds and recovered cost whenever they happened)."""

    name: str
    orders: int = 0  # paid in the range (gift cards alone too)
    gross_sales_cents: int = 0
    discounts_cents: int = 0
    refunds_cents: int = 0
    delivered_cost_cents: int = 0
    recovered_cost_cents: int = 0


def sales_by(names: Iterable[str], ranges: Mapping[str, Range]) -> dict[str, dict[str, list[Channel]]]:
    """For each breakdown in `names` (`BREAKDOWNS`), each range's channels, best gross sales first.

    One query whatever the number of breakdowns and ranges: the orders paid in any of the ranges,
    grouped by every breakdown's value at once, summed per range; each breakdown is rolled up from
    those groups here (every order is in exactly one group, so the sums and counts are exact).
    """
    names = tuple(names)
    if not ranges or not names:
        return {name: {key: [] for key in ranges} for name in names}
    earliest = min(start for start, _ in ranges.values())
    latest = max(end for _, end in ranges.values())
    figures = _order_figures()

    def sums(span: Range) -> dict[str, Aggregate]:
        within = _in("paid_at", span)
        return {
            "orders": Count("id", filter=within),
            "gross": Sum("m_gross", filter=within),
            "discounts": Sum("m_discounts", filter=within),
            "refunds": Sum(F("m_refunded") - F("m_gift_refunds"), filter=within),
            "cost": Sum("m_cost", filter=within),
            "recovered": Sum("m_recovered", filter=within),
        }

    groups = (
        Order.objects.filter(status__in=PAID, paid_at__gte=earliest, paid_at__lt=latest)
        .alias(**{k: figures[k] for k in CHANNEL_FIGURES})
        .annotate(**{f"b_{name}": BREAKDOWNS[name][0] for name in names})
        .values(*(f"b_{name}" for name in names))
        .annotate(
            **{
                f"{key}_{figure}": aggregate
                for key, span in ranges.items()
                for figure, aggregate in sums(span).items()
            }
        )
        .order_by()
    )
    found: dict[str, dict[str, dict[str, Channel]]] = {name: {key: {} for key in ranges} for name in names}
    for row in groups:
        for name in names:
            label = row[f"b_{name}"] or BREAKDOWNS[name][1]
            for key in ranges:
                if not row[f"{key}_orders"]:
                    continue
                channel = found[name][key].setdefault(label, Channel(label))
                channel.orders += row[f"{key}_orders"]
                channel.gross_sales_cents += _cents(row[f"{key}_gross"])
                channel.discounts_cents += _cents(row[f"{key}_discounts"])
                channel.refunds_cents += _cents(row[f"{key}_refunds"])
                channel.delivered_cost_cents += _cents(row[f"{key}_cost"])
                channel.recovered_cost_cents += _cents(row[f"{key}_recovered"])
    return {
        name: {
            key: sorted(channels.values(), key=lambda c: (-c.gross_sales_cents, -c.orders, c.name))
            for key, channels in by_range.items()
        }
        for name, by_range in found.items()
    }


# --- One line's figures (the lines CSV) ------------------------------------------------------------


@dataclass
class LineMoney(Margin):
    gross_sales_cents: int = 0
    discounts_cents: int = 0
    giftcards_sold_cents: int = 0
    refunds_cents: int = 0
    giftcard_refunds_cents: int = 0
    delivered_cost_cents: int = 0
    recovered_cost_cents: int = 0
    lost_cost_cents: int = 0


@dataclass
class LineFacts:
    """What `split_by_line` needs of a line."""

    pk: int
    kind: str
    total_cents: int  # what it sold for (after its discount), base currency
    delivered_cost_cents: int
    discount_cents: int = 0  # what the discount took off it, base currency
    esim_ids: list[int] = field(default_factory=list)


def share_out(amount: int, weights: list[int]) -> list[int]:
    """`amount` split in proportion to `weights`, in whole cents that add up to it exactly
    (largest remainders first; the first lines win a tie)."""
    whole = sum(weights)
    if not amount or not whole:
        return [0] * len(weights)
    exact = [amount * w / whole for w in weights]
    parts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[: amount - sum(parts)]:
        parts[i] += 1
    return parts


def _weights(lines: list[LineFacts]) -> list[int]:
    weights = [line.total_cents for line in lines]
    return weights if sum(weights) else [1] * len(lines)


def split_by_line(
    money: OrderMoney, lines: Iterable[LineFacts], claims: Iterable[tuple[int, str, int]]
) -> dict[int, LineMoney]:
    """The order's figures spread over its lines so that every column adds up to the order's.

    Refunds of eSIMs and top-ups go to those lines in proportion to their price (refunds are made by
    amount); gift card money refunded to the gift card lines likewise; a Roamify claim's recovered or
    lost cost to the line that delivered its eSIM. `claims` are (esim id, status, cost).
    """
    lines = list(lines)
    out = {line.pk: LineMoney() for line in lines}
    sales = [line for line in lines if line.kind in REVENUE_KINDS]
    cards = [line for line in lines if line.kind == LineKind.GIFTCARD]
    for line in sales:
        out[line.pk].gross_sales_cents = line.total_cents + line.discount_cents
        out[line.pk].discounts_cents = line.discount_cents
        out[line.pk].delivered_cost_cents = line.delivered_cost_cents
    for line in cards:
        out[line.pk].giftcards_sold_cents = line.total_cents
    # An order with no line of the kind (never expected) still keeps its refund on some line.
    takers = sales or lines
    for line, part in zip(takers, share_out(money.refunds_cents, _weights(takers)), strict=True):
        out[line.pk].refunds_cents = part
    takers = cards or lines
    for line, part in zip(takers, share_out(money.giftcard_refunds_cents, _weights(takers)), strict=True):
        out[line.pk].giftcard_refunds_cents = part
    by_esim = {esim_id: line.pk for line in sales for esim_id in line.esim_ids}
    fallback = sales[0].pk if sales else None
    for esim_id, status, cost in claims:
        pk = by_esim.get(esim_id, fallback)
        if pk is None:
            continue
        if status == UpstreamRefund.Status.REFUNDED:
            out[pk].recovered_cost_cents += cost
        elif status == "lost":
            out[pk].lost_cost_cents += cost
    return out
