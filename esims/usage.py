"""What the shop knows of an eSIM's data use: one snapshot, from the usage API or a webhook.

Pure data and arithmetic (no database, no cache): the projection of when the
data runs out and the daily chart are computed here so they can be tested alone.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils.formats import get_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

import roamify

# Days of use the projection averages over ("recent pace").
PACE_DAYS = 3


@dataclass(frozen=True)
class DayUse:
    date: dt.date
    mb: float


@dataclass(frozen=True)
class Projection:
    mb_per_day: float
    runs_out_on: dt.date | None  # None: the data outlasts the plan
    days_left: float | None


@dataclass(frozen=True)
class UsageSnapshot:
    """Data used and left of one eSIM at `fetched_at`. `supported` is False for packages
    without a usage check: then `note` says what upstream says to do instead."""

    fetched_at: dt.datetime
    supported: bool = True
    status: str = ""
    unlimited: bool = False
    allowed_mb: float | None = None
    remaining_mb: float | None = None
    started_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    daily: tuple[DayUse, ...] = field(default=())
    note: str = ""
    source: str = "api"  # api or webhook
    # What upstream counts as used in all (the usage API's allowed minus remaining): an unlimited
    # plan's only total when it sends no per-day list. None in snapshots cached before it was kept.
    used_total_mb: float | None = None

    @property
    def used_mb(self) -> float | None:
        if self.unlimited:
            # Never "Used —" on an unlimited plan: upstream answered, and what it counted is the use
            # (no day listed and no total: nothing used yet).
            if self.daily:
                return sum(d.mb for d in self.daily)
            return max(0.0, self.used_total_mb or 0.0)
        if self.allowed_mb is None or self.remaining_mb is None:
            return None
        return max(0.0, self.allowed_mb - self.remaining_mb)

    def used_on(self, day: dt.date) -> float:
        """Data used on one day (UTC, as upstream counts its days); 0 when it lists none."""
        return sum(d.mb for d in self.daily if d.date == day)

    @property
    def percent_used(self) -> int | None:
        if self.unlimited or not self.allowed_mb or self.used_mb is None:
            return None
        return min(100, max(0, math.floor(self.used_mb * 100 / self.allowed_mb + 1e-9)))

    @property
    def percent_left(self) -> int | None:
        used = self.percent_used
        return None if used is None else 100 - used

    @property
    def shown_note(self) -> str:
        """What a page says of a package without a usage check: upstream's note, else ours."""
        return self.note or _(
            "This eSIM's network doesn't report data use to us. Check it in your phone's settings."
        )

    @property
    def age_seconds(self) -> float:
        return (dt.datetime.now(dt.UTC) - self.fetched_at).total_seconds()

    def projection(self, today: dt.date) -> Projection | None:
        """When the data runs out at the pace of the last few days of use (None: no pace yet)."""
        if self.unlimited or self.remaining_mb is None or not self.daily:
            return None
        recent = [d for d in self.daily if d.date <= today][-PACE_DAYS:]
        if not recent:
            return None
        # Average over the calendar days from the first of them to today, so idle days count.
        span = max(1, (today - recent[0].date).days + 1)
        pace = sum(d.mb for d in recent) / span
        if pace <= 0:
            return None
        days = self.remaining_mb / pace
        runs_out = today + dt.timedelta(days=math.floor(days))
        if self.expires_at and runs_out >= self.expires_at.date():
            return Projection(pace, None, None)
        return Projection(pace, runs_out, days)


def from_api(usage: roamify.Usage, now: dt.datetime) -> UsageSnapshot:
    return UsageSnapshot(
        fetched_at=now,
        status=usage.status or "",
        unlimited=usage.is_unlimited,
        allowed_mb=usage.allowed_data_mb,
        remaining_mb=usage.remaining_data_mb,
        started_at=usage.started_at,
        expires_at=usage.expired_at,
        daily=tuple(DayUse(d.date, float(d.used_mb)) for d in usage.daily),
        used_total_mb=usage.used_data_mb,
    )


def unsupported(now: dt.datetime, notes: list[str] | tuple[str, ...], message: str = "") -> UsageSnapshot:
    # Upstream's own words when it has some; else the page says ours (`shown_note`), in the
    # reader's language: a snapshot is cached and read in every language.
    note = " ".join(n for n in notes if n) or message
    return UsageSnapshot(fetched_at=now, supported=False, note=note)


def _mb(value: Any, unit: str) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) / 1024 if unit.upper() == "KB" else float(value)


