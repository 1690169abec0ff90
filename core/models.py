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
