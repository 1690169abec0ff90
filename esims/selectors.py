"""Reads of eSIMs for pages: the customer's eSIMs and what upstream says about each.

Usage, history and top-ups come through the cache (see `cached`): a warm cache
means no upstream call; a stale entry is served while a refresh is queued.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

import roamify

from . import cached, services, usage
from .models import Esim

logger = logging.getLogger(__name__)


def owned_esims(user):
    return Esim.objects.owned_by(user).exclude(upstream_esim_id="").order_by("-created_at", "-id")


def _read(esim: Esim, kind: str, entry: cached.Entry | None, *, fetch_missing: bool = True) -> Any:
    if entry is not None:
        if cached.is_stale(entry, kind, timezone.now()):
            cached.queue_refresh(esim.pk, kind)
        return entry.value
    if not fetch_missing:
        cached.queue_refresh(esim.pk, kind)
        return None
    try:
        return services.fetch(esim, kind)
    except roamify.RoamifyError as exc:  # the page shows what it has; the next view tries again
        logger.warning("could not fetch %s of eSIM %s: %s", kind, esim.pk, exc)
        return None


def usage_of(esim: Esim, *, fetch_missing: bool = True) -> usage.UsageSnapshot | None:
    """What the shop knows of the eSIM's data use. Stale: served, and one refresh queued. Missing:
    fetched now, or with `fetch_missing=False` (the page's polling) only queued, never waited for."""
    if not esim.iccid:
        return None
    if not esim.with_usage_check:
        return usage.unsupported(timezone.now(), esim.notes)
    return _read(esim, cached.USAGE, cached.get(esim.pk, cached.USAGE), fetch_missing=fetch_missing)


def usage_is_current(snapshot: usage.UsageSnapshot | None) -> bool:
    """Whether a page may show these figures as they are: read upstream within the usage cache's
    age, or from a package without a usage check (nothing to read). Else the page asks again."""
    return usage_current_for(snapshot) > 0


def usage_current_for(snapshot: usage.UsageSnapshot | None) -> int:
    """Seconds until these figures are older than the usage cache's age (0: they are already); a
    page open that long asks for them again. Long for a package without a usage check."""
    if snapshot is None:
        return 0
    if not snapshot.supported:
        return cached.fresh_seconds(cached.USAGE)
    return max(0, math.ceil(cached.fresh_seconds(cached.USAGE) - snapshot.age_seconds))


def usage_of_many(esims: Iterable[Esim]) -> dict[int, usage.UsageSnapshot | None]:
    """One cache round trip for the list; the ones never fetched are fetched now."""
    esims = [e for e in esims if e.iccid]
    entries = cached.get_many([e.pk for e in esims if e.with_usage_check], cached.USAGE)
    out: dict[int, usage.UsageSnapshot | None] = {}
    for esim in esims:
        if not esim.with_usage_check:
            out[esim.pk] = usage.unsupported(timezone.now(), esim.notes)
        else:
            out[esim.pk] = _read(esim, cached.USAGE, entries.get(esim.pk))
    return out


def history_of(esim: Esim) -> tuple[cached.HistoryRow, ...] | None:
    if not esim.iccid:
        return ()
    return _read(esim, cached.HISTORY, cached.get(esim.pk, cached.HISTORY))


def topup_package_ids(esim: Esim, *, max_age: float | None = None) -> tuple[str, ...]:
    """The packages upstream accepts as top-ups of this eSIM, in its order.

    With `max_age` (seconds), an older answer is fetched again first (a purchase checks
    against a recent answer). Raises roamify.RoamifyError when upstream can't say.
    """
    if not esim.iccid or not esim.with_top_up:
        return ()
    entry = cached.get(esim.pk, cached.TOPUPS)
    if (
        entry is not None
        and max_age is not None
        and (timezone.now() - entry.fetched_at).total_seconds() > max_age
    ):
        entry = None
    if entry is None:
        return services.fetch(esim, cached.TOPUPS)
    if cached.is_stale(entry, cached.TOPUPS, timezone.now()):
        cached.queue_refresh(esim.pk, cached.TOPUPS)
    return entry.value
