from __future__ import annotations

import base64
import email
from email import policy

from csp.decorators import csp_update
from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from .models import OutboxEmail


def _outbox_enabled() -> None:
    if not settings.DEBUG:
        raise Http404


@require_safe
@staff_member_required
def outbox(request: HttpRequest) -> HttpResponse:
    """The demo's mailbox: every email the shop sent, for staff, when DEBUG is on."""
    _outbox_enabled()
    messages = OutboxEmail.objects.only("id", "created_at", "subject", "to")[:200]
    return render(request, "core/outbox.html", {"emails": messages})


@require_safe
@staff_member_required
# Emails carry their styles inline (mail clients need that); this staff-only page of the demo shows
# them as sent, in a frame that inherits the page's policy.
@csp_update({"style-src-attr": ["'unsafe-inline'"]})
def outbox_message(request: HttpRequest, pk: int) -> HttpResponse:
    _outbox_enabled()
    message = get_object_or_404(OutboxEmail, pk=pk)
    return render(
        request,
        "core/outbox_message.html",
        {
            "message": message,
            # The shop's own outgoing email (rendered from its templates, escaped there), shown to
            # staff in the demo's mailbox only when DEBUG is on.
            "html": mark_safe(inline_cid_images(bytes(message.raw), message.body_html)),  # noqa: S308
        },
    )


def inline_cid_images(raw: bytes, html: str) -> str:
    """Show inline (cid:) images of a stored email in a browser as data: URLs."""
    parsed = email.message_from_bytes(raw, policy=policy.default)
    for part in parsed.walk():
        content_id = part.get("Content-ID")
        if content_id and part.get_content_maintype() == "image":
            data = base64.b64encode(part.get_payload(decode=True)).decode()
            html = html.replace(
                f"cid:{content_id.strip('<>')}", f"data:{part.get_content_type()};base64,{data}"
            )
    return html


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # No hreflang alternates: a missing page is missing in every language (core/language.py); the
    # language switcher goes home (the path may name something this visitor may not see).
    return render(request, "404.html", {"shop_alternates": (), "language_next": "/"}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", {"shop_alternates": (), "language_next": "/"}, status=500)


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin's): the shop's SVG.

    Resolved per request, not at import: the hashed name needs collectstatic's manifest.
    """
    return redirect(static("img/favicon.svg"))
