"""Who sends the one-time code that confirms a revoke: email by default, pluggable (SMS, ...).

`settings.GIFTCARD_OTP_SENDER` names the class; it gets the user, the card
and the code, and must raise OSError when it could not send.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from . import emails


class OtpSender:
    # The sentence the customer is told, in the active language, e.g. "We sent a 6-digit code by
    # email to a…@example.com." (a whole sentence: a phrase would not fit every language's order).
    def describe(self, user) -> str:
        raise NotImplementedError

    def send(self, *, user, card, code: str, minutes: int) -> None:
        raise NotImplementedError


class EmailOtpSender(OtpSender):
    def describe(self, user) -> str:
        local, _at, domain = user.email.partition("@")
        return _("We sent a 6-digit code by email to %(address)s.") % {"address": f"{local[:1]}…@{domain}"}

    def send(self, *, user, card, code: str, minutes: int) -> None:
        emails.one_time_code(card, user.email, code, minutes).send()


def sender() -> OtpSender:
    return import_string(settings.GIFTCARD_OTP_SENDER)()
