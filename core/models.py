from django.db import models


class OutboxEmail(models.Model):
    """A message the shop sent, kept when no SMTP server is configured (demo, tests)."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    subject = models.CharField(max_length=500)
    from_email = models.CharField(max_length=300)
    to = models.TextField(help_text="Comma-separated recipients")
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    raw = models.BinaryField(help_text="The whole MIME message, attachments included")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "sent email"
        db_table = "storefront_outboxemail"  # from when it lived in the storefront package

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"


class AuditEntry(models.Model):
    """One thing a staff member did, with the values before and after (core.audit.record)."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=150, db_index=True, help_text="Who did it (a staff login)")
    action = models.CharField(max_length=60, db_index=True, help_text="e.g. order.refund, package.price")
    # What it was done to, by name (any app's model): "checkout.order", "42".
    target_type = models.CharField(max_length=100, blank=True, db_index=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=300, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit log"
        indexes = [models.Index(fields=["target_type", "target_id", "created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.target_repr}"
