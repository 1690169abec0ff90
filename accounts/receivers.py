"""allauth's signals, received by the account area."""

from __future__ import annotations

from allauth.account.signals import email_confirmed, user_logged_in
from django.dispatch import receiver

from . import services


@receiver(email_confirmed)
def attach_on_verification(sender, request, email_address, **kwargs) -> None:
    services.attach_guest_purchases(email_address.user, email_address.email)


@receiver(user_logged_in)
def attach_on_sign_in(sender, request, user, **kwargs) -> None:
    # What was bought as a guest after the email was verified (a customer who did not sign in
    # at checkout) joins at the next sign-in: "track your data" from that order's page lands on
    # its eSIM. Verified addresses only: the owner proved them.
    for email in services.verified_emails(user):
        services.attach_guest_purchases(user, email)
