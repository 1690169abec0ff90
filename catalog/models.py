from __future__ import annotations

import math

from django.db import models
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext


class Geography(models.TextChoices):
    LOCAL = "local", gettext_lazy("Country")
    REGIONAL = "regional", gettext_lazy("Region")
    # Translators: a destination kind: a plan that works worldwide.
    GLOBAL = "global", gettext_lazy("Global")


class DestinationQuerySet(models.QuerySet):
    def active(self) -> DestinationQuerySet:
        return self.filter(active=True, package_count__gt=0)


class Destination(models.Model):
    """A country, region or the whole world, as upstream groups its packages."""

    upstream_id = models.CharField(max_length=120, unique=True, help_text=gettext_lazy("e.g. japan-esims"))
    code = models.CharField(
        max_length=20, help_text=gettext_lazy("ISO code for countries; upstream code for regions")
    )
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=140, unique=True)
    geography = models.CharField(max_length=10, choices=Geography.choices, db_index=True)
    region = models.CharField(max_length=80, blank=True, help_text=gettext_lazy("Continent or area"))
    image_url = models.URLField(max_length=500, blank=True)
    signals = models.JSONField(
        default=list, blank=True, help_text=gettext_lazy("Networks and carriers per country")
    )
    covers = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="covered_by",
        help_text=gettext_lazy("Countries a regional or global destination covers"),
    )
    markup_percent = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=gettext_lazy("Overrides the shop's markup for every package here"),
    )
    popularity = models.PositiveIntegerField(
        default=0, db_index=True, help_text=gettext_lazy("Higher shows first")
    )
    active = models.BooleanField(default=True)
    # Kept by the sync so lists need no aggregate queries.
    package_count = models.PositiveIntegerField(default=0)
    from_price_cents = models.PositiveIntegerField(null=True, blank=True)
    upstream_hash = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DestinationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["code", "name"], name="destination_code_name")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:destination", args=[self.slug])

    @property
    def local_name(self) -> str:
        """The destination's name in the active language (CLDR's name of the country, else ours)."""
        from .names import local_name

        return local_name(self)

    @property
    def local_region(self) -> str:
        """The continent or area it lies in, in the active language."""
        from .names import local_region

        return local_region(self)

    @property
    def flag(self) -> str:
        """The flag emoji of a country; a globe for regions."""
        if self.geography == Geography.LOCAL and len(self.code) == 2 and self.code.isalpha():
            return "".join(chr(0x1F1E6 + ord(c) - ord("A")) for c in self.code.upper())
        return "🌍" if self.geography == Geography.GLOBAL else "🗺️"


class PackageQuerySet(models.QuerySet):
    def active(self) -> PackageQuerySet:
        """Packages on sale: not one of a destination staff switched off, nor one held because its
        cost rose above its price (sold again once staff approve the new price)."""
        return self.filter(active=True, held_for_review=False, destination__active=True)

    def awaiting_price_review(self) -> PackageQuerySet:
        """Packages whose price the sync wanted to raise by more than PRICE_RISE_REVIEW_PERCENT."""
        return self.filter(proposed_retail_cents__isnull=False)


