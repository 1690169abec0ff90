"""allauth, fitted to the shop: its name in the emails allauth sends."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        context = {"SHOP_NAME": settings.SHOP_NAME, "SUPPORT_EMAIL": settings.SUPPORT_EMAIL, **context}
        super().send_mail(template_prefix, email, context)
