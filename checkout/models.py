from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse

# Crockford-style alphabet: no 0/O, 1/I/L, easy to read out on the phone.
NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_order_number() -> str:
    """e.g. RE-7K4M-2Q9X: 8 random characters (~40 bits), never sequential."""
    chars = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))
    return f"RE-{chars[:4]}-{chars[4:]}"


def new_access_token() -> str:
    return secrets.token_urlsafe(24)


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", "Waiting for payment"
    PAID = "paid", "Paid"
    FULFILLING = "fulfilling", "Preparing eSIM"
    COMPLETED = "completed", "Completed"
    REQUIRES_ACTION = "requires_action", "Needs attention"
    REFUNDED = "refunded", "Refunded"
    CANCELLED = "cancelled", "Cancelled"


class OrderQuerySet(models.QuerySet):
    def for_customer(self, user) -> OrderQuerySet:
        return self.filter(customer=user) if user.is_authenticated else self.none()

    def needing_action(self) -> OrderQuerySet:
        return self.filter(status=OrderStatus.REQUIRES_ACTION)


class Order(models.Model):
    class Kind(models.TextChoices):
        ESIM = "esim", "eSIM"
        TOPUP = "topup", "Top-up"

    number = models.CharField(max_length=20, unique=True, default=new_order_number, editable=False)
    access_token = models.CharField(max_length=64, default=new_access_token, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ESIM)
    status = models.CharField(max_length=20, choices=OrderStatus.choices,
                              default=OrderStatus.PENDING_PAYMENT, db_index=True)
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="orders")
    email = models.EmailField(db_index=True)
    currency = models.CharField(max_length=3)
    total_cents = models.PositiveIntegerField()
    travel_date = models.DateField(null=True, blank=True,
                                   help_text="Start date for plans that need one")
    action_reason = models.TextField(blank=True, help_text="Why the order needs attention")
    upstream_order_id = models.CharField(max_length=64, blank=True, db_index=True)
    fulfilment_attempts = models.PositiveIntegerField(default=0)
    fulfilment_lease_until = models.DateTimeField(null=True, blank=True)
    esim_email_sent_at = models.DateTimeField(null=True, blank=True)
    receipt_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("checkout:order", args=[self.number]) + f"?t={self.access_token}"

    @property
    def is_paid(self) -> bool:
        return self.status not in (OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED)


class OrderLine(models.Model):
    """What was bought, at the price of the moment: later catalog changes don't touch it."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    package = models.ForeignKey("catalog.Package", on_delete=models.PROTECT, related_name="+")
    package_id_upstream = models.CharField(max_length=160)
    description = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField()
    unit_price_cents = models.PositiveIntegerField()
    total_cents = models.PositiveIntegerField()
    wholesale_cents = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.quantity} × {self.description}"


class Payment(models.Model):
    class Status(models.TextChoices):
        CREATED = "created"
        SUCCEEDED = "succeeded"
        EXPIRED = "expired"
        REFUNDED = "refunded"
        PARTIALLY_REFUNDED = "partially_refunded"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    provider = models.CharField(max_length=20, default="stripe")
    session_id = models.CharField(max_length=255, unique=True)
    checkout_url = models.URLField(max_length=1000, blank=True)
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CREATED)
    refunded_cents = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.provider} {self.session_id} ({self.status})"


class OrderEvent(models.Model):
    """The order's timeline: every transition and every notable thing done to it."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=40)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    message = models.TextField(blank=True)
    actor = models.CharField(max_length=150, default="system")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.kind} {self.message}"


class StripeEvent(models.Model):
    """Each Stripe webhook event, stored once: a redelivery is recognised and ignored."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)
    order_number = models.CharField(max_length=20, blank=True)

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class Esim(models.Model):
    """An eSIM delivered to a customer, as upstream made it."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="esims")
    order_line = models.ForeignKey(OrderLine, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="esims")
    package = models.ForeignKey("catalog.Package", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="esims")
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
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "eSIM"

    def __str__(self) -> str:
        return self.iccid or self.upstream_esim_id

    @property
    def is_ready(self) -> bool:
        return bool(self.lpa_code)
