"""Deterministic catalog of destinations and packages (spec §2.2, §2.3, §5.5).

Everything derives from `random.Random(seed)`, never from global random, time or
hash(), so the same seed gives byte-identical JSON in every process. Groups are
immutable once built and pre-serialised; the live catalog is a cheap copy (a list
of group references plus an index) so reset and catalog edits stay fast.
"""

from __future__ import annotations

import json
import math
import random
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .data import APNS, CARRIERS, COUNTRIES, GENERIC_CARRIERS, GLOBALS, MAJOR_CARRIERS, REGIONS

MAX_SAFE_INTEGER = 9007199254740991
DAYS = (1, 3, 5, 7, 10, 14, 15, 21, 30, 60, 90, 180, 365)
UNLIMITED_DAYS = (1, 3, 5, 7, 10, 14, 15, 21, 30, 60, 90)
ONE_YEAR_DAYS = (180, 365)
SIZES_GB = (0.5, 1, 2, 3, 5, 10, 15, 20, 30, 50, 100)
THROTTLE_GB = (1, 2, 3, 5)
THROTTLE_KBPS = (128, 256, 512, 1024)
TARGET_PACKAGES = 28_000
TRAVEL_DATE_COUNT = 30
NO_USAGE_CHECK_COUNT = 24
NO_TOPUP_COUNT = 40
VOICE_SMS_COUNT = 15
GEOGRAPHIES = ("local", "regional", "global")
NO_USAGE_NOTE = (
    "Usage check is not available for this package. To see the data left, dial *#100# "
    "from the eSIM line or check the operator's app."
)


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON, as an Express server sends it."""
    return _ENCODER.encode(obj).encode()


def money(cents: int) -> int | float:
    """USD major units as JS would print them: 5 not 5.0, 1.18 not 1.1800001."""
    return cents // 100 if cents % 100 == 0 else cents / 100


def to_cents(amount: float) -> int:
    return round(amount * 100)


def fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def slugify(name: str) -> str:
    out, dash = [], False
    for ch in fold(name):
        if ch.isalnum():
            out.append(ch)
            dash = False
        elif not dash and out:
            out.append("-")
            dash = True
    return "".join(out).strip("-")


@dataclass(frozen=True)
class Destination:
    code: str
    name: str
    slug: str
    region: str
    geography: str
    covers: tuple[str, ...]


class Group:
    """One destination with its packages; immutable, pre-serialised JSON."""

    __slots__ = ("_full", "_pkg_bytes", "_prefix", "header", "index", "packages")

    def __init__(
        self,
        header: dict[str, Any],
        packages: list[dict[str, Any]],
        pkg_bytes: list[bytes] | None = None,
    ) -> None:
        prices = [p["price"] for p in packages]
        # Rebuild the header so minPrice/maxPrice always follow the members.
        self.header = {
            **header,
            "minPrice": min(prices) if prices else 0,
            "maxPrice": max(prices) if prices else 0,
        }
        self.packages = packages
        self.index = {p["packageId"]: i for i, p in enumerate(packages)}
        self._pkg_bytes = pkg_bytes  # serialised on first use: most of the build cost
        self._prefix: bytes | None = None
        self._full: bytes | None = None

    @property
    def id(self) -> str:
        return str(self.header["id"])

    @property
    def pkg_bytes(self) -> list[bytes]:
        if self._pkg_bytes is None:
            self._pkg_bytes = [dumps(p) for p in self.packages]
        return self._pkg_bytes

    def prefix(self) -> bytes:
        if self._prefix is None:
            self._prefix = dumps(self.header)[:-1] + b',"packages":['
        return self._prefix

    def render(self, idxs: Sequence[int] | None = None) -> bytes:
        if idxs is None:
            if self._full is None:
                self._full = self.prefix() + b",".join(self.pkg_bytes) + b"]}"
            return self._full
        return self.prefix() + b",".join(self.pkg_bytes[i] for i in idxs) + b"]}"

    def with_packages(self, packages: list[dict[str, Any]], pkg_bytes: list[bytes]) -> Group:
        return Group(self.header, packages, pkg_bytes)


@dataclass(frozen=True)
class PackageFilter:
    country: str | None = None
    country_code: str | None = None
    geography: str | None = None
    days: float | None = None
    gbs: float | None = None
    is_unlimited: bool | None = None
    package_id: str | None = None

    def package_level(self) -> bool:
        return self.days is not None or self.gbs is not None or bool(self.is_unlimited)

    def matches(self, p: dict[str, Any]) -> bool:
        if self.days is not None and p["day"] != self.days:
            return False
        if self.is_unlimited:
            return bool(p["isUnlimited"])  # gbs is ignored for unlimited (apidog)
        if self.gbs is not None:
            return not p["isUnlimited"] and math.isclose(p["dataAmount"] / 1024, self.gbs)
        return True


Selection = list[tuple[Group, Sequence[int] | None]]


class CatalogError(Exception):
    pass


class Catalog:
    """The live catalog: group references in display order plus package index."""

    def __init__(self, groups: list[Group], no_topup: set[str], special: dict[str, list[str]]):
        self.groups = groups
        self.no_topup = no_topup
        self.special = special
        self._pos = {g.id: i for i, g in enumerate(groups)}
        self._pkg_group = {pid: g.id for g in groups for pid in g.index}

    def copy(self) -> Catalog:
        new = Catalog.__new__(Catalog)
        new.groups = list(self.groups)
        new.no_topup = set(self.no_topup)
        new.special = self.special
        new._pos = self._pos  # never mutated: groups are replaced in place, not reordered
        new._pkg_group = dict(self._pkg_group)
        return new

    # -- reads -------------------------------------------------------------
    def package_count(self) -> int:
        return len(self._pkg_group)

    def group(self, group_id: str) -> Group | None:
        pos = self._pos.get(group_id)
        return None if pos is None else self.groups[pos]

    def group_of(self, package_id: str) -> Group | None:
        gid = self._pkg_group.get(package_id)
        return None if gid is None else self.group(gid)

    def package(self, package_id: str) -> dict[str, Any] | None:
        g = self.group_of(package_id)
        return None if g is None else g.packages[g.index[package_id]]

    def visible(self) -> Iterable[Group]:
        return (g for g in self.groups if g.packages)

    def countries(self, geography: str | None = None) -> list[dict[str, str]]:
        return [
            {
                "code": g.header["countryCode"],
                "name": g.header["countryName"],
                "geography": g.header["geography"],
            }
            for g in self.visible()
            if geography is None or g.header["geography"] == geography
        ]

    def has_name(self, name: str) -> bool:
        return any(g.header["countryName"] == name for g in self.visible())

    def has_code(self, code: str) -> bool:
        return any(g.header["countryCode"] == code for g in self.visible())

    def select(self, f: PackageFilter) -> Selection:
        if f.package_id is not None:
            g = self.group_of(f.package_id)
            return [] if g is None else [(g, [g.index[f.package_id]])]
        out: Selection = []
        for g in self.visible():
            h = g.header
            if f.country is not None and h["countryName"] != f.country:
                continue
            if f.country_code is not None and h["countryCode"] != f.country_code:
                continue
            if f.geography is not None and h["geography"] != f.geography:
                continue
            if not f.package_level():
                out.append((g, None))
                continue
            idxs = [i for i, p in enumerate(g.packages) if f.matches(p)]
            if idxs:
                out.append((g, idxs))
        return out

    def page(self, f: PackageFilter, page: int, size: int, mode: str) -> bytes:
        """`data.packages` JSON for one page; `mode` group|package decides what a row is."""
        sel = self.select(f)
        parts: list[bytes] = []
        start = (page - 1) * size
        if mode == "group":
            parts = [g.render(idxs) for g, idxs in sel[start : start + size]]
        else:
            end, seen = start + size, 0
            for g, idxs in sel:
                ids: Sequence[int] = range(len(g.packages)) if idxs is None else idxs
                n = len(ids)
                if seen + n > start and seen < end:
                    lo, hi = max(start - seen, 0), min(end - seen, n)
                    whole = idxs is None and lo == 0 and hi == n
                    parts.append(g.render(None if whole else ids[lo:hi]))
                seen += n
                if seen >= end:
                    break
        return b"[" + b",".join(parts) + b"]"

    # -- edits (control API) -------------------------------------------------
    def _replace(self, old: Group, new: Group) -> None:
        self.groups[self._pos[old.id]] = new

    def update_package(self, package_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        g = self.group_of(package_id)
        if g is None:
            raise CatalogError(f"package {package_id} not found")
        fields = dict(fields)
        if "packageId" in fields and fields["packageId"] != package_id:
            raise CatalogError("packageId cannot be changed; remove and add instead")
        if "withTopUp" in fields:  # eSIM attribute, not part of the catalog JSON
            if fields.pop("withTopUp"):
                self.no_topup.discard(package_id)
            else:
                self.no_topup.add(package_id)
        if "price" in fields:
            fields["price"] = money(to_cents(float(fields["price"])))
        i = g.index[package_id]
        pkg = {**g.packages[i], **fields}
        packages, pkg_bytes = list(g.packages), list(g.pkg_bytes)
        packages[i], pkg_bytes[i] = pkg, dumps(pkg)
        self._replace(g, g.with_packages(packages, pkg_bytes))
        return pkg

    def remove_package(self, package_id: str) -> None:
        g = self.group_of(package_id)
        if g is None:
            raise CatalogError(f"package {package_id} not found")
        i = g.index[package_id]
        packages = g.packages[:i] + g.packages[i + 1 :]
        self._replace(g, g.with_packages(packages, g.pkg_bytes[:i] + g.pkg_bytes[i + 1 :]))
        del self._pkg_group[package_id]
        self.no_topup.discard(package_id)

    def add_package(self, group_id: str, package: dict[str, Any]) -> dict[str, Any]:
        g = self.group(group_id)
        if g is None:
            raise CatalogError(f"group {group_id} not found")
        pid = package.get("packageId")
        if not isinstance(pid, str) or not pid:
            raise CatalogError("package.packageId is required")
        if pid in self._pkg_group:
            raise CatalogError(f"package {pid} already exists")
        if "price" not in package:
            raise CatalogError("package.price is required")
        with_topup = package.pop("withTopUp", True)
        # Fill the keys the caller left out so every package keeps the full §2.3 shape.
        template = g.packages[0] if g.packages else _template(pid)
        pkg = {**template, "requirements": {"travelDate": False}, "notes": [], **package}
        pkg = {k: pkg[k] for k in (*template, *package) if k in pkg}
        pkg["price"] = money(to_cents(float(pkg["price"])))
        self._replace(g, g.with_packages([*g.packages, pkg], [*g.pkg_bytes, dumps(pkg)]))
        self._pkg_group[pid] = g.id
        if not with_topup:
            self.no_topup.add(pid)
        return pkg


# -- generation ----------------------------------------------------------------


def destinations() -> list[Destination]:
    out = [Destination(c, n, slugify(n), r, "local", (c,)) for c, n, r in COUNTRIES]
    out += [Destination(c, n, slugify(n), r, "regional", tuple(cov.split())) for c, n, r, cov in REGIONS]
    out += [Destination(c, n, slugify(n), "Global", "global", tuple(cov.split())) for c, n, cov in GLOBALS]
    return sorted(out, key=lambda d: (fold(d.name), d.code))


def _size_slug(gb: float) -> tuple[str, str, int]:
    if gb < 1:
        mb = int(gb * 1024)
        return f"{mb}mb", f"{mb} MB", mb
    return f"{int(gb)}gb", f"{int(gb)} GB", int(gb) * 1024


def _days_label(days: int) -> str:
    return "1 Day" if days == 1 else f"{days} Days"


def _template(package_id: str) -> dict[str, Any]:
    return {
        "packageId": package_id,
        "package": "",
        "plan": "data-only",
        "activation": "first-use",
        "day": 1,
        "price": 0,
        "isUnlimited": False,
        "isAPNAutomatic": True,
        "apn": "globaldata",
        "dataAmount": 1024,
        "dataUnit": "MB",
        "callType": "all",
        "callAmount": -1,
        "callUnit": "",
        "smsType": "all",
        "smsAmount": -1,
        "smsUnit": "",
        "withSMS": False,
        "withCall": False,
        "withHotspot": True,
        "withDataRoaming": True,
        "withDestinationInstall": False,
        "withUsageCheck": True,
        "withThrottle": False,
        "throttle": None,
        "requirements": {"travelDate": False},
        "notes": [],
    }


@dataclass
class _Combo:
    days: int
    gb: float | None  # None => unlimited
    threshold: int = 0


def _combos(d: Destination) -> list[_Combo]:
    days = ONE_YEAR_DAYS if d.slug == "global-one-year" else DAYS
    out = [_Combo(n, gb) for n in days for gb in SIZES_GB]
    if d.slug != "global-one-year":
        out += [_Combo(n, None, t) for n in UNLIMITED_DAYS for t in THROTTLE_GB]
    return out


def _weight(c: _Combo) -> float:
    # Plausibility, so short plans skew small and year plans skew big.
    if c.gb is None:
        return 0.7
    if c.days <= 3 and c.gb >= 30:
        return 0.2
    if c.days >= 180 and c.gb <= 1:
        return 0.3
    return 1.0


def _price_cents(rng: random.Random, factor: float, c: _Combo) -> int:
    if c.gb is None:
        base = 1.5 + c.days**0.9 * (0.55 + 0.25 * c.threshold)
    else:
        base = 0.8 + 2.3 * c.gb**0.78 + 0.1 * c.days**0.8
    return max(50, round(base * factor * rng.uniform(0.97, 1.03) * 100))


def _signal(rng: random.Random, code: str, name: str, region: str) -> dict[str, Any]:
    networks = rng.choice((["3G", "4G"], ["4G"], ["4G", "5G"], ["3G", "4G", "5G"]))
    # Draw exactly as before so every package (id, price, flags) stays byte-identical across
    # versions; only how many networks were drawn is kept, the names come from the country.
    drawn = len(rng.sample(CARRIERS[region], rng.randint(1, 3)))
    own = MAJOR_CARRIERS.get(code, GENERIC_CARRIERS)
    carriers = list(own[: max(drawn, min(2, len(own)))])
    return {"code": code, "name": name, "networks": networks, "carriers": carriers}


def _allocate(rng: random.Random, caps: list[int], target: int) -> list[int]:
    raw = [rng.uniform(0.45, 1.0) * cap for cap in caps]
    scale = target / sum(raw)
    counts = [min(cap, max(1, round(r * scale))) for r, cap in zip(raw, caps, strict=True)]
    i = 0
    while sum(counts) != target:  # settle rounding drift one package at a time
        step = 1 if sum(counts) < target else -1
        if 1 <= counts[i] + step <= caps[i]:
            counts[i] += step
        i = (i + 1) % len(counts)
    return counts


@lru_cache(maxsize=4)
def build(seed: int, base_url: str) -> Catalog:
    """The pristine catalog for a seed; cached, callers must `.copy()` before editing."""
    rng = random.Random(seed)
    dests = destinations()
    region_of = {c: r for c, _, r in COUNTRIES}
    name_of = {c: n for c, n, _ in COUNTRIES}
    signals = {c: _signal(rng, c, name_of[c], region_of[c]) for c, _, _ in COUNTRIES}
    combos = [_combos(d) for d in dests]
    voice_slugs = set(rng.sample(sorted(d.slug for d in dests if d.geography == "local"), VOICE_SMS_COUNT))
    counts = _allocate(rng, [len(c) for c in combos], TARGET_PACKAGES - VOICE_SMS_COUNT)

    raw_groups: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    for d, cs, n in zip(dests, combos, counts, strict=True):
        lo, hi = {"local": (0.85, 1.6), "regional": (1.15, 1.7), "global": (1.8, 2.6)}[d.geography]
        factor = rng.uniform(lo, hi)
        apn = rng.choice(APNS)
        auto_apn = rng.random() > 0.08
        hotspot = rng.random() > 0.1
        dest_install = rng.random() < 0.15
        kbps = rng.choice(THROTTLE_KBPS)
        keyed = sorted(cs, key=lambda c: rng.random() ** (1 / _weight(c)), reverse=True)[:n]
        keyed.sort(key=lambda c: (c.gb is None, c.days, c.gb or 0, c.threshold))
        pkgs: list[dict[str, Any]] = []
        for c in keyed:
            p = _template("")
            if c.gb is None:
                size = f"un{c.threshold}gb"
                label = f"Unlimited Data - {_days_label(c.days)} ({c.threshold} GB / {kbps} KBPS)"
                p.update(
                    isUnlimited=True,
                    dataAmount=MAX_SAFE_INTEGER,
                    withThrottle=True,
                    throttle={
                        "throttleSpeed": kbps,
                        "throttleSpeedUnit": "kbps",
                        "throttleThreshold": c.threshold,
                        "throttleThresholdUnit": "gb",
                    },
                )
            else:
                size, label_size, mb = _size_slug(c.gb)
                label = f"{label_size} - {_days_label(c.days)}"
                p["dataAmount"] = mb
            p.update(
                packageId=f"esim-{d.slug}-{c.days}days-{size}-all",
                package=label,
                day=c.days,
                price=money(_price_cents(rng, factor, c)),
                isAPNAutomatic=auto_apn,
                apn=apn,
                withHotspot=hotspot,
                withDestinationInstall=dest_install,
            )
            pkgs.append(p)
        if d.slug in voice_slugs:
            c = _Combo(30, 100)
            p = _template(f"esim-{d.slug}-30days-100gb-unsms-unmin-all")
            p.update(
                package="100 GB - 30 Days - Unlimited SMS and Calls",
                plan="data-call-sms",
                day=30,
                price=money(round(_price_cents(rng, factor, c) * 1.3)),
                dataAmount=102400,
                callAmount=MAX_SAFE_INTEGER,
                callUnit="minutes",
                smsAmount=MAX_SAFE_INTEGER,
                smsUnit="sms",
                withSMS=True,
                withCall=True,
                isAPNAutomatic=auto_apn,
                apn=apn,
                withHotspot=hotspot,
            )
            pkgs.append(p)
        header = {
            "id": f"{d.slug}-esims",
            "countryName": d.name,
            "countryCode": d.code,
            "countrySlug": d.slug,
            "region": d.region,
            "geography": d.geography,
            "minPrice": 0,
            "maxPrice": 0,
            "image": f"{base_url}/images/flags/{d.slug}.png",
            "signals": [signals[c] for c in d.covers],
        }
        raw_groups.append((header, pkgs))

    all_pkgs = [p for _, pkgs in raw_groups for p in pkgs]
    picks = rng.sample(range(len(all_pkgs)), TRAVEL_DATE_COUNT + NO_USAGE_CHECK_COUNT + NO_TOPUP_COUNT)
    travel = picks[:TRAVEL_DATE_COUNT]
    no_usage = picks[TRAVEL_DATE_COUNT : TRAVEL_DATE_COUNT + NO_USAGE_CHECK_COUNT]
    no_topup = picks[TRAVEL_DATE_COUNT + NO_USAGE_CHECK_COUNT :]
    for i in travel:
        all_pkgs[i]["requirements"] = {"travelDate": True}
    for i in no_usage:
        all_pkgs[i]["withUsageCheck"] = False
        all_pkgs[i]["notes"] = [NO_USAGE_NOTE]
    special = {
        "travelDate": sorted(all_pkgs[i]["packageId"] for i in travel),
        "noUsageCheck": sorted(all_pkgs[i]["packageId"] for i in no_usage),
        "noTopUp": sorted(all_pkgs[i]["packageId"] for i in no_topup),
        "unlimited": [p["packageId"] for p in all_pkgs if p["isUnlimited"]][:50],
    }
    groups = [Group(h, pkgs) for h, pkgs in raw_groups]
    return Catalog(groups, set(special["noTopUp"]), special)


def topup_shape(p: dict[str, Any]) -> dict[str, Any]:
    """The nested package shape of §2.16 (top-up packages)."""
    return {
        "packageId": p["packageId"],
        "package": p["package"],
        "plan": p["plan"],
        "activation": p["activation"],
        "day": p["day"],
        "price": p["price"],
        "withHotspot": p["withHotspot"],
        "withDataRoaming": p["withDataRoaming"],
        "withDestinationInstall": p["withDestinationInstall"],
        "withUsageCheck": p["withUsageCheck"],
        "apn": {
            "apnAutomatic": p["isAPNAutomatic"],
            "apnName": p["apn"],
            "apnUsername": "",
            "apnPassword": "",
        },
        "data": {"isUnlimited": p["isUnlimited"], "dataAmount": p["dataAmount"], "dataUnit": p["dataUnit"]},
        "call": {
            "withCall": p["withCall"],
            "callType": p["callType"],
            "callAmount": p["callAmount"],
            "callUnit": p["callUnit"],
        },
        "sms": {
            "withSMS": p["withSMS"],
            "smsType": p["smsType"],
            "smsAmount": p["smsAmount"],
            "smsUnit": p["smsUnit"],
        },
        "notes": p["notes"],
    }