def _day(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def _time(value: Any) -> dt.datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return dt.datetime.fromtimestamp(value, tz=dt.UTC)


def from_webhook(data: Mapping[str, Any], now: dt.datetime, previous: UsageSnapshot | None) -> UsageSnapshot:
    """An `esim`/`usage` webhook's data (spec §4): allowance and the per-day list, in `data_units`."""
    unit = str(data.get("data_units") or "MB")
    usage = data.get("usage_data") if isinstance(data.get("usage_data"), Mapping) else {}
    unlimited = bool(usage.get("isUnlimited"))
    daily = []
    for entry in data.get("usage_list") or []:
        if isinstance(entry, Mapping) and (day := _day(entry.get("date"))) is not None:
            daily.append(DayUse(day, _mb(entry.get("data_used"), unit) or 0.0))
    snapshot = UsageSnapshot(
        fetched_at=now,
        source="webhook",
        status=str(data.get("status") or ""),
        unlimited=unlimited,
        allowed_mb=None if unlimited else _mb(usage.get("allowed_data"), unit),
        remaining_mb=None if unlimited else _mb(usage.get("remaining_data"), unit),
        started_at=_time(data.get("start")),
        expires_at=_time(data.get("end")),
        daily=tuple(sorted(daily, key=lambda d: d.date)),
    )
    if previous is not None and previous.supported:
        # Keep what the webhook leaves out (a status webhook's status is fresher, though).
        snapshot = replace(
            snapshot,
            status=snapshot.status or previous.status,
            started_at=snapshot.started_at or previous.started_at,
            expires_at=snapshot.expires_at or previous.expires_at,
            daily=snapshot.daily or previous.daily,
        )
    return snapshot


def chart(snapshot: UsageSnapshot, today: dt.date, days: int = 14) -> dict | None:
    """Bars of the last `days` days of use, laid out for an inline SVG (no JavaScript)."""
    if not snapshot.daily:
        return None
    by_day = {d.date: d.mb for d in snapshot.daily}
    last = max(today, max(by_day))
    # At least a week of slots, so one day of use is a bar among days, not the whole chart.
    first = min(max(min(by_day), last - dt.timedelta(days=days - 1)), last - dt.timedelta(days=6))
    span = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    peak = max(by_day.get(d, 0.0) for d in span) or 1.0
    width, height, gap = 320, 120, 4
    bar = (width - gap * (len(span) - 1)) / len(span)
    bars = []
    for i, day in enumerate(span):
        mb = by_day.get(day, 0.0)
        h = round(mb / peak * (height - 18), 1)
        bars.append(
            {
                "x": round(i * (bar + gap), 1),
                "y": round(height - 14 - h, 1),
                "w": round(bar, 1),
                "h": h,
                "date": day,
                "mb": mb,
                "label": format_mb(mb),
                "tick": i == 0 or i == len(span) - 1 or len(span) <= 7,
            }
        )
    return {"width": width, "height": height, "bars": bars, "peak": format_mb(peak), "baseline": height - 14}


def read_ago(fetched_at: dt.datetime, now: dt.datetime | None = None) -> str:
    """When the figures were read from upstream, for people ("Read from the network 3 min ago").

    The same sentences as static/js/usage.js, which keeps the words true while the page stays open.
    """
    seconds = max(0.0, ((now or dt.datetime.now(dt.UTC)) - fetched_at).total_seconds())
    minutes = int(seconds // 60)
    if minutes < 1:
        return _("Read from the network just now")
    if minutes < 60:
        return ngettext(
            "Read from the network %(count)s min ago", "Read from the network %(count)s min ago", minutes
        ) % {"count": minutes}
    hours = minutes // 60
    if hours < 24:
        return ngettext(
            "Read from the network %(count)s hour ago", "Read from the network %(count)s hours ago", hours
        ) % {"count": hours}
    days = hours // 24
    return ngettext(
        "Read from the network %(count)s day ago", "Read from the network %(count)s days ago", days
    ) % {"count": days}


def format_mb(mb: float | None) -> str:
    """An amount of data for people, in the active language's units and decimal mark ("1.5 GB")."""
    if mb is None:
        return "—"
    if mb >= 1024:
        gb = round(mb / 1024, 1)
        # Translators: gigabytes of data, e.g. "1.5 GB" (French writes "Go").
        return _("%(amount)s GB") % {"amount": _number(gb, 0 if gb == int(gb) or gb >= 100 else 1)}
    # Translators: megabytes of data, e.g. "300 MB" (French writes "Mo").
    return _("%(amount)s MB") % {"amount": _number(mb, 0 if mb >= 10 or mb == 0 else 1)}


def _number(value: float, decimals: int) -> str:
    # Rounded as ever (Python's format), then the language's decimal mark ("1,5" in German).
    return f"{value:.{decimals}f}".replace(".", get_format("DECIMAL_SEPARATOR"))


def summary(snapshot: UsageSnapshot | None) -> str:
    """Data used and left in one line, for staff ("1.2 GB used of 5 GB, 3.8 GB left (24 % used)")."""
    if snapshot is None:
        return _("Usage unknown: Roamify did not answer")
    if not snapshot.supported:
        return _("No usage check for this package")
    used = format_mb(snapshot.used_mb)
    if snapshot.unlimited:
        return _("%(used)s used (unlimited)") % {"used": used}
    if snapshot.allowed_mb is None:
        return _("Usage unknown")
    values = {
        "used": used,
        "allowed": format_mb(snapshot.allowed_mb),
        "left": format_mb(snapshot.remaining_mb),
        "percent": snapshot.percent_used,
    }
    if snapshot.percent_used is None:
        return _("%(used)s used of %(allowed)s, %(left)s left") % values
    return _("%(used)s used of %(allowed)s, %(left)s left (%(percent)s %% used)") % values
