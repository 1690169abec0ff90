"""Refreshing exchange rates from Roamify (the domain action; the Celery task only calls it).

One call for the supported currencies and one for every rate from the shop's base currency (a
pair the answer left out is asked on its own). Each offered currency's row is overwritten with
the rate and `fetched_at` = now; `rate_at` keeps the time upstream says the rate is for, and a
rate is as old as the older of the two (catalog/currency.py). A currency Roamify no longer lists
is marked unsupported, not deleted. The rates go to the cache before the catalog version is
bumped, so no page is rendered at the new version with the old rates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

import roamify
from core.roamify_client import roamify_client

from .cache import bump_catalog_version
from .currency import RateUnavailable, base_currency, current_rate, store_in_cache
from .models import ExchangeRate

logger = logging.getLogger(__name__)


@dataclass
class RefreshResult:
    stored: list[str] = field(default_factory=list)  # currencies with a fresh rate
    changed: list[str] = field(default_factory=list)  # whose rate or availability changed
    unsupported: list[str] = field(default_factory=list)  # offered in settings, not by Roamify


def _usable(codes: list[str]) -> dict[str, bool]:
    usable = {}
    for code in codes:
        try:
            current_rate(code)
            usable[code] = True
        except RateUnavailable:
            usable[code] = False
    return usable


def refresh_exchange_rates(client: roamify.RoamifyClient | None = None) -> RefreshResult:
    """Ask Roamify for today's rates and store them. RoamifyError propagates (nothing stored)."""
    client = client or roamify_client()
    base = base_currency()
    wanted = [c for c in settings.SHOP_CURRENCIES if c != base]
    before = _usable(wanted)
    try:
        supported = {c.code for c in client.currencies()}
        answer = {r.target: r for r in client.exchange_rates(base) if r.source == base}
        for code in wanted:
            if code in supported and code not in answer:
                answer[code] = client.exchange_rate(base, code)
    except roamify.RoamifyError:
        _bump_if_went_stale(before)
        raise
    now = timezone.now()
    result = RefreshResult()
    old = {r.currency: r for r in ExchangeRate.objects.filter(currency__in=wanted)}
    for code in wanted:
        rate = answer.get(code) if code in supported else None
        if rate is None:
            result.unsupported.append(code)
            if code in old and old[code].supported:
                ExchangeRate.objects.filter(currency=code).update(supported=False)
                result.changed.append(code)
            continue
        previous = old.get(code)
        if previous is None or previous.per_base != rate.rate or not previous.supported:
            result.changed.append(code)
        ExchangeRate.objects.update_or_create(
            currency=code,
            defaults={
                "per_base": rate.rate,
                "fetched_at": now,
                "rate_at": rate.at,
                "source": "roamify",
                "supported": True,
            },
        )
        result.stored.append(code)
    store_in_cache()
    after = _usable(wanted)
    result.changed.extend(c for c in wanted if before[c] != after[c] and c not in result.changed)
    if result.changed:
        bump_catalog_version()  # pages reprice: every price in those currencies moved
    logger.info("exchange rates refreshed: %s stored, %s changed", len(result.stored), result.changed)
    return result


def _bump_if_went_stale(before: dict[str, bool]) -> None:
    """Roamify did not answer: a rate that has aged past the limit meanwhile stops being shown."""
    store_in_cache()
    if _usable(list(before)) != before:
        bump_catalog_version()
