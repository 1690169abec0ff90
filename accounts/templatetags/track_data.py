""" "Track your data and top up": where a guest's order leads in the account, and the link that
gets them there with a sign-in code (the order page's button, the eSIM email's link)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.urls import reverse

from checkout.models import Order

register = template.Library()


@dataclass(frozen=True)
class Track:
    email: str
    next_url: str  # where the order leads once signed in (accounts:order_open decides then)

    @property
    def code_url(self) -> str:
        return reverse("account_request_login_code")

    @property
    def email_link(self) -> str:
        """For the email: the code page with the order's email filled in (one tap sends it)."""
        query = urlencode({"email": self.email, "next": self.next_url})
        return f"{settings.SITE_URL}{self.code_url}?{query}"


@register.simple_tag(takes_context=True)
def track_data(context, order: Order) -> Track | None:
    """What to offer on a paid order's page or email; None when there is nothing to offer (not
    paid, refunded) or the visitor is signed in to another account."""
    if not isinstance(order, Order) or not order.is_paid or order.status == "refunded":
        return None
    user = getattr(context.get("request"), "user", None)
    if user is not None and user.is_authenticated and order.customer_id != user.pk:
        return None  # another account's, or a guest's not yet joined: nothing to open here
    return Track(email=order.email, next_url=reverse("accounts:order_open", args=[order.number]))
