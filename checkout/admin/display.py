"""How the checkout admin shows things: times in the shop's zone, inlines nobody edits."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.utils import timezone


def when(value: dt.datetime | None) -> str:
    """A time in the shop's zone, saying which ("3 Dec 2025, 14:05 UTC")."""
    return timezone.localtime(value).strftime("%-d %b %Y, %H:%M %Z") if value else "—"


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


def charged_and_base(order) -> str:
    """What the order charged, and, for an order in another currency, its base amount with the rate
    stored on it (the one the books use): "¥1,280 (= $8.53 at 1 USD = 150.0000 JPY, rate of …)"."""
    from django.conf import settings

    from core.money import format_money

    charged = format_money(order.total_cents, order.currency)
    if order.in_base_currency:
        return charged
    fetched = f", rate of {when(order.rate_fetched_at)}" if order.rate_fetched_at else ""
    base = format_money(order.base_total_cents, settings.SHOP_CURRENCY)
    rate = f"1 {settings.SHOP_CURRENCY} = {order.rate_per_base:.4f} {order.currency}"
    return f"{charged} (= {base} at {rate}{fetched})"
