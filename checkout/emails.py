"""The emails of an order: receipt, eSIM delivery (with inline QR codes), refund notice."""

from __future__ import annotations

from email.mime.image import MIMEImage

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from .models import Order
from .qr import qr_png


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _message(order: Order, subject: str, template: str, context: dict) -> EmailMultiAlternatives:
    context = {"order": order, "order_url": _absolute(order.get_absolute_url()),
               "SHOP_NAME": settings.SHOP_NAME, "SUPPORT_EMAIL": settings.SUPPORT_EMAIL,
               "help_url": _absolute("/how-it-works/"), **context}
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [order.email])
    message.attach_alternative(html, "text/html")
    return message


def esim_email(order: Order) -> EmailMultiAlternatives:
    esims = list(order.esims.select_related("order_line").all())
    for i, esim in enumerate(esims, 1):
        esim.qr_cid = f"esim-qr-{i}@{settings.SHOP_NAME.replace(' ', '').lower()}"
    message = _message(order, f"Your eSIM is ready: order {order.number}", "esim_ready",
                       {"esims": esims})
    message.mixed_subtype = "related"
    for esim in esims:
        image = MIMEImage(qr_png(esim.lpa_code), _subtype="png")
        image.add_header("Content-ID", f"<{esim.qr_cid}>")
        image.add_header("Content-Disposition", "inline", filename=f"esim-{esim.iccid or esim.pk}.png")
        message.attach(image)
    return message


def receipt_email(order: Order) -> EmailMultiAlternatives:
    payment = order.payments.filter(status__in=["succeeded", "refunded", "partially_refunded"]).first()
    return _message(order, f"Receipt for order {order.number}", "receipt",
                    {"lines": list(order.lines.all()), "payment": payment})


def refund_email(order: Order) -> EmailMultiAlternatives:
    refunded = sum(p.refunded_cents for p in order.payments.all())
    return _message(order, f"Refund for order {order.number}", "refund", {"refunded_cents": refunded})