class Package(models.Model):
    """A data package sold upstream, with the shop's retail price."""

    package_id = models.CharField(max_length=160, unique=True)
    destination = models.ForeignKey(Destination, on_delete=models.PROTECT, related_name="packages")
    name = models.CharField(max_length=200)
    plan = models.CharField(max_length=40, blank=True)
    activation = models.CharField(max_length=40, blank=True, help_text=gettext_lazy("When validity starts"))
    days = models.PositiveIntegerField(db_index=True)
    data_mb = models.PositiveBigIntegerField(
        null=True, blank=True, help_text=gettext_lazy("Empty when unlimited")
    )
    is_unlimited = models.BooleanField(default=False, db_index=True)
    throttle_threshold_mb = models.PositiveIntegerField(null=True, blank=True)
    throttle_speed_kbps = models.PositiveIntegerField(null=True, blank=True)
    with_hotspot = models.BooleanField(default=True)
    with_data_roaming = models.BooleanField(default=True)
    with_usage_check = models.BooleanField(default=True)
    top_up_capable = models.BooleanField(default=True)
    travel_date_required = models.BooleanField(default=False)
    with_calls = models.BooleanField(default=False)
    call_minutes = models.IntegerField(null=True, blank=True)
    with_sms = models.BooleanField(default=False)
    sms_count = models.IntegerField(null=True, blank=True)
    apn = models.CharField(max_length=100, blank=True)
    apn_automatic = models.BooleanField(default=True)
    notes = models.JSONField(default=list, blank=True)
    wholesale_cents = models.PositiveIntegerField(help_text=gettext_lazy("What upstream charges us"))
    price_override_cents = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=gettext_lazy("Fixed retail price; never below cost plus the minimum margin"),
    )
    retail_cents = models.PositiveIntegerField(db_index=True)
    # A big price rise waits for staff: the sync keeps the old price and proposes the new one.
    proposed_retail_cents = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=gettext_lazy(
            "The price a cost rise calls for; the current price stays until staff approve it"
        ),
    )
    proposed_at = models.DateTimeField(null=True, blank=True)
    # db_default too: rows written by code that predates the column (an older release during a
    # deploy, a migration test's historical models) get False rather than a NOT NULL error.
    held_for_review = models.BooleanField(
        default=False,
        db_default=False,
        help_text=gettext_lazy(
            "Not sold: the cost rose above the current price, and the proposed price awaits approval"
        ),
    )
    price_per_gb_cents = models.PositiveIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True, db_index=True)
    upstream_hash = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    objects = PackageQuerySet.as_manager()

    class Meta:
        ordering = ["retail_cents"]
        indexes = [
            models.Index(fields=["destination", "active", "retail_cents"]),
            # The few packages awaiting a price review, for the dashboard's count and list.
            models.Index(
                fields=["proposed_at"],
                condition=models.Q(proposed_retail_cents__isnull=False),
                name="package_price_review",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.package_id})"

    def get_absolute_url(self) -> str:
        return reverse("catalog:package", args=[self.destination.slug, self.package_id])

    @property
    def data_label(self) -> str:
        if self.is_unlimited:
            # Translators: a plan's amount of data when there is no limit.
            return _("Unlimited")
        return format_data(self.data_mb or 0)

    @property
    def throttle_explained(self) -> str:
        """Fair use of an unlimited plan, in words a traveller understands."""
        if not (self.is_unlimited and self.throttle_threshold_mb and self.throttle_speed_kbps):
            return ""
        return _(
            "Full speed for the first %(data)s each day, then unlimited at %(speed)s kbps, enough for "
            "messages and maps but not video."
        ) % {"data": format_data(self.throttle_threshold_mb), "speed": self.throttle_speed_kbps}

    @property
    def validity_explained(self) -> str:
        days = self.days
        if self.activation == "first-use":
            return ngettext(
                "The %(days)s-day validity starts when the eSIM first connects to a network at your "
                "destination, not when you buy or install it.",
                "The %(days)s-day validity starts when the eSIM first connects to a network at your "
                "destination, not when you buy or install it.",
                days,
            ) % {"days": days}
        if self.travel_date_required:
            return ngettext(
                "Valid for %(days)s day from the travel date you choose at checkout.",
                "Valid for %(days)s days from the travel date you choose at checkout.",
                days,
            ) % {"days": days}
        return ngettext(
            "Valid for %(days)s day from installation.", "Valid for %(days)s days from installation.", days
        ) % {"days": days}


def format_data(mb: int) -> str:
    """ "5 GB", "1.5 GB", "500 MB", with the language's decimal mark and unit."""
    if mb >= 1024:
        gb = mb / 1024
        whole = gb == int(gb)
        size = number_format(gb, 0) if whole else number_format(round(gb, 1), 1)
        # gettext's plural forms take whole numbers: 1.5 GB counts as 2 (the plural in most languages).
        # Translators: an amount of data in gigabytes, e.g. "5 GB".
        return ngettext("%(size)s GB", "%(size)s GB", math.ceil(gb)) % {"size": size}
    # Translators: an amount of data in megabytes, e.g. "500 MB".
    return ngettext("%(size)s MB", "%(size)s MB", mb) % {"size": mb}


class CompatibleDevice(models.Model):
    """A phone or tablet that upstream says supports eSIM."""

    model = models.CharField(max_length=300, unique=True)
    name = models.CharField(max_length=300)
    brand = models.CharField(max_length=80, db_index=True)
    os = models.CharField(max_length=40)
    device_type = models.CharField(max_length=40)
    search_text = models.CharField(
        max_length=700, db_index=True, help_text=gettext_lazy("Lower-case model, name and brand")
    )

    class Meta:
        ordering = ["brand", "name"]

    def __str__(self) -> str:
        return self.name


