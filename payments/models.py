from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy

from core.money import format_money


class PaymentQuerySet(models.QuerySet):
    def captured(self) -> PaymentQuerySet:
        return self.filter(status__in=Payment.CAPTURED_STATES)

    def captured_cents(self) -> int:
        return self.captured().aggregate(s=Sum("amount_cents"))["s"] or 0


class Payment(models.Model):
    """Money for one order through one provider: a card session, a gift card, ...

    `external_reference` is the provider's id for it (a Checkout Session id),
    empty for providers that have none.
    """

    class Status(models.TextChoices):
        CREATED = "created", gettext_lazy("Created")  # waiting for the customer (a redirect provider)
        RESERVED = "reserved", gettext_lazy("Reserved")  # held, taken when the order is paid
        CAPTURED = "captured", gettext_lazy("Captured")
        FAILED = "failed", gettext_lazy("Failed or expired")
        CANCELLED = "cancelled", gettext_lazy("Cancelled")
        PARTIALLY_REFUNDED = "partially_refunded", gettext_lazy("Partly refunded")
        REFUNDED = "refunded", gettext_lazy("Refunded")

    CAPTURED_STATES = (Status.CAPTURED, Status.PARTIALLY_REFUNDED, Status.REFUNDED)
    OPEN_STATES = (Status.CREATED, Status.RESERVED)

    # A lazy reference: payments never import checkout.
    order = models.ForeignKey("checkout.Order", on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=30)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CREATED, db_index=True)
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    refunded_cents = models.PositiveIntegerField(default=0)
    # The same in the shop's base currency, at the order's rate (the books read these).
    base_amount_cents = models.PositiveIntegerField(default=0)
    base_refunded_cents = models.PositiveIntegerField(default=0)
    external_reference = models.CharField(
        max_length=255,
        blank=True,
        db_index=True,
        help_text=gettext_lazy("The provider's id (Stripe: the Checkout Session)"),
    )
    capture_reference = models.CharField(
        max_length=255,
        blank=True,
        db_index=True,
        help_text=gettext_lazy("What refunds go against (Stripe: the PaymentIntent)"),
    )
    redirect_url = models.URLField(max_length=1000, blank=True)
    attempt = models.PositiveIntegerField(default=1)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    captured_at = models.DateTimeField(null=True, blank=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_reference"],
                condition=~Q(external_reference=""),
                name="payment_unique_reference",
            ),
            models.CheckConstraint(
                condition=Q(refunded_cents__lte=models.F("amount_cents")), name="payment_refund_within_amount"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {format_money(self.amount_cents, self.currency)} ({self.status})"

    def save(self, *args, **kwargs) -> None:
        if self.currency == settings.SHOP_CURRENCY:  # at rate 1 the base amounts are the amounts
            self.base_amount_cents, self.base_refunded_cents = self.amount_cents, self.refunded_cents
        super().save(*args, **kwargs)

    @property
    def refundable_cents(self) -> int:
        return self.amount_cents - self.refunded_cents if self.status in self.CAPTURED_STATES else 0


class PaymentRefund(models.Model):
    """Money sent back on one payment, through its provider."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_cents = models.PositiveIntegerField()
    base_amount_cents = models.PositiveIntegerField(default=0, help_text="In the base currency")
    external_reference = models.CharField(max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    reason = models.CharField(max_length=500, blank=True)
    actor = models.CharField(max_length=150, default="system")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{format_money(self.amount_cents, self.payment.currency)} on payment {self.payment_id}"

    def save(self, *args, **kwargs) -> None:
        if self.payment.currency == settings.SHOP_CURRENCY:
            self.base_amount_cents = self.amount_cents
        super().save(*args, **kwargs)


class StripeEvent(models.Model):
    """Each Stripe webhook event, stored once: a redelivery is recognised and ignored."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)
    reference = models.CharField(
        max_length=255, blank=True, help_text=gettext_lazy("What it was about (a session id)")
    )

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class SavedCard(models.Model):
    """A card its owner chose to keep for next time, as Stripe holds it (a PaymentMethod attached to
    a Stripe Customer). Only Stripe's display data is kept here: never a card number.

    Stripe's card data, kept by the Stripe provider (`providers/stripe_saved.py`); the rest of the
    shop reads brand, last 4 and expiry. `user`: the account that saved it (a guest saves no card).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_cards")
    provider_customer = models.CharField(max_length=255, help_text=gettext_lazy("Stripe's Customer id"))
    payment_method = models.CharField(
        max_length=255, unique=True, help_text=gettext_lazy("Stripe's PaymentMethod id")
    )
    brand = models.CharField(max_length=30, blank=True)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    # The payment whose Checkout saved it (exactly once: the webhook and the return page both try).
    saved_by_payment = models.OneToOneField(
        Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="saved_card"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.brand_label} •••• {self.last4}"

    @property
    def brand_label(self) -> str:
        """Stripe's brand word as the card shows it (a brand name: never translated)."""
        names = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express"}
        return names.get(self.brand, self.brand.title() or "Card")

    @property
    def expiry(self) -> str:
        return f"{self.exp_month:02d}/{self.exp_year % 100:02d}"
