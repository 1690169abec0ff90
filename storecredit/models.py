"""Store credit: one account per customer, its ledger, and referrals that earn credit.

Credit is in the shop's base currency (`SHOP_CURRENCY`). An account's balance is a cache of its
ledger: every change writes a `CreditEntry` under the account's row lock (`ledger.post`), the balance
always equals the sum of the entries, and a database constraint keeps it from going negative.

Expiry by grant: each entry that adds credit (a referral reward, a staff adjustment up, a refund
back as credit) is a grant with its own `expires_at` and `remaining_cents`, what is left of it.
Credit spent is drawn from the grants that expire first (`CreditEntry.drawn` says which, so a
released reserve goes back to the same grants); on its day what is left of a grant expires.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy

from core.money import format_money


class CreditAccount(models.Model):
    # Null once the customer deleted their account: the ledger stays for the books (what was left
    # was forfeited then: `services.expiry.close_account`).
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="credit_account"
    )
    balance_cents = models.IntegerField(default=0, help_text=gettext_lazy("Always the sum of the ledger"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = gettext_lazy("store credit account")
        constraints = [
            models.CheckConstraint(
                name="storecredit_balance_not_negative", condition=Q(balance_cents__gte=0)
            ),
        ]

    def __str__(self) -> str:
        return f"Store credit of {self.user} ({format_money(self.balance_cents, settings.SHOP_CURRENCY)})"


class Kind(models.TextChoices):
    REFERRAL = "referral", gettext_lazy("Referral reward")
    ADJUST = "adjust", gettext_lazy("Adjusted by our team")
    RESERVE = "reserve", gettext_lazy("Held for an order")
    RELEASE = "release", gettext_lazy("Hold released")
    CAPTURE = "capture", gettext_lazy("Spent on an order")
    REFUND = "refund", gettext_lazy("Refunded as credit")
    EXPIRE = "expire", gettext_lazy("Expired")


# Entries that add credit: each is a grant, with its own expiry and what is left of it.
GRANT_KINDS = (Kind.REFERRAL, Kind.ADJUST, Kind.REFUND)
# Entries that only hold credit for a checkout: the books count the payment, not these.
HELD_KINDS = (Kind.RESERVE, Kind.RELEASE, Kind.CAPTURE)


class CreditEntry(models.Model):
    """One line of an account's ledger. `amount_cents`: what it did to the balance (signed, base cents)."""

    account = models.ForeignKey(CreditAccount, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount_cents = models.IntegerField()
    balance_after_cents = models.IntegerField()
    # A grant: when what is left of it expires, and how much is left (spends draw it down).
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    remaining_cents = models.IntegerField(default=0)
    # A spend (reserve, adjustment down, expiry): [[grant entry id, cents], ...] it drew from.
    drawn = models.JSONField(default=list, blank=True)
    # Credit paying an order in another currency: that order's amount, its currency and the rate
    # (order units per base unit), beside the base amount above.
    order_amount_cents = models.IntegerField(null=True, blank=True)
    order_currency = models.CharField(max_length=3, blank=True)
    rate = models.DecimalField(max_digits=24, decimal_places=12, null=True, blank=True)
    payment = models.ForeignKey(
        "payments.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_entries"
    )
    # A refund's (or an adjustment's) idempotency key: a retry finds its first entry.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    reason = models.CharField(max_length=500, blank=True)
    actor = models.CharField(max_length=150, default="system")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "credit entries"
        constraints = [
            models.UniqueConstraint(
                fields=["payment", "kind"],
                name="creditentry_once_per_payment",
                condition=Q(kind__in=["reserve", "capture", "release"]),
            ),
            models.CheckConstraint(
                name="creditentry_remaining_not_negative", condition=Q(remaining_cents__gte=0)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {format_money(self.amount_cents, settings.SHOP_CURRENCY)}"


class ReferralStatus(models.TextChoices):
    PENDING = "pending", gettext_lazy("Pending")
    EARNED = "earned", gettext_lazy("Earned")
    VOID = "void", gettext_lazy("Not earned")


class Referral(models.Model):
    """A friend's order placed through a referrer's code: credit for the referrer once the order has
    passed the refund window (`services.referrals.settle`), or nothing, with the reason."""

    referrer = models.ForeignKey(  # null once the referrer deleted their account
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="referrals_made"
    )
    code = models.CharField(max_length=64, help_text=gettext_lazy("The referral code the friend used"))
    friend_email = models.EmailField()
    friend = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="referred_by"
    )
    # A lazy reference: storecredit never imports checkout. One referral per order.
    order = models.OneToOneField("checkout.Order", on_delete=models.PROTECT, related_name="referral")
    card_fingerprint = models.CharField(
        max_length=64, blank=True, help_text="Stripe's card fingerprint, if known"
    )
    status = models.CharField(
        max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.PENDING, db_index=True
    )
    void_reason = models.CharField(max_length=200, blank=True)
    due_at = models.DateTimeField(db_index=True, help_text=gettext_lazy("Paid + the refund window"))
    settled_at = models.DateTimeField(null=True, blank=True)
    reward = models.OneToOneField(
        CreditEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="referral"
    )
    # When the referrer was told they earned it (checkout sends that email once).
    emailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Referral of {self.friend_email} by {self.referrer} ({self.status})"
