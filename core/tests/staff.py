"""Test helpers: a staff member signed in with two factors, as the admin requires (core/staff_mfa.py).

`sign_in_staff(client, user)` gives the user a TOTP authenticator (and recovery codes) and marks the
client's session the way allauth does after a sign-in that passed the TOTP step.
"""

from __future__ import annotations

import time

from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.test import Client, RequestFactory


def totp_code(secret: str, at: float | None = None) -> str:
    """The code an authenticator app shows now (RFC 6238, allauth's own HOTP)."""
    return format_hotp_value(hotp_value(secret, int(at if at is not None else time.time()) // 30))


def enable_totp(user) -> str:
    """Give the user TOTP and recovery codes; return the TOTP secret."""
    secret = generate_totp_secret()
    Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)
    return secret


def mark_second_factor(client: Client, user) -> None:
    """Record in the client's session an MFA authentication, as allauth's TOTP step does."""
    request = RequestFactory().get("/")
    request.session = client.session
    request.user = user
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    record_authentication(request, user, "mfa", id=authenticator.pk, type=authenticator.type)
    request.session.save()


def sign_in_staff(client: Client, user) -> Client:
    """force_login for staff: signed in, with TOTP set up and used in this session."""
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        enable_totp(user)
    client.force_login(user)
    mark_second_factor(client, user)
    return client
