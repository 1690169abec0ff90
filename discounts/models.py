"""Discount codes and their uses.

A code takes a percent or a fixed amount (in the base currency) off the lines it applies to, never
below a line's cost plus the minimum margin (`rules.py`). Each order that uses a code has one
`DiscountUse`: reserved when the order is placed, released when it is cancelled unpaid, counted
when it is paid. `DiscountCode.uses` is the number of reserved and counted uses, moved only under
the code's row lock (`services.reserve`), so the total limit is exact under concurrency.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy


class Kind(models.TextChoices):
    PROMOTION = "promotion", "Promotion"
    REFERRAL = "referral", "Referral"


class LineKinds(models.TextChoices):
    """What a code may take money off (never gift cards)."""

    ESIM = "esim", "eSIM"
    TOPUP = "topup", "Top-up"


def normalize(code: str) -> str:
    """How codes are stored and looked up: upper case, no spaces around."""
    return str(code or "").strip().upper()[:40]


class DiscountCode(models.Model):
    code = models.CharField(max_length=40, unique=True, help_text="Stored in capitals; typed in any case")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PROMOTION)
    description = models.CharField(max_length=200, blank=True, help_text="For staff only")
    percent_off = models.PositiveSmallIntegerField(null=True, blank=True)
    amount_off_cents = models.PositiveIntegerField(
        null=True, blank=True, help_text="In the base currency; other currencies at the order's rate"
    )
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    max_uses = models.PositiveIntegerField(null=True, blank=True, help_text="Uses in all (empty: no limit)")
    max_uses_per_customer = models.PositiveIntegerField(
        null=True, blank=True, help_text="Per account and per email (empty: no limit)"
    )
    min_spend_cents = models.PositiveIntegerField(
        default=0, help_text="On the lines the code applies to, before the discount (base currency)"
    )
    first_order_only = models.BooleanField(
        default=False, help_text="Only for an email and account without an earlier paid order"
    )
    destinations = models.ManyToManyField("catalog.Destination", blank=True, related_name="+")
    regions = models.JSONField(default=list, blank=True, help_text="Destinations' regions (e.g. Asia)")
    packages = models.ManyToManyField("catalog.Package", blank=True, related_name="+")
    line_kinds = models.JSONField(default=list, blank=True, help_text="eSIM, top-up (empty: both)")
    active = models.BooleanField(default=True)
    # A used code stays with its orders (they PROTECT it) when its referrer deletes their account:
    # detached then, and switched off (accounts.services.delete_account).
    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uses = models.PositiveIntegerField(default=0, editable=False, help_text="Reserved and counted uses")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "discount code"
        constraints = [
            models.UniqueConstraint(Upper("code"), name="discount_code_unique_any_case"),
            models.CheckConstraint(
                name="discount_percent_or_amount",
                condition=(
                    Q(percent_off__isnull=False, amount_off_cents__isnull=True, percent_off__gte=1)
                    & Q(percent_off__lte=100)
                )
                | Q(percent_off__isnull=True, amount_off_cents__isnull=False, amount_off_cents__gte=1),
            ),
            models.UniqueConstraint(
                fields=["referrer"], condition=Q(kind="referral"), name="discount_one_referral_code_each"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def save(self, *args, **kwargs) -> None:
        self.code = normalize(self.code)
        super().save(*args, **kwargs)


class DiscountUse(models.Model):
    """One order's use of a code: what it took off, and whether it still counts."""

    class Status(models.TextChoices):
        RESERVED = "reserved", "Reserved (order waiting for payment)"
        COUNTED = "counted", "Counted (order paid)"
        RELEASED = "released", "Released (order cancelled unpaid)"

    code = models.ForeignKey(DiscountCode, on_delete=models.PROTECT, related_name="use_records")
    order = models.OneToOneField("checkout.Order", on_delete=models.CASCADE, related_name="discount_use")
    email = models.EmailField(db_index=True, help_text=gettext_lazy("Lower case"))
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RESERVED)
    amount_cents = models.PositiveIntegerField(help_text="What it took off, in the order's currency")
    currency = models.CharField(max_length=3)
    base_amount_cents = models.PositiveIntegerField(help_text="The same in the base currency")
    created_at = models.DateTimeField(auto_now_add=True)
    counted_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["code", "status"])]

    def __str__(self) -> str:
        return f"{self.code} on order {self.order_id}"
