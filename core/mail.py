"""Mail: the plain-text emails' template loader, and an email backend that keeps every message in
the database outbox."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage, EmailMultiAlternatives
from django.template import Origin
from django.template.loaders.filesystem import Loader as FilesystemLoader
from django.template.utils import get_app_template_dirs


def is_plain_text_email(template_name: str) -> bool:
    return template_name.startswith("emails/") and template_name.endswith(".txt")


class PlainTextEmailLoader(FilesystemLoader):
    """Finds the plain-text emails (`emails/*.txt`, in the project's and the apps' template folders)
    and nothing else, for the template engine that renders them without HTML escaping (the first in
    settings.TEMPLATES). A customer reads "Côte d'Ivoire", not "Côte d&#x27;Ivoire"; whoever renders
    a text email, and any text email added later, gets that without a word in the template."""

    def get_dirs(self) -> list:
        return [*self.engine.dirs, *get_app_template_dirs("templates")]

    def get_template_sources(self, template_name: str) -> Iterator[Origin]:
        if is_plain_text_email(template_name):
            yield from super().get_template_sources(template_name)


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
