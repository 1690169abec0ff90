"""The account's "Invite friends" block (on /account/credit/): the customer's share link, what a
friend gets and what they get, and their referrals so far in their words. Verified customers only:
the issue gives each verified customer a share link."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from checkout.services.referrals import friend_name
from core.money import format_money
from discounts import services as discounts
from storecredit import selectors as credit
from storecredit.models import Referral, ReferralStatus
from storecredit.services import referrals as settling

from .services import verified_emails


@dataclass(frozen=True)
class ReferralRow:
    friend: str
    bought_on: object  # the friend's order's date
    state: str  # in the customer's words
    earned: bool


@dataclass(frozen=True)
class Invite:
    url: str
    friend_percent: int
    reward: str
    wait: str  # how long after the friend's purchase the reward comes
    monthly_cap: int
    referrals: list[ReferralRow]


def _wait() -> str:
    seconds = settings.REFERRAL_REWARD_AFTER_SECONDS
    if seconds >= 86400:
        days = seconds // 86400
        return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}
    minutes = max(1, seconds // 60)
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def _state(referral: Referral) -> str:
    if referral.status == ReferralStatus.PENDING:
        return _("Waiting until %(date)s") % {
            "date": formats.date_format(timezone.localtime(referral.due_at), _("j M Y"))
        }
    if referral.status == ReferralStatus.EARNED:
        cents = referral.reward.amount_cents if referral.reward else settings.REFERRAL_REWARD_CENTS
        return _("Earned %(amount)s") % {"amount": format_money(cents)}
    reason = referral.void_reason
    if reason == settling.REFUNDED:
        return _("No credit: the order was refunded")
    if reason in (settling.SAME_ACCOUNT, settling.SAME_EMAIL, settling.SAME_CARD):
        return _("No credit: the same person as you")
    if reason == settling.CAPPED:
        return _("No credit: monthly limit reached")
    return _("No credit")


def invite_for(user) -> Invite | None:
    """The block, or None for a customer whose email is not verified. Makes their code the first
    time (`share_code_for`)."""
    email = (user.email or "").lower()
    if not email or email not in {e.lower() for e in verified_emails(user)}:
        return None
    code = discounts.share_code_for(user)
    with translation.override(settings.LANGUAGE_CODE):  # one link for every friend: /r/<CODE>/
        path = reverse("discounts:share_link", args=[code.code])
    return Invite(
        url=f"{settings.SITE_URL}{path}",
        friend_percent=code.percent_off or 0,
        reward=format_money(settings.REFERRAL_REWARD_CENTS),
        wait=_wait(),
        monthly_cap=settings.REFERRAL_MONTHLY_CAP,
        referrals=[
            ReferralRow(
                friend_name(r), r.order.paid_at or r.created_at, _state(r), r.status == ReferralStatus.EARNED
            )
            for r in credit.referrals_made(user)
        ],
    )
