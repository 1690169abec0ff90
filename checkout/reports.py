"""The owner's dashboard: sales, margin, refunds, top destinations, fulfilment health, the balance.

Every figure is an SQL aggregate (a handful of queries, whatever the number of orders),
cached for a minute. Sales count an order on the day it was paid, at the prices it was
sold for; its cost is the wholesale price frozen on its lines. Refunds count on the day
the money went back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from core.roamify_client import roamify_client
from esims import balance as balance_rule
from payments.models import PaymentRefund

from .models import Order, OrderLine, OrderStatus

CACHE_KEY = "admin:dashboard:v1"
BALANCE_KEY = "admin:upstream_balance:v3"
SOLD = (
    OrderStatus.PAID,
    OrderStatus.FULFILLING,
    OrderStatus.COMPLETED,
    OrderStatus.REQUIRES_ACTION,
    OrderStatus.REFUNDED,
)
PERIODS = (("today", "Today"), ("week", "Last 7 days"), ("month", "Last 30 days"))


@dataclass
class Figures:
    label: str
    revenue_cents: int = 0
    orders: int = 0
    cost_cents: int = 0
    refunds_cents: int = 0
    fast: int = 0  # completed within a minute of payment
    completed: int = 0

    @property
    def average_cents(self) -> int:
        return self.revenue_cents // self.orders if self.orders else 0

    @property
    def margin_cents(self) -> int:
        return self.revenue_cents - self.cost_cents

    @property
    def margin_percent(self) -> float | None:
        return round(self.margin_cents * 100 / self.revenue_cents, 1) if self.revenue_cents else None

    @property
    def fast_percent(self) -> float | None:
        return round(self.fast * 100 / self.completed, 1) if self.completed else None


@dataclass
class Dashboard:
    periods: dict[str, Figures]
    top: dict[str, list[tuple[str, int, int]]]  # period -> (destination, revenue, orders), best first
    days: list[tuple[dt.date, int]]  # revenue by day, the last 30 days, oldest first
    needing_action: list[dict] = field(default_factory=list)
    needing_action_count: int = 0
    being_fulfilled: int = 0
    currency: str = "USD"
    computed_at: dt.datetime | None = None


def period_starts(now: dt.datetime) -> dict[str, dt.datetime]:
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return {"today": today, "week": today - dt.timedelta(days=6), "month": today - dt.timedelta(days=29)}


def compute(now: dt.datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    starts = period_starts(now)
    month = starts["month"]
    sold = Order.objects.filter(status__in=SOLD, paid_at__gte=month, paid_at__lte=now)
    minute = dt.timedelta(minutes=1)
    within_minute = Q(completed_at__isnull=False) & Q(completed_at__lte=F("paid_at") + minute)
    order_sums = sold.aggregate(
        **{
            f"{key}_{name}": agg
            for key, start in starts.items()
            for name, agg in (
                ("revenue", Sum("total_cents", filter=Q(paid_at__gte=start))),
                ("orders", Count("id", filter=Q(paid_at__gte=start))),
                ("completed", Count("id", filter=Q(paid_at__gte=start, completed_at__isnull=False))),
                ("fast", Count("id", filter=Q(paid_at__gte=start) & within_minute)),
            )
        }
    )
    lines = OrderLine.objects.filter(order__in=sold)
    cost = F("wholesale_cents") * F("quantity")
    cost_sums = lines.aggregate(
        **{key: Sum(cost, filter=Q(order__paid_at__gte=start)) for key, start in starts.items()}
    )
    refund_sums = PaymentRefund.objects.filter(created_at__gte=month, created_at__lte=now).aggregate(
        **{key: Sum("amount_cents", filter=Q(created_at__gte=start)) for key, start in starts.items()}
    )
    periods = {}
    for key, label in PERIODS:
        periods[key] = Figures(
            label,
            revenue_cents=order_sums[f"{key}_revenue"] or 0,
            orders=order_sums[f"{key}_orders"] or 0,
            cost_cents=cost_sums[key] or 0,
            refunds_cents=refund_sums[key] or 0,
            fast=order_sums[f"{key}_fast"] or 0,
            completed=order_sums[f"{key}_completed"] or 0,
        )
    # Destinations: one grouped query for 30 days, with the 7 days and today beside it.
    by_destination = (
        lines.filter(package__isnull=False)
        .values("package__destination__name")
        .annotate(
            **{
                f"{key}_rev": Sum("total_cents", filter=Q(order__paid_at__gte=start))
                for key, start in starts.items()
            },
            **{
                f"{key}_n": Count("order", distinct=True, filter=Q(order__paid_at__gte=start))
                for key, start in starts.items()
            },
        )
    )
    rows = list(by_destination)
    top = {
        key: sorted(
            [
                (r["package__destination__name"], r[f"{key}_rev"] or 0, r[f"{key}_n"])
                for r in rows
                if r[f"{key}_rev"]
            ],
            key=lambda t: (-t[1], t[0]),
        )[:10]
        for key, _ in PERIODS
    }
    per_day = dict(
        sold.annotate(day=TruncDate("paid_at"))
        .values("day")
        .annotate(total=Sum("total_cents"))
        .values_list("day", "total")
    )
    first_day = timezone.localtime(month).date()
    days = [
        (first_day + dt.timedelta(days=i), per_day.get(first_day + dt.timedelta(days=i), 0) or 0)
        for i in range(30)
    ]
    action = Order.objects.needing_action().order_by("updated_at")
    needing = list(action.values("id", "number", "action_reason", "updated_at", "total_cents")[:10])
    counts = Order.objects.aggregate(
        needing=Count("id", filter=Q(status=OrderStatus.REQUIRES_ACTION)),
        fulfilling=Count("id", filter=Q(status__in=[OrderStatus.PAID, OrderStatus.FULFILLING])),
    )
    return Dashboard(
        periods, top, days, needing, counts["needing"], counts["fulfilling"], settings.SHOP_CURRENCY, now
    )


def dashboard() -> Dashboard:
    """The dashboard, computed at most once a minute."""
    found = cache.get(CACHE_KEY)
    if found is None:
        found = compute()
        cache.set(CACHE_KEY, found, settings.ADMIN_DASHBOARD_CACHE_SECONDS)
    return found


@dataclass(frozen=True)
class Balance:
    """The Roamify partner balance, and the pace of cost it is measured against (`esims.balance`)."""

    cents: int | None
    currency: str = "USD"
    error: str = ""
    daily_cost_cents: int = 0

    @property
    def low_reasons(self) -> list[str]:
        return balance_rule.low_reasons(self.cents, self.daily_cost_cents, self.currency)

    @property
    def low(self) -> bool:
        return bool(self.low_reasons)

    @property
    def days_covered(self) -> float | None:
        """How many days of sales the balance pays for, at the last 7 days' pace of wholesale cost."""
        return balance_rule.days_covered(self.cents, self.daily_cost_cents)


