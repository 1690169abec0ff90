"""Every email a customer gets goes out in the order's language, with no English sentence left.

The order's emails (receipt, eSIM ready, refund), the low-data alert (the language of the eSIM's
order), the gift card emails (the buying order's language), the abandoned-cart email and the
referrer's reward email (their saved language) are sent by the shop's own code for an order placed
in each language, and compared with the English ones:
a subject or a line of text, or a piece of the HTML part, that reads word for word the same is
untranslated.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone, translation

from accounts.language import save_language
from catalog.tests.factories import DestinationFactory, PackageFactory
from checkout import cart, services
from checkout.models import AutoTopup, AutoTopupCrossing, MarketingConsent, Order, OrderStatus
from checkout.services import auto_topup, marketing, notifications, referrals
from checkout.tests.helpers import paid_order
from esims import services as esims
from esims.models import Esim, LowDataAlert
from giftcards import emails as giftcard_emails
from giftcards import services as giftcards
from storecredit.services import referrals as credit_referrals

from .test_every_page_translated import OTHER_LANGUAGES, english_words, text_of

pytestmark = pytest.mark.django_db


def _emails_for(language: str, package) -> list[mail.EmailMessage]:
    """Every customer email of one order placed in `language`, as sent."""
    mail.outbox.clear()
    order = paid_order(package, email=f"{language}@example.com")
    Order.objects.filter(pk=order.pk).update(language=language)
    notifications.send_receipt(order.pk)
    esim = Esim.objects.create(
        email=order.email,
        title="Japan eSIM",
        upstream_esim_id=f"e-{language}",
        iccid=f"89010000000000{Esim.objects.count():05d}",
        status="READY",
        lpa_code="LPA:1$smdp.example$CODE",
        smdp_address="smdp.example",
        activation_code="CODE",
        apn_automatic=True,
    )
    order.lines.first().esims.add(esim)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.COMPLETED)
    notifications.send_esim_email(order.pk)
    alert = LowDataAlert.objects.create(esim=esim, allowance_key="k", threshold=80, percent_used=81)
    esims.send_low_data_email(alert.pk)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.REFUNDED)
    notifications.send_refund_notice(order.pk)
    with translation.override(language):  # as the automatic top-up's task stores its reasons
        reason = str(AutoTopup.Pause.CAP.label)
    rule = AutoTopup.objects.create(
        esim=esim,
        customer=order.customer or get_user_model().objects.create_user(f"auto-{language}", order.email),
        package=package,
        below_mb=300,
        max_cents_per_month=5000,
        currency="USD",
        language=language,
        paused=AutoTopup.Pause.CAP,
        paused_message=reason,
        armed_at=timezone.now(),
    )
    crossing = AutoTopupCrossing.objects.create(
        rule=rule, esim=esim, allowance_key="k", status=AutoTopupCrossing.Status.STOPPED
    )
    auto_topup.send_email(crossing.pk)
    card, _code = giftcards.issue(2500, actor="test", recipient_name="Ann", recipient_email="ann@example.com")
    with translation.override(language):  # as the gift card senders do for the buying order
        giftcard_emails.card_for_recipient(card, "CODE-1234").send()
        giftcard_emails.one_time_code(card, order.email, "123456", 10).send()
        giftcard_emails.revoked_notice(card, order.email, 1500).send()
    # The abandoned-cart email (marketing): a cart placed in `language`, left unpaid for two hours.
    with translation.override(language):
        left = services.place_order(
            cart.PricedCart([cart.CartLine(package, 2)], []), f"cart-{language}@example.com"
        )
    Order.objects.filter(pk=left.pk).update(created_at=timezone.now() - dt.timedelta(hours=2))
    marketing.give_consent(left.email, MarketingConsent.Source.CHECKOUT)
    assert marketing.send_abandoned_cart_email(left.pk)
    # The referrer's reward email, in the referrer's saved language (not the friend's order's).
    referrer = get_user_model().objects.create_user(f"ref-{language}", f"ref-{language}@example.com")
    save_language(referrer, language)
    referral = credit_referrals.record(
        referrer_id=referrer.pk,
        code=f"REF{language}",
        order_id=order.pk,
        friend_email=order.email,
        paid_at=timezone.now() - dt.timedelta(days=60),
    )
    credit_referrals.settle(referral.pk, refunded=False)
    assert referrals.send_reward_email(referral.pk)
    return list(mail.outbox)


def _pieces(message: mail.EmailMessage) -> set[str]:
    pieces = {message.subject}
    pieces |= {" ".join(line.split()) for line in message.body.splitlines() if line.strip()}
    for html, _type in getattr(message, "alternatives", []):
        pieces |= text_of(html)
    return pieces


def test_every_customer_email_in_the_orders_language(roamify):
    package = PackageFactory(destination=DestinationFactory(name="Japan", code="JP"))
    english = _emails_for(settings.LANGUAGE_CODE, package)
    assert len(english) >= 8
    known = {settings.SHOP_NAME, "Japan eSIM", package.name, "Ann", "smdp.example", "CODE", "CODE-1234"}
    problems = []
    for language in OTHER_LANGUAGES:
        sent = _emails_for(language, package)
        assert len(sent) == len(english), language
        for theirs, ours in zip(english, sent, strict=True):
            same = {p for p in _pieces(theirs) & _pieces(ours) if english_words(p, known)}
            problems += [f"{language} {theirs.subject!r}: {p!r}" for p in sorted(same)]
    assert not problems, f"{len(problems)} untranslated:\n" + "\n".join(problems[:60])
