from __future__ import annotations

import secrets
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy

from core.money import minor_digits
from esims.models import Esim

from .events import OrderEventKind

# Crockford-style alphabet: no 0/O, 1/I/L, easy to read out on the phone.
NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_order_number() -> str:
    """e.g. RE-7K4M-2Q9X: 8 random characters (~40 bits), never sequential."""
    chars = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))
    return f"RE-{chars[:4]}-{chars[4:]}"


def new_access_token() -> str:
    return secrets.token_urlsafe(24)


class OrderStatus(models.TextChoices):
    # Translators: an order's status, shown to its buyer and to staff.
    PENDING_PAYMENT = "pending_payment", gettext_lazy("Waiting for payment")
    PAID = "paid", gettext_lazy("Paid")
    FULFILLING = "fulfilling", gettext_lazy("Preparing eSIM")
    COMPLETED = "completed", gettext_lazy("Completed")
    REQUIRES_ACTION = "requires_action", gettext_lazy("Needs attention")
    REFUNDED = "refunded", gettext_lazy("Refunded")
    CANCELLED = "cancelled", gettext_lazy("Cancelled")


class OrderQuerySet(models.QuerySet):
    def for_customer(self, user) -> OrderQuerySet:
        return self.filter(customer=user) if user.is_authenticated else self.none()

    def needing_action(self) -> OrderQuerySet:
        return self.filter(status=OrderStatus.REQUIRES_ACTION)


