"""The top-ups of an eSIM as a traveller chooses among them.

Upstream may list a hundred packages for one eSIM, many alike. The page shows first the ones that
extend the same plan (same data and speed cap, more days), then the rest grouped by kind (data
packs, then unlimited ones by speed cap), one card per identical offer (same data, days, speed cap
and price: upstream sells some under several ids), each saying what it adds to this eSIM.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from catalog.models import Package, format_data

SAME_PLAN = "same-plan"
DATA = "data"
UNLIMITED = "unlimited"


@dataclass(frozen=True)
class Offer:
    package: Package
    adds: str  # "+5 GB, +15 days"
    speed: str  # the speed cap and daily full-speed allowance, "" for a data pack


@dataclass
class OfferGroup:
    key: str  # stable, for CSS and tests: same-plan, data, unlimited-<MB>-<kbps>
    title: str
    note: str = ""
    offers: list[Offer] = field(default_factory=list)


def _kind(p: Package) -> tuple:
    """What a package gives, apart from its days: the key of 'the same plan'."""
    if p.is_unlimited:
        return (True, None, p.throttle_threshold_mb or None, p.throttle_speed_kbps or None)
    return (False, p.data_mb, None, None)


def _identical(p: Package) -> tuple:
    return (*_kind(p), p.days, p.retail_cents)


def speed_cap(p: Package) -> str:
    """The speed cap and daily full-speed allowance of an unlimited package, in a few words."""
    if not p.is_unlimited:
        return ""
    if p.throttle_threshold_mb and p.throttle_speed_kbps:
        # Translators: an unlimited plan's fair use, e.g. "Full speed for 2 GB a day, then 512 kbps".
        return _("Full speed for %(data)s a day, then %(speed)s kbps") % {
            "data": format_data(p.throttle_threshold_mb),
            "speed": p.throttle_speed_kbps,
        }
    return _("Full speed, no daily cap")


def adds(p: Package, *, unlimited_esim: bool) -> str:
    """What the top-up adds to this eSIM: "+5 GB, +15 days"; "+15 days" on an eSIM whose data
    is unlimited already; "Unlimited data, +15 days" when it makes a data eSIM unlimited."""
    days = p.days
    if p.is_unlimited and unlimited_esim:
        return ngettext("+%(days)s day", "+%(days)s days", days) % {"days": days}
    if p.is_unlimited:
        return ngettext("Unlimited data, +%(days)s day", "Unlimited data, +%(days)s days", days) % {
            "days": days
        }
    return ngettext("+%(data)s, +%(days)s day", "+%(data)s, +%(days)s days", days) % {
        "data": format_data(p.data_mb or 0),
        "days": days,
    }


def _unlimited_title(p: Package) -> str:
    if p.throttle_threshold_mb and p.throttle_speed_kbps:
        # Translators: a group of unlimited top-ups by their speed cap, e.g. "Unlimited: full speed
        # for 2 GB a day, then 512 kbps".
        return _("Unlimited: full speed for %(data)s a day, then %(speed)s kbps") % {
            "data": format_data(p.throttle_threshold_mb),
            "speed": p.throttle_speed_kbps,
        }
    return _("Unlimited at full speed")


def group_offers(
    packages: Iterable[Package], *, plan: Package | None, unlimited_esim: bool
) -> list[OfferGroup]:
    """The groups in the order the page shows them, each cheapest first, duplicates merged."""
    seen: set[tuple] = set()
    unique: list[Package] = []
    for p in sorted(packages, key=lambda p: (p.retail_cents, p.days, p.pk or 0)):
        if _identical(p) not in seen:
            seen.add(_identical(p))
            unique.append(p)
    same = _kind(plan) if plan is not None else None
    groups: dict[str, OfferGroup] = {}
    for p in unique:
        if same is not None and _kind(p) == same:
            key = SAME_PLAN
            title = _("More days of your plan")
            note = _("The same data and speed as your plan, for more days.")
        elif not p.is_unlimited:
            key, title, note = DATA, _("Data packs"), ""
        else:
            key = f"{UNLIMITED}-{p.throttle_threshold_mb or 0}-{p.throttle_speed_kbps or 0}"
            title, note = _unlimited_title(p), ""
        group = groups.setdefault(key, OfferGroup(key, title, note))
        group.offers.append(Offer(p, adds(p, unlimited_esim=unlimited_esim), speed_cap(p)))
    if SAME_PLAN in groups:  # its cards in days order: the plan, longer
        groups[SAME_PLAN].offers.sort(key=lambda o: (o.package.days, o.package.retail_cents))

    def order(group: OfferGroup) -> tuple:
        if group.key == SAME_PLAN:
            return (0, 0, 0)
        if group.key == DATA:
            return (1, 0, 0)
        first = group.offers[0].package  # unlimited: no cap first, then the most full-speed data
        return (2, 0 if not first.throttle_threshold_mb else 1, -(first.throttle_threshold_mb or 0))

    return sorted(groups.values(), key=order)
