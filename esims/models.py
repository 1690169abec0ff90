from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from core.money import format_money

from . import balance as balance_rule


class EsimQuerySet(models.QuerySet):
    def owned_by(self, user) -> EsimQuerySet:
        return self.filter(customer=user) if user.is_authenticated else self.none()


class RefundState(models.TextChoices):
    """What the shop did with an eSIM it refunded (set by checkout's refund, through `services`)."""

    NONE = "", gettext_lazy("Not refunded")
    REFUNDED = "refunded", gettext_lazy("Refunded")
    CANCELLED = (
        "cancelled",
        gettext_lazy("Cancelled"),
    )  # Roamify accepted the refund request: it took the eSIM back


# Upstream took the eSIM back (revoked, or its refund approved: spec §5.2): nothing can be added to it.
DEAD_STATUSES = frozenset({"REVOKED"})
# Why an eSIM takes no top-up, by key (pages that say it in a whole sentence of their own pick by key).
NO_TOP_UPS = "no_top_ups"  # the refusal of an eSIM whose plan takes none (`withTopUp`)
# Each ends a sentence after a colon, e.g. "Japan, 5 GB top-up was removed from your cart: it was refunded."
TOPUP_REFUSALS = {
    # Translators: why an eSIM takes no top-up; ends a sentence after a colon ("…: it was refunded.").
    "refunded_cancelled": gettext_lazy("it was refunded and cancelled"),
    # Translators: why an eSIM takes no top-up; ends a sentence after a colon ("…: it was refunded.").
    "refunded": gettext_lazy("it was refunded"),
    # Translators: why an eSIM takes no top-up; ends a sentence after a colon ("…: it was refunded.").
    "revoked": gettext_lazy("it was revoked by the network"),
    # Translators: why an eSIM takes no top-up; ends a sentence after a colon ("…: it was refunded.").
    "expired": gettext_lazy("it has expired"),
    # Translators: why an eSIM takes no top-up; ends a sentence after a colon ("…: it was refunded.").
    NO_TOP_UPS: gettext_lazy("it can't be topped up"),
    # Translators: why an eSIM takes no top-up; ends a sentence after a colon ("…: it was refunded.").
    "not_ready": gettext_lazy("it isn't ready yet"),
}