class Order(models.Model):
    number = models.CharField(max_length=20, unique=True, default=new_order_number, editable=False)
    access_token = models.CharField(max_length=64, default=new_access_token, editable=False)
    # The cart's token: a double submit of one cart finds this order instead of placing another.
    checkout_key = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    status = models.CharField(
        max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT, db_index=True
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    email = models.EmailField(db_index=True)
    customer_name = models.CharField(
        max_length=200, blank=True, help_text=gettext_lazy("As the buyer gave it when paying")
    )
    customer_phone = models.CharField(
        max_length=40, blank=True, help_text=gettext_lazy("As the buyer gave it when paying")
    )
    currency = models.CharField(max_length=3)
    # The page's language when it was placed: every email about the order goes out in it.
    language = models.CharField(max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    total_cents = models.PositiveIntegerField()
    # The rate it was priced at (units of `currency` per one unit of the shop's base currency) and
    # the order's total in the base currency at that rate: the books read these, never today's rate.
    rate_per_base = models.DecimalField(max_digits=20, decimal_places=10, default=Decimal(1))
    rate_fetched_at = models.DateTimeField(null=True, blank=True)
    base_total_cents = models.PositiveIntegerField(
        default=0, help_text=gettext_lazy("The total in the base currency")
    )
    travel_date = models.DateField(
        null=True, blank=True, help_text=gettext_lazy("Start date for plans that need one")
    )
    # Discounts (issue 22): what the code took off the lines (total_cents is after it), and the code.
    discount_cents = models.PositiveIntegerField(default=0)
    base_discount_cents = models.PositiveIntegerField(default=0)
    discount_code = models.ForeignKey(
        "discounts.DiscountCode", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    action_reason = models.TextField(blank=True, help_text=gettext_lazy("Why the order needs attention"))
    upstream_order_id = models.CharField(max_length=64, blank=True, db_index=True)
    fulfilment_attempts = models.PositiveIntegerField(default=0)
    fulfilment_lease_until = models.DateTimeField(null=True, blank=True)
    esim_email_sent_at = models.DateTimeField(null=True, blank=True)
    receipt_sent_at = models.DateTimeField(null=True, blank=True)
    staff_alerted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=gettext_lazy("When staff were emailed that the order needs action (once)"),
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Attribution: where the visit that placed it came from (core.attribution.Visit, its lengths);
    # empty when unknown, and for one-tap and automatic top-ups (no visit).
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=100, blank=True)
    utm_term = models.CharField(max_length=100, blank=True)
    utm_content = models.CharField(max_length=100, blank=True)
    ref = models.CharField(max_length=64, blank=True)
    referrer = models.CharField(max_length=255, blank=True, help_text=gettext_lazy("The referring site"))
    landing_path = models.CharField(max_length=255, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs) -> None:
        if self.in_base_currency:  # at rate 1 the base amount is the amount, whoever wrote the row
            self.base_total_cents = self.total_cents
            self.base_discount_cents = self.discount_cents
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        """The order page for whoever may already see it (the owner, or a session that has it)."""
        return reverse("checkout:order_detail", args=[self.number])

    def access_url(self) -> str:
        """The link that opens the order for anyone holding it (emails, the payment page's return).

        Its first visit puts the order in the visitor's session and redirects to the clean URL.
        """
        return f"{self.get_absolute_url()}?t={self.access_token}"

    @property
    def in_base_currency(self) -> bool:
        return self.currency == settings.SHOP_CURRENCY

    def base_cents(self, amount: int) -> int:
        """`amount` minor units of the order's currency in the base currency, at the order's own rate.

        Slices of the order (lines, payments) take differences of this on running sums
        (`payments.amounts`), so they add up to the base total exactly."""
        if self.in_base_currency:
            return amount
        scale = Decimal(10) ** (minor_digits(settings.SHOP_CURRENCY) - minor_digits(self.currency))
        return int((Decimal(amount) * scale / self.rate_per_base).to_integral_value(ROUND_HALF_UP))

    @property
    def is_paid(self) -> bool:
        return self.status not in (OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED)

    @property
    def esims_expected(self) -> bool:
        return any(line.kind == LineKind.ESIM for line in self.lines.all())

    @property
    def esims(self):
        """The eSIMs delivered for this order's eSIM lines."""
        return Esim.objects.filter(order_lines__order=self)


class LineKind(models.TextChoices):
    ESIM = "esim", "eSIM"
    TOPUP = "topup", gettext_lazy("Top-up")
    GIFTCARD = "giftcard", gettext_lazy("Gift card")


class OrderLine(models.Model):
    """What was bought, at the price of the moment: later catalog changes don't touch it.

    An eSIM line is a catalog package; a top-up line is a package for one of
    the customer's eSIMs (`esim`); a gift card line is an amount.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=10, choices=LineKind.choices, default=LineKind.ESIM)
    package = models.ForeignKey(
        "catalog.Package", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    package_id_upstream = models.CharField(max_length=160, blank=True)
    esim = models.ForeignKey(
        Esim,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="topup_lines",
        help_text=gettext_lazy("The eSIM a top-up is for"),
    )
    description = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField()
    unit_price_cents = models.PositiveIntegerField()
    total_cents = models.PositiveIntegerField()  # sold for: after the line's discount
    base_total_cents = models.PositiveIntegerField(default=0, help_text="The total in the base currency")
    # What the order's discount code took off this line (list total = total_cents + discount_cents).
    discount_cents = models.PositiveIntegerField(default=0)
    base_discount_cents = models.PositiveIntegerField(default=0)
    wholesale_cents = models.PositiveIntegerField(default=0)
    esims = models.ManyToManyField(
        Esim,
        blank=True,
        related_name="order_lines",
        help_text=gettext_lazy("The eSIMs delivered for an eSIM line"),
    )
    upstream_order_id = models.CharField(max_length=64, blank=True, db_index=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    # Refunds by line (not goodwill amounts): what went back for it, and when all of it had.
    refunded_cents = models.PositiveIntegerField(
        default=0, help_text=gettext_lazy("Given back by refunds of this line")
    )
    refunded_at = models.DateTimeField(
        null=True, blank=True, help_text=gettext_lazy("When the whole line was refunded")
    )
    data = models.JSONField(default=dict, blank=True, help_text=gettext_lazy("What the line's kind needs"))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                name="orderline_package_by_kind",
                condition=(
                    Q(kind__in=[LineKind.ESIM, LineKind.TOPUP], package__isnull=False)
                    | Q(kind=LineKind.GIFTCARD, package__isnull=True)
                ),
            ),
            models.CheckConstraint(
                name="orderline_esim_only_for_topup",
                condition=Q(kind=LineKind.TOPUP, esim__isnull=False)
                | (~Q(kind=LineKind.TOPUP) & Q(esim__isnull=True)),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.description}"

    def save(self, *args, **kwargs) -> None:
        if self.order.in_base_currency:
            self.base_total_cents = self.total_cents
            self.base_discount_cents = self.discount_cents
        super().save(*args, **kwargs)

    @property
    def list_total_cents(self) -> int:
        """The line before its discount."""
        return self.total_cents + self.discount_cents

    def paid_unit_cents(self, index: int) -> int:
        """What the `index`-th unit (from 0) of the line was paid: its share of `total_cents`, whole
        cents, the units adding up to the total exactly."""
        per = self.quantity or 1
        return self.total_cents * (index + 1) // per - self.total_cents * index // per

    @property
    def upstream_reference(self) -> str:
        """The referenceId of this line's own upstream order (top-ups: one order per line)."""
        return f"{self.order.number}-T{self.pk}"


class OrderEvent(models.Model):
    """The order's timeline: every transition and every notable thing done to it."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=40, choices=OrderEventKind.choices)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    message = models.TextField(blank=True)
    actor = models.CharField(max_length=150, default="system")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.kind} {self.message}"


class UpstreamRefund(models.Model):
    """A refund request filed with Roamify for one eSIM of a refunded order: the claim for its cost.

    One per eSIM while it is open or refunded (a rejected or cancelled one may be filed again).
    `requested` means the row exists and the call upstream has not answered yet (or failed): the
    next attempt looks the request up before filing another.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", gettext_lazy("Being filed")
        PENDING = "pending", gettext_lazy("Waiting for Roamify")
        PROCESSING = "processing", gettext_lazy("Roamify is processing it")
        REFUNDED = "refunded", gettext_lazy("Cost refunded")
        REJECTED = "rejected", gettext_lazy("Rejected")
        CANCELLED = "cancelled", gettext_lazy("Cancelled")

    OPEN = (Status.REQUESTED, Status.PENDING, Status.PROCESSING)

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="upstream_refunds")
    esim = models.ForeignKey(Esim, on_delete=models.PROTECT, related_name="+")
    refund_id = models.CharField(
        max_length=64, blank=True, db_index=True, help_text=gettext_lazy("Roamify's refundId")
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED, db_index=True)
    cost_cents = models.PositiveIntegerField(
        default=0, help_text=gettext_lazy("The wholesale cost it claims back")
    )
    currency = models.CharField(max_length=3, default="USD")
    reason = models.CharField(max_length=40)
    notes = models.CharField(max_length=500, blank=True)
    rejection_reason = models.TextField(blank=True)
    last_error = models.TextField(blank=True)
    requested_by = models.CharField(max_length=150, default="system")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = gettext_lazy("upstream refund request")
        constraints = [
            models.UniqueConstraint(
                fields=["esim"],
                name="upstream_refund_one_live_per_esim",
                condition=Q(status__in=["requested", "pending", "processing", "refunded"]),
            ),
        ]

    def __str__(self) -> str:
        return f"Refund request {self.refund_id or '(being filed)'} for eSIM {self.esim}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class Customer(models.Model):
    """Everyone who ordered, by email: a guest and the account with the same email are one customer.

    Kept by checkout as orders are placed and paid (the name and phone come from the payment page).
    """

    email = models.EmailField(unique=True, help_text=gettext_lazy("Lower case"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=200, blank=True, db_index=True)
    phone = models.CharField(max_length=40, blank=True, db_index=True)
    note = models.TextField(blank=True, help_text=gettext_lazy("For staff only"))
    # Created once, the first time this customer saves a card (Stripe's Customer holds the cards).
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


class AutoTopup(models.Model):
    """A customer's standing order for one eSIM: when data left falls below `below_mb` (or fewer
    than `below_days` days are left), buy `package` with `card`, at most `max_per_month` times and
    `max_cents_per_month` (in `currency`) a calendar month. Off, or paused with the reason why."""

    class Pause(models.TextChoices):
        NONE = "", gettext_lazy("Running")
        DECLINED = "declined", gettext_lazy("The card was declined")
        AUTHENTICATION = "authentication", gettext_lazy("The bank asked to confirm the payment")
        CAP = "cap", gettext_lazy("This month's limit was reached")
        UNDELIVERABLE = "undeliverable", gettext_lazy("The top-up can't be delivered to this eSIM")
        NO_CARD = "no_card", gettext_lazy("The saved card was removed")

    esim = models.OneToOneField(Esim, on_delete=models.CASCADE, related_name="auto_topup")
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    package = models.ForeignKey("catalog.Package", on_delete=models.PROTECT, related_name="+")
    card = models.ForeignKey("payments.SavedCard", null=True, on_delete=models.SET_NULL, related_name="+")
    below_mb = models.PositiveIntegerField(null=True, blank=True)
    below_days = models.PositiveSmallIntegerField(null=True, blank=True)
    max_per_month = models.PositiveSmallIntegerField(default=2)
    max_cents_per_month = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    # The page's language when it was set up: what it emails before an order exists to say it.
    language = models.CharField(max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    enabled = models.BooleanField(default=True)
    paused = models.CharField(max_length=20, choices=Pause.choices, blank=True, default="")
    paused_message = models.TextField(blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    finish_url = models.URLField(
        max_length=1000, blank=True, help_text=gettext_lazy("Where to finish a payment")
    )
    # When it was last set up or turned on again: a crossing stopped before then may be tried again.
    armed_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = gettext_lazy("automatic top-up")
        constraints = [
            models.CheckConstraint(
                name="auto_topup_has_a_trigger",
                condition=Q(below_mb__isnull=False) | Q(below_days__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"Automatic top-up of eSIM {self.esim}"

    @property
    def running(self) -> bool:
        return self.enabled and not self.paused


class AutoTopupCrossing(models.Model):
    """One crossing of an automatic top-up's threshold by one allowance of the eSIM (its data and
    end date: a top-up makes a new one). Unique in the database, so a storm of usage webhooks makes
    one row, queues one task and, through the idempotency key made from it, charges once."""

    class Status(models.TextChoices):
        PENDING = "pending", gettext_lazy("Waiting")
        CHARGING = "charging", gettext_lazy("Charging")
        BOUGHT = "bought", gettext_lazy("Bought")
        STOPPED = "stopped", gettext_lazy("Not bought")

    rule = models.ForeignKey(AutoTopup, on_delete=models.CASCADE, related_name="crossings")
    esim = models.ForeignKey(Esim, on_delete=models.CASCADE, related_name="+")
    allowance_key = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    amount_cents = models.PositiveIntegerField(default=0, help_text=gettext_lazy("In the rule's currency"))
    # "bought", or why not (an `AutoTopup.Pause` value, or "off" when it was turned off meanwhile).
    reason = models.CharField(max_length=20, blank=True)
    message = models.TextField(blank=True)
    # Each try (a first one, and one after the customer turned it on again) charges with its own key.
    attempt = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["esim", "allowance_key"], name="auto_topup_once_per_crossing")
        ]

    def __str__(self) -> str:
        return f"{self.esim} {self.allowance_key} {self.status}"

    @property
    def idempotency_key(self) -> str:
        return f"auto-topup-{self.esim_id}-{self.pk}-{self.attempt}"


# --- Marketing emails (issue 22): consent, and the one abandoned-cart email per order ----------------


class MarketingConsent(models.Model):
    """Whether an email address may get marketing email ("tell me about offers"): one row per
    address, lower case. Consent is given at checkout (a tick, never pre-ticked) or in the account's
    settings; it is withdrawn by the account's toggle or an unsubscribe link, never by an unticked box
    at checkout. Only `consented_at` set and `withdrawn_at` empty means yes."""

    class Source(models.TextChoices):
        CHECKOUT = "checkout", gettext_lazy("Checkout")
        ACCOUNT = "account", gettext_lazy("Account settings")
        UNSUBSCRIBE = "unsubscribe", gettext_lazy("Unsubscribe link")

    email = models.EmailField(unique=True, help_text=gettext_lazy("Lower case"))
    consented_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # Where the latest yes or no was given.
    source = models.CharField(max_length=12, choices=Source.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = gettext_lazy("marketing consent")
        constraints = [
            models.CheckConstraint(
                name="marketing_consent_email_lower_case", condition=Q(email=Lower("email"))
            )
        ]

    def __str__(self) -> str:
        return f"{self.email}: {'yes' if self.active else 'no'}"

    @property
    def active(self) -> bool:
        return self.consented_at is not None and self.withdrawn_at is None


class AbandonedCartEmail(models.Model):
    """The one "you left something in your cart" email of an order. The row is the claim, made
    under the address's consent row lock before the send (unique per order: two workers never send
    two); `sent_at` is set once the mail server took it."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="abandoned_cart_email")
    email = models.EmailField(db_index=True, help_text=gettext_lazy("Lower case"))
    claimed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = gettext_lazy("abandoned cart email")

    def __str__(self) -> str:
        return f"Abandoned cart email of {self.order_id} to {self.email}"