class SyncRun(models.Model):
    """One catalog sync: what it found upstream and what it changed here."""

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(
        max_length=20, default="command", help_text=gettext_lazy("command, schedule or admin")
    )
    pages = models.PositiveIntegerField(default=0)
    upstream_packages = models.PositiveIntegerField(default=0)
    destinations_added = models.PositiveIntegerField(default=0)
    destinations_changed = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    deactivated = models.PositiveIntegerField(default=0)
    devices = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Sync {self.started_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def changed_anything(self) -> bool:
        return bool(
            self.added
            or self.changed
            or self.deactivated
            or self.destinations_added
            or self.destinations_changed
        )


class SyncChange(models.Model):
    """What one sync did to one package: added, changed (old and new cost and price) or deactivated."""

    class Kind(models.TextChoices):
        ADDED = "added"
        CHANGED = "changed"
        DEACTIVATED = "deactivated"

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="changes")
    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices, db_index=True)
    old_cost_cents = models.PositiveIntegerField(null=True, blank=True)
    new_cost_cents = models.PositiveIntegerField(null=True, blank=True)
    old_price_cents = models.PositiveIntegerField(null=True, blank=True)
    new_price_cents = models.PositiveIntegerField(null=True, blank=True)
    override_lifted = models.BooleanField(
        default=False, help_text=gettext_lazy("The cost rose above the price override")
    )
    proposed_price_cents = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=gettext_lazy(
            "A rise over PRICE_RISE_REVIEW_PERCENT: the old price stayed, this one awaits approval"
        ),
    )
    stopped_selling = models.BooleanField(
        default=False,
        db_default=False,
        help_text=gettext_lazy("The new cost is above the kept price: not sold until approved"),
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.package_id}"


class DestinationAlias(models.Model):
    """Another name travellers type for a destination: "UK", "Dubai", "Bali", "Holland".

    Keyed by the destination's code and geography, not by row, so aliases survive a
    re-sync that recreates destinations (and region codes such as "NA" can share an
    ISO code with a country).
    """

    alias = models.CharField(
        max_length=80, help_text=gettext_lazy("What a traveller types; case and accents don't matter")
    )
    code = models.CharField(
        max_length=20, help_text=gettext_lazy("ISO code of a country, or a region's upstream code")
    )
    geography = models.CharField(max_length=10, choices=Geography.choices, default=Geography.LOCAL)

    class Meta:
        ordering = ["code", "alias"]
        verbose_name_plural = gettext_lazy("destination aliases")
        constraints = [
            models.UniqueConstraint(fields=["alias", "code", "geography"], name="destination_alias_unique")
        ]

    def __str__(self) -> str:
        return f"{self.alias} → {self.code}"


class ContentPage(models.Model):
    """A page staff edit in admin: terms, privacy, refund policy, contact."""

    slug = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=120)
    summary = models.CharField(max_length=300, blank=True, help_text=gettext_lazy("One line under the title"))
    body = models.TextField(help_text=gettext_lazy("HTML. Keep it plain: headings, paragraphs, lists, links"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("catalog:page", args=[self.slug])


class ExchangeRate(models.Model):
    """The latest rate Roamify gave for a currency: units of it per one unit of the shop's currency.

    One row per currency, overwritten by each refresh (an order keeps the rate it was charged at).
    `fetched_at` is when we asked, so a rate too old to sell at is refused (catalog/currency.py).
    """

    currency = models.CharField(max_length=3, unique=True)
    # 12 places: a rate like 0.000271 (to a currency with a big unit) keeps its precision.
    per_base = models.DecimalField(max_digits=24, decimal_places=12)
    fetched_at = models.DateTimeField()
    # When upstream last said it was valid, if it said (else the time we asked).
    rate_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=40, default="roamify")
    # Roamify no longer lists it: kept for the record, no longer offered.
    supported = models.BooleanField(default=True)

    class Meta:
        ordering = ["currency"]

    def __str__(self) -> str:
        return f"1 base = {self.per_base} {self.currency} ({self.fetched_at:%Y-%m-%d %H:%M})"
