"""The trip planner: one plan for a trip of so many days and so much data, and two alternatives.

Pure functions over a destination's packages (already read in one query), so the
planner costs no query of its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.functional import lazy
from django.utils.translation import gettext_lazy, ngettext

from .models import Package, format_data

# GB a day for travellers who are not sure, and what each level means.
USAGE = {
    "light": (
        0.3,
        # Translators: how much a traveller uses their phone (the planner's usage levels).
        gettext_lazy("Light"),
        gettext_lazy("Maps, messages and email, a little browsing: about 0.3 GB a day."),
    ),
    "medium": (
        0.7,
        gettext_lazy("Medium"),
        gettext_lazy("Also social media, photos and music: about 0.7 GB a day."),
    ),
    "heavy": (
        1.5,
        gettext_lazy("Heavy"),
        gettext_lazy("Also video, video calls or a hotspot for a laptop: about 1.5 GB a day."),
    ),
}
# How a trip's label names each usage level ("10 days, about 7 GB (medium use)").
USE_WORDS = {
    # Translators: in a trip's summary, e.g. "10 days, about 3 GB (light use)".
    "light": gettext_lazy("light use"),
    "medium": gettext_lazy("medium use"),
    "heavy": gettext_lazy("heavy use"),
}
DAY_CHOICES = (1, 3, 5, 7, 10, 14, 21, 30, 60, 90)
# Data sizes in the page's language (decimal mark and unit), read when the form is drawn.
_data_choice = lazy(lambda gb: format_data(gb * 1024), str)
DATA_CHOICES = (
    ("1", _data_choice(1)),
    ("3", _data_choice(3)),
    ("5", _data_choice(5)),
    ("10", _data_choice(10)),
    ("20", _data_choice(20)),
    # Translators: the planner's data choice for plans with no data limit.
    ("unlimited", gettext_lazy("Unlimited")),
    ("unsure", gettext_lazy("I'm not sure")),
)


@dataclass(frozen=True)
class Trip:
    days: int
    data: str = ""  # a GB number, "unlimited", "unsure" or "" (not chosen yet)
    use: str = "medium"

    @property
    def need_mb(self) -> int | None:
        """Data the trip needs; None when only unlimited will do, 0 when not chosen."""
        if self.data == "unlimited":
            return None
        if self.data == "unsure":
            return math.ceil(self.days * USAGE[self.use][0]) * 1024
        return int(self.data) * 1024 if self.data else 0

    @property
    def complete(self) -> bool:
        return bool(self.data)

    @property
    def label(self) -> str:
        """The trip in words: "10 days, 5 GB", "3 days, unlimited data", "7 days, about 5 GB (light use)"."""
        days, need = self.days, self.need_mb
        if need is None:
            return ngettext("%(days)s day, unlimited data", "%(days)s days, unlimited data", days) % {
                "days": days
            }
        if not need:
            return ngettext("%(days)s day", "%(days)s days", days) % {"days": days}
        if self.data == "unsure":
            return ngettext(
                "%(days)s day, about %(data)s (%(use)s)", "%(days)s days, about %(data)s (%(use)s)", days
            ) % {"days": days, "data": format_data(need), "use": USE_WORDS[self.use]}
        # Translators: a trip's days and data, e.g. "10 days, 5 GB".
        return ngettext("%(days)s day, %(data)s", "%(days)s days, %(data)s", days) % {
            "days": days,
            "data": format_data(need),
        }

    def query(self) -> str:
        parts = [f"days={self.days}"]
        if self.data:
            parts.append(f"data={self.data}")
        if self.data == "unsure":
            parts.append(f"use={self.use}")
        return "&".join(parts)


def collapse(packages: list[Package]) -> list[Package]:
    """One card per data/days pair: the cheapest (unlimited plans differ only in fair-use speed)."""
    best: dict[tuple, Package] = {}
    for p in packages:
        key = (p.is_unlimited, None if p.is_unlimited else p.data_mb, p.days, p.with_calls or p.with_sms)
        if key not in best or p.retail_cents < best[key].retail_cents:
            best[key] = p
    return sorted(best.values(), key=lambda p: (p.days, p.is_unlimited, p.data_mb or 0, p.retail_cents))


def covers_days(p: Package, trip: Trip) -> bool:
    return p.days >= trip.days


def fits(p: Package, trip: Trip) -> bool:
    need = trip.need_mb
    if need is None:
        return p.is_unlimited and covers_days(p, trip)
    return covers_days(p, trip) and (p.is_unlimited or (p.data_mb or 0) >= need)


@dataclass(frozen=True)
class Recommendation:
    best: Package | None
    cheaper: Package | None
    unlimited: Package | None


def _price(p: Package) -> tuple:
    return (p.retail_cents, p.days, p.data_mb or 0)


def recommend(cards: list[Package], trip: Trip) -> Recommendation:
    """The cheapest plan that fits; a cheaper one with less data; the cheapest unlimited one."""
    long_enough = [p for p in cards if covers_days(p, trip)]
    fitting = [p for p in long_enough if fits(p, trip)]
    best = min(fitting, key=_price, default=None)
    cheaper = None
    if best is not None:
        below = [p for p in long_enough if p.retail_cents < best.retail_cents and not p.is_unlimited]
        cheaper = max(below, key=lambda p: (p.data_mb or 0, -p.retail_cents), default=None)
    unlimited = min((p for p in long_enough if p.is_unlimited and p != best), key=_price, default=None)
    if best is not None and best.is_unlimited:
        unlimited = None
    return Recommendation(best, cheaper, unlimited)
