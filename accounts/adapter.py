"""allauth, fitted to the shop: its name in the emails allauth sends, and the visitor's address
as the shop sees it (core.security.client_ip) for allauth's rate limits."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from core.security import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        context = {"SHOP_NAME": settings.SHOP_NAME, "SUPPORT_EMAIL": settings.SUPPORT_EMAIL, **context}
        super().send_mail(template_prefix, email, context)

    def get_client_ip(self, request: HttpRequest) -> str:
        # One answer for every limit and log of the shop: behind nginx, REMOTE_ADDR is nginx
        # itself, and allauth's own reading (ALLAUTH_TRUSTED_*) would be a second setting to keep
        # in step with CLIENT_IP_HEADER.
        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine client IP address")
        return ip


def user_display(user) -> str:
    """How allauth names the customer in its messages ("Successfully signed in as …"): by their
    email, never the username allauth derived from it, which is internal."""
    return user.email or ""
