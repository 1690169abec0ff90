"""allauth's signals, received by the account area."""

from __future__ import annotations

from allauth.account.signals import email_confirmed
from django.dispatch import receiver

from . import services


@receiver(email_confirmed)
def attach_on_verification(sender, request, email_address, **kwargs) -> None:
    services.attach_guest_purchases(email_address.user, email_address.email)
