"""The names of what happens to a gift card, as the audit log records them.

One vocabulary for every `audit.record` the app writes (services and admin alike). The values are
the strings already stored in `AuditEntry.action`, so old entries and new ones read the same. The
ledger's own vocabulary is `models.Kind` (what a `GiftCardTransaction` did to the balance).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy


class GiftCardAction(models.TextChoices):
    """An action by staff, the API or the buyer on one card (`AuditEntry.action`)."""

    ISSUE = "giftcard.issue", gettext_lazy("Issued by hand")
    UPDATE = "giftcard.update", gettext_lazy("Details changed")
    DISABLE = "giftcard.disable", gettext_lazy("Disabled")
    ENABLE = "giftcard.enable", gettext_lazy("Enabled")
    RESEND = "giftcard.resend", gettext_lazy("Sent again with a new code")
    ADJUST = "giftcard.adjust", gettext_lazy("Balance adjusted")
    REVOKE = "giftcard.revoke", gettext_lazy("Revoked")


class ApiTokenAction(models.TextChoices):
    """An action by staff on a JSON API token (`AuditEntry.action`). Entries name the token by its
    prefix and never hold the token or its hash."""

    CREATE = "apitoken.create", gettext_lazy("API token created")
    UPDATE = "apitoken.update", gettext_lazy("API token changed")
    REVOKE = "apitoken.revoke", gettext_lazy("API token revoked")
