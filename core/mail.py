"""An email backend that keeps every message in the database outbox."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage, EmailMultiAlternatives


class OutboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        from .models import OutboxEmail

        sent = 0
        for message in email_messages:
            html = ""
            if isinstance(message, EmailMultiAlternatives):
                for content, mimetype in message.alternatives:
                    if mimetype == "text/html":
                        html = content
            OutboxEmail.objects.create(
                subject=message.subject,
                from_email=message.from_email or "",
                to=", ".join(message.recipients()),
                body_text=message.body if message.content_subtype == "plain" else "",
                body_html=html or (message.body if message.content_subtype == "html" else ""),
                raw=message.message().as_bytes(),
            )
            sent += 1
        return sent
