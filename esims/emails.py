"""The install email: inline QR PNGs, one-tap links for iPhone and Android, manual codes."""

from __future__ import annotations

from collections.abc import Sequence
from email.mime.image import MIMEImage

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from .models import Esim
from .qr import qr_png


def install_email(esims: Sequence[Esim], to: str, subject: str, context: dict) -> EmailMultiAlternatives:
    """`context` carries what the caller knows (its order, links); the eSIMs are added here."""
    domain = settings.SHOP_NAME.replace(" ", "").lower()
    for i, esim in enumerate(esims, 1):
        esim.qr_cid = f"esim-qr-{i}@{domain}"
    context = {
        "SHOP_NAME": settings.SHOP_NAME,
        "SUPPORT_EMAIL": settings.SUPPORT_EMAIL,
        **context,
        "esims": esims,
    }
    text = render_to_string("emails/esim_ready.txt", context)
    html = render_to_string("emails/esim_ready.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    message.mixed_subtype = "related"
    for esim in esims:
        image = MIMEImage(qr_png(esim.lpa_code), _subtype="png")
        image.add_header("Content-ID", f"<{esim.qr_cid}>")
        image.add_header("Content-Disposition", "inline", filename=f"esim-{esim.iccid or esim.pk}.png")
        message.attach(image)
    return message