class Esim(models.Model):
    """An eSIM delivered to a customer, as upstream made it."""

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="esims"
    )
    email = models.EmailField(
        blank=True, db_index=True, help_text=gettext_lazy("Where its install details went")
    )
    title = models.CharField(
        max_length=300, blank=True, help_text=gettext_lazy("What was bought, e.g. Japan eSIM, 5 GB")
    )
    package_id_upstream = models.CharField(max_length=160, blank=True)
    upstream_esim_id = models.CharField(max_length=64, unique=True)
    upstream_order_id = models.CharField(max_length=64, blank=True)
    iccid = models.CharField(max_length=32, blank=True, db_index=True)
    status = models.CharField(max_length=20, blank=True)
    lpa_code = models.CharField(max_length=500, blank=True)
    smdp_address = models.CharField(max_length=255, blank=True)
    activation_code = models.CharField(max_length=255, blank=True)
    ios_install_url = models.URLField(max_length=1000, blank=True)
    android_install_url = models.URLField(max_length=1000, blank=True)
    apn_automatic = models.BooleanField(default=True)
    apn_name = models.CharField(max_length=100, blank=True)
    apn_username = models.CharField(max_length=100, blank=True)
    apn_password = models.CharField(max_length=100, blank=True)
    with_top_up = models.BooleanField(default=False)
    with_usage_check = models.BooleanField(
        default=True, help_text=gettext_lazy("Upstream reports data used and left")
    )
    notes = models.JSONField(
        default=list, blank=True, help_text=gettext_lazy("Upstream's notes, e.g. how to check usage")
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    # Kept apart from `status` (upstream's word, which stays READY after a refund): the shop's own.
    refund_state = models.CharField(max_length=10, choices=RefundState.choices, blank=True, default="")
    refunded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EsimQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = gettext_lazy("eSIM")

    def __str__(self) -> str:
        return self.iccid or self.upstream_esim_id

    @property
    def is_ready(self) -> bool:
        return bool(self.lpa_code)

    @property
    def topup_refusal_key(self) -> str:
        """Why no top-up can be sold for this eSIM, as a key of TOPUP_REFUSALS ('' when one can).

        From the row as the shop knows it (webhooks and upstream's answers keep it current); a
        purchase asks upstream again first (`services.confirm_status`)."""
        if self.refund_state == RefundState.CANCELLED:
            return "refunded_cancelled"
        if self.refund_state == RefundState.REFUNDED:
            return "refunded"
        if self.status.upper() in DEAD_STATUSES:
            return "revoked"
        # Its validity ran out (not its data: an eSIM whose data ran out is what a top-up is for).
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        if not self.with_top_up:
            return NO_TOP_UPS
        if not self.iccid:
            return "not_ready"
        return ""

    @property
    def topup_refusal(self) -> str:
        """The same reason in the active language, as the end of a sentence ('' when one can)."""
        key = self.topup_refusal_key
        return str(TOPUP_REFUSALS[key]) if key else ""

    @property
    def iccid_masked(self) -> str:
        """The ICCID as pages that can be shared show it: its last four digits only."""
        return f"…{self.iccid[-4:]}" if self.iccid else ""


class RoamifyEvent(models.Model):
    """A webhook from Roamify, stored once (by a digest of its signed body) before any work."""

    digest = models.CharField(max_length=64, unique=True, help_text=gettext_lazy("SHA-256 of the raw body"))
    category = models.CharField(max_length=30)
    event_type = models.CharField(max_length=40)
    iccid = models.CharField(max_length=32, blank=True, db_index=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = gettext_lazy("Roamify event")

    def __str__(self) -> str:
        return f"{self.category}/{self.event_type} {self.iccid}".strip()


class LowDataAlert(models.Model):
    """One low-data threshold reached by one eSIM's allowance: the email goes once per row."""

    esim = models.ForeignKey(Esim, on_delete=models.CASCADE, related_name="low_data_alerts")
    # The allowance the threshold belongs to (package and allowed MB): a top-up starts a new one.
    allowance_key = models.CharField(max_length=200)
    threshold = models.PositiveSmallIntegerField(help_text=gettext_lazy("Percent of data used"))
    percent_used = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    skipped = models.BooleanField(
        default=False, help_text=gettext_lazy("Passed together with a higher threshold")
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["esim", "allowance_key", "threshold"], name="low_data_alert_once")
        ]

    def __str__(self) -> str:
        return f"{self.esim} {self.threshold}%"


class PartnerBalance(models.Model):
    """The shop's balance with Roamify as last reported (one row), and whether admins were told."""

    balance_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="USD")
    source = models.CharField(max_length=40, help_text=gettext_lazy("webhook event or check"))
    checked_at = models.DateTimeField()
    alerted_at = models.DateTimeField(
        null=True, blank=True, help_text=gettext_lazy("Set while an alert stands")
    )
    alert_sent_at = models.DateTimeField(
        null=True, blank=True, help_text=gettext_lazy("When admins were emailed")
    )
    daily_cost_cents = models.BigIntegerField(
        default=0,
        help_text=gettext_lazy("Wholesale cost of a day of sales at the last 7 days' pace, when checked"),
    )

    class Meta:
        verbose_name = gettext_lazy("Roamify partner balance")

    def __str__(self) -> str:
        return format_money(self.balance_cents, self.currency)

    @property
    def days_covered(self) -> float | None:
        return balance_rule.days_covered(self.balance_cents, self.daily_cost_cents)

    @property
    def low_reasons(self) -> list[str]:
        """Why the balance is low (the settings as they are now), empty while it is comfortable."""
        return balance_rule.low_reasons(self.balance_cents, self.daily_cost_cents, self.currency)