def daily_cost_cents(now: dt.datetime | None = None) -> int:
    """The wholesale cost of a day of sales at the last 7 days' pace: what the eSIMs and top-ups
    delivered in the last 7 days cost, over 7. Registered with `esims.balance` (checkout/apps.py),
    so the balance check that esims runs measures the balance against it."""
    since = (now or timezone.now()) - dt.timedelta(days=7)
    delivered = OrderLine.objects.filter(fulfilled_at__gte=since).aggregate(
        cost=Sum(F("wholesale_cents") * F("quantity"))
    )
    return round((delivered["cost"] or 0) / 7)


def upstream_balance() -> Balance:
    """The partner balance and the pace of cost, asked at most once a minute (the dashboard must
    not wait on upstream)."""
    found = cache.get(BALANCE_KEY)
    if found is None:
        pace = daily_cost_cents()
        try:
            money = roamify_client().balance()
            found = Balance(money.amount_cents, money.currency, daily_cost_cents=pace)
        except Exception as exc:  # the dashboard says so rather than failing
            found = Balance(None, error=f"unavailable ({type(exc).__name__})", daily_cost_cents=pace)
        cache.set(BALANCE_KEY, found, 60)
    return found


def admin_dashboard() -> dict:
    """What the admin index shows on top (templates/admin/index.html, through `{% shop_dashboard %}`)."""
    board = dashboard()
    balance = upstream_balance()
    return {
        "board": board,
        "balance": balance,
        "days_covered": balance.days_covered,
        "low_threshold_cents": settings.ROAMIFY_LOW_BALANCE_CENTS,
        "low_days": settings.ROAMIFY_LOW_BALANCE_DAYS,
    }
