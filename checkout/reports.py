"""The owner's dashboard: the books (`checkout.books`) for today, 7 and 30 days and a chosen range,
sales by source, by campaign (attribution) and by discount code for the same ranges, top destinations,
sales by day, fulfilment health, the balance.

Every figure is an SQL aggregate (a handful of queries, whatever the number of orders), cached for a
minute. The rules (gift cards and store credit are a liability, discounts and refunds reduce revenue,
Roamify claims count) are `books`'s.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy

from catalog import selectors as catalog_selectors
from core.roamify_client import roamify_client
from esims import balance as balance_rule

from . import books as ledger
from .books import Books, Channel, LostClaim, Range
from .models import Order, OrderLine, OrderStatus

CACHE_KEY = "admin:dashboard:v4"  # v4: discounts and store credit in the books
BALANCE_KEY = "admin:upstream_balance:v3"
PERIODS = (("today", "Today"), ("week", "Last 7 days"), ("month", "Last 30 days"))
CUSTOM = "custom"
# The breakdowns shown (`books.BREAKDOWNS`), all in one query.
CHANNEL_BREAKDOWNS = (
    ("source", gettext_lazy("Sales by source"), gettext_lazy("Source")),
    ("campaign", gettext_lazy("Sales by campaign"), gettext_lazy("Campaign")),
    ("code", gettext_lazy("Sales by discount code"), gettext_lazy("Discount code")),
)
CHANNEL_ROWS = 20  # the best by gross sales in the widest range shown


@dataclass(frozen=True)
class ChannelRow:
    name: str
    cells: list[tuple[str, Channel | None]]  # (range key, its figures) in the dashboard's order


@dataclass(frozen=True)
class ChannelTable:
    key: str
    title: str
    column: str
    rows: list[ChannelRow]


@dataclass
class Dashboard:
    periods: dict[str, Books]  # today, week, month and (when asked) custom, in that order
    labels: dict[str, str]
    top: dict[str, list[tuple[str, int, int]]]  # period -> (destination, revenue, orders), best first
    days: list[tuple[dt.date, int]]  # gross sales (list price) by day, the last 30 days, oldest first
    lost_claims: list[LostClaim] = field(default_factory=list)  # in the widest range shown
    channels: list[ChannelTable] = field(default_factory=list)  # sales by source, campaign, code
    needing_action: list[dict] = field(default_factory=list)
    needing_action_count: int = 0
    unpaid_held_cents: int = 0  # money taken on orders never paid in full (books.unpaid_held_cents)
    prices_to_review: int = 0  # packages a sync wanted to raise past PRICE_RISE_REVIEW_PERCENT
    being_fulfilled: int = 0
    currency: str = "USD"
    computed_at: dt.datetime | None = None


def day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def period_ranges(now: dt.datetime) -> dict[str, Range]:
    """Today, the last 7 days and the last 30 days, each up to the end of today."""
    today = timezone.localtime(now).date()
    end = day_start(today + dt.timedelta(days=1))
    return {
        "today": (day_start(today), end),
        "week": (day_start(today - dt.timedelta(days=6)), end),
        "month": (day_start(today - dt.timedelta(days=29)), end),
    }


def date_range(first: dt.date, last: dt.date) -> Range:
    """From the start of `first` to the end of `last` (both days included)."""
    return day_start(first), day_start(last + dt.timedelta(days=1))


def compute(now: dt.datetime | None = None, custom: tuple[dt.date, dt.date] | None = None) -> Dashboard:
    now = now or timezone.now()
    ranges = period_ranges(now)
    labels = dict(PERIODS)
    if custom is not None:
        ranges[CUSTOM] = date_range(*custom)
        first, last = custom
        labels[CUSTOM] = (
            f"{first:%-d %b} – {last:%-d %b %Y}"
            if first.year == last.year
            else f"{first:%-d %b %Y} – {last:%-d %b %Y}"
        )
    periods = ledger.books(ranges)
    for key, figures in periods.items():
        figures.label = labels[key]
    month_start, month_end = ranges["month"]
    # Destinations: one grouped query for 30 days, with the 7 days and today beside it.
    sales = OrderLine.objects.filter(
        kind__in=ledger.REVENUE_KINDS,
        order__status__in=ledger.PAID,
        order__paid_at__gte=month_start,
        order__paid_at__lt=month_end,
    )
    by_destination = sales.values("package__destination__name").annotate(
        **{
            f"{key}_rev": Sum("base_total_cents", filter=Q(order__paid_at__gte=ranges[key][0]))
            for key, _ in PERIODS
        },
        **{
            f"{key}_n": Count("order", distinct=True, filter=Q(order__paid_at__gte=ranges[key][0]))
            for key, _ in PERIODS
        },
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
        sales.annotate(day=TruncDate("order__paid_at"))
        .values("day")
        .annotate(total=Sum(F("base_total_cents") + F("base_discount_cents")))
        .values_list("day", "total")
    )
    first_day = timezone.localtime(month_start).date()
    days = [
        (first_day + dt.timedelta(days=i), per_day.get(first_day + dt.timedelta(days=i), 0) or 0)
        for i in range(30)
    ]
    widest = ranges[CUSTOM] if custom is not None else ranges["month"]
    channels = channel_tables(ranges, CUSTOM if custom is not None else "month")
    action = Order.objects.needing_action().order_by("updated_at")
    needing = list(action.values("id", "number", "action_reason", "updated_at", "total_cents")[:10])
    counts = Order.objects.aggregate(
        needing=Count("id", filter=Q(status=OrderStatus.REQUIRES_ACTION)),
        fulfilling=Count("id", filter=Q(status__in=[OrderStatus.PAID, OrderStatus.FULFILLING])),
    )
    return Dashboard(
        periods=periods,
        labels=labels,
        top=top,
        days=days,
        lost_claims=ledger.lost_claims(widest),
        channels=channels,
        needing_action=needing,
        needing_action_count=counts["needing"],
        unpaid_held_cents=periods["today"].unpaid_held_cents,  # read with the books
        being_fulfilled=counts["fulfilling"],
        prices_to_review=catalog_selectors.packages_awaiting_price_review().count(),
        currency=settings.SHOP_CURRENCY,
        computed_at=now,
    )


def channel_tables(ranges: dict[str, Range], widest: str) -> list[ChannelTable]:
    """Sales, margin and orders by source, campaign and code in each range (one query: `books.sales_by`),
    a row per name, the best in the widest range first."""
    found = ledger.sales_by([key for key, _, _ in CHANNEL_BREAKDOWNS], ranges)
    tables = []
    for key, title, column in CHANNEL_BREAKDOWNS:
        by_range = {k: {c.name: c for c in channels} for k, channels in found[key].items()}
        # The widest range's names first (a chosen range need not hold today's), then the others'.
        names = dict.fromkeys(c.name for k in (widest, *ranges) for c in found[key][k])
        rows = [ChannelRow(n, [(k, by_range[k].get(n)) for k in ranges]) for n in list(names)[:CHANNEL_ROWS]]
        tables.append(ChannelTable(key, title, column, rows))
    return tables


def dashboard(custom: tuple[dt.date, dt.date] | None = None) -> Dashboard:
    """The dashboard, computed at most once a minute (for each range asked)."""
    key = CACHE_KEY if custom is None else f"{CACHE_KEY}:{custom[0]:%Y%m%d}-{custom[1]:%Y%m%d}"
    found = cache.get(key)
    if found is None:
        found = compute(custom=custom)
        cache.set(key, found, settings.ADMIN_DASHBOARD_CACHE_SECONDS)
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


def admin_dashboard(custom: tuple[dt.date, dt.date] | None = None) -> dict:
    """What the admin index shows on top (templates/admin/index.html, through `{% shop_dashboard %}`);
    `custom`: a range of days (first, last) shown beside today, 7 and 30 days."""
    board = dashboard(custom)
    balance = upstream_balance()
    return {
        "board": board,
        "balance": balance,
        "days_covered": balance.days_covered,
        "low_threshold_cents": settings.ROAMIFY_LOW_BALANCE_CENTS,
        "low_days": settings.ROAMIFY_LOW_BALANCE_DAYS,
        "price_review_url": catalog_selectors.price_review_admin_url(),
    }
