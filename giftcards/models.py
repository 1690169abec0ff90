"""Gift cards, their ledger, the one-time codes that confirm a revoke, and API tokens.

A card's balance is a cache of its ledger: every change writes a
`GiftCardTransaction` under the card's row lock, and the balance always
equals the sum of the card's transactions (a database constraint keeps it
from going negative). The code itself is never stored: only a keyed hash and
its last four characters.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from core.money import format_money


class Template(models.TextChoices):
    """The designs a buyer chooses from (`template_suffix` in the API)."""

    GLOBE = "globe", gettext_lazy("Around the globe")
    SUNSET = "sunset", gettext_lazy("Beach sunset")
    MOUNTAINS = "mountains", gettext_lazy("Mountain trail")
    CITY = "city", gettext_lazy("City lights")


class Status(models.TextChoices):
    ACTIVE = "active", gettext_lazy("Active")
    DISABLED = "disabled", gettext_lazy("Disabled")
    EXPIRED = "expired", gettext_lazy("Expired")
    REVOKED = "revoked", gettext_lazy("Revoked")


class GiftCardQuerySet(models.QuerySet):
    def listed(self) -> GiftCardQuerySet:
        """What the API lists: a revoked card is gone for good there (admins still find it)."""
        return self.filter(revoked_at__isnull=True)

    def bought_by(self, user) -> GiftCardQuerySet:
        """The buyer's cards, revoked ones too: their list shows each with its state (issue 21: a
        card that vanished after its revoke left "You haven't bought a gift card yet")."""
        return self.filter(customer=user) if user.is_authenticated else self.none()

    def with_status(self, status: str) -> GiftCardQuerySet:
        today = timezone.localdate()
        expired = Q(expired_at__isnull=False) | Q(expires_on__lt=today)
        if status == Status.REVOKED:
            return self.filter(revoked_at__isnull=False)
        live = self.filter(revoked_at__isnull=True)
        if status == Status.EXPIRED:
            return live.filter(expired)
        if status == Status.DISABLED:
            return live.exclude(expired).filter(enabled=False)
        return live.exclude(expired).filter(enabled=True)


class GiftCard(models.Model):
    # The code: a keyed hash (HMAC-SHA256) and the last four characters, set when the code is
    # made. A card bought for someone gets its code when it is delivered, on the send date.
    code_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    last_characters = models.CharField(max_length=4, blank=True, db_index=True, editable=False)
    initial_value_cents = models.PositiveIntegerField()
    balance_cents = models.IntegerField(help_text=gettext_lazy("Always the sum of the ledger"))
    currency = models.CharField(max_length=3)
    note = models.TextField(blank=True, help_text=gettext_lazy("For staff; never shown to customers"))
    expires_on = models.DateField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    # What bought it (lazy references: giftcards never import checkout).
    order = models.ForeignKey(
        "checkout.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="gift_cards_bought"
    )
    order_line = models.OneToOneField(
        "checkout.OrderLine", null=True, blank=True, on_delete=models.PROTECT, related_name="gift_card"
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="gift_cards_bought",
        help_text=gettext_lazy("The buyer"),
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="gift_cards_issued",
        help_text=gettext_lazy("Staff who issued it by hand"),
    )
    template_suffix = models.CharField(
        gettext_lazy("design"), max_length=20, choices=Template.choices, default=Template.GLOBE
    )
    recipient_name = models.CharField(max_length=100, blank=True)
    recipient_email = models.EmailField(blank=True, db_index=True)
    message = models.TextField(blank=True, max_length=500)
    send_on = models.DateField(
        null=True, blank=True, help_text=gettext_lazy("Empty: as soon as it is issued")
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    # A revoke's refund through the payment that bought the card, settled after the revoke.
    revoke_refund_cents = models.PositiveIntegerField(default=0)
    revoke_refunded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = GiftCardQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(name="giftcard_balance_not_negative", condition=Q(balance_cents__gte=0)),
        ]

    def __str__(self) -> str:
        return f"Gift card …{self.last_characters}" if self.last_characters else f"Gift card #{self.pk}"

    @property
    def status(self) -> str:
        if self.revoked_at:
            return Status.REVOKED
        if self.expired_at or (self.expires_on and self.expires_on < timezone.localdate()):
            return Status.EXPIRED
        return Status.ACTIVE if self.enabled else Status.DISABLED

    def get_status_display(self) -> str:
        return Status(self.status).label

    @property
    def is_usable(self) -> bool:
        return self.status == Status.ACTIVE and self.code_hash is not None

    @property
    def masked_code(self) -> str:
        return f"•••• {self.last_characters}" if self.last_characters else "not sent yet"


class Kind(models.TextChoices):
    ISSUE = "issue", gettext_lazy("Issued")
    RESERVE = "reserve", gettext_lazy("Reserved for an order")
    CAPTURE = "capture", gettext_lazy("Spent (reserve taken)")
    RELEASE = "release", gettext_lazy("Reserve released")
    REFUND = "refund", gettext_lazy("Refunded to the card")
    REVOKE = "revoke", gettext_lazy("Revoked")
    ADJUST = "adjust", gettext_lazy("Adjusted")
    EXPIRE = "expire", gettext_lazy("Expired")


class GiftCardTransaction(models.Model):
    """One line of a card's ledger. `amount_cents` is what it did to the balance (signed)."""

    card = models.ForeignKey(GiftCard, on_delete=models.PROTECT, related_name="transactions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount_cents = models.IntegerField()
    balance_after_cents = models.IntegerField()
    # The entry in the shop's base currency (the books' liability), and, for a card paying an order
    # in another currency, that order's amount, its currency and the rate (order units per card unit).
    base_amount_cents = models.IntegerField(default=0)
    order_amount_cents = models.IntegerField(null=True, blank=True)
    order_currency = models.CharField(max_length=3, blank=True)
    rate = models.DecimalField(max_digits=24, decimal_places=12, null=True, blank=True)
    payment = models.ForeignKey(
        "payments.Payment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="gift_card_transactions",
    )
    # A refund's idempotency key: a provider refund retried finds its first entry.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    reason = models.CharField(max_length=500, blank=True)
    actor = models.CharField(max_length=150, default="system")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # Each payment reserves, captures and releases a card once.
            models.UniqueConstraint(
                fields=["payment", "kind"],
                name="giftcardtx_once_per_payment",
                condition=Q(kind__in=["reserve", "capture", "release"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {format_money(self.amount_cents, self.card.currency)}"


class RevokeChallenge(models.Model):
    """A one-time code sent to the buyer to confirm a revoke: six digits, ten minutes, three tries."""

    card = models.ForeignKey(GiftCard, on_delete=models.CASCADE, related_name="revoke_challenges")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"One-time code for {self.card} ({self.created_at:%Y-%m-%d %H:%M})"


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A back-office tool's key to the JSON API. Only a hash is kept; the token is shown once."""

    READ = "gift_cards:read"
    WRITE = "gift_cards:write"
    SCOPES = [(READ, gettext_lazy("Read gift cards")), (WRITE, gettext_lazy("Create and change gift cards"))]

    name = models.CharField(max_length=100, help_text=gettext_lazy("Which tool uses it"))
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = gettext_lazy("API token")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])
