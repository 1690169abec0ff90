"""The plain-text part of every email shows text as typed: "Côte d'Ivoire", not "Côte d&#x27;Ivoire".

Each email is built by the shop's own sending code from real rows whose text holds ' & < > and "
in every variable its template shows (names, messages, titles, codes, URLs with &, the shop's name
and address); the text part must show them raw and the HTML part escaped. Every template in
templates/emails/*.txt must be rendered here, so a new one is checked too.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test.signals import template_rendered
from django.utils import timezone
from django.utils.html import escape

from catalog.tests.factories import DestinationFactory, PackageFactory
from checkout.models import LineKind, Order, OrderLine, OrderStatus
from checkout.services import notifications
from checkout.tests.helpers import paid_order
from esims import services as esims
from esims.models import Esim, LowDataAlert, PartnerBalance
from giftcards import emails as giftcard_emails
from giftcards import services as giftcards

pytestmark = pytest.mark.django_db

TEMPLATES = Path(django_settings.BASE_DIR) / "templates" / "emails"
ESCAPES = ("&#x27;", "&#39;", "&amp;", "&lt;", "&gt;", "&quot;")
EMAIL = "o'brien&co@example.com"  # ' and & are valid in an address


def odd(label: str) -> str:
    """A value for one variable: its label and every character HTML escapes."""
    return f"{label} <i>&'\"</i>"


@pytest.fixture
def rendered():
    names: list[str] = []

    def seen(sender, template, context, **kwargs):
        names.append(template.name)

    template_rendered.connect(seen)
    yield names
    template_rendered.disconnect(seen)


@pytest.fixture
def odd_shop(settings, clear_cache):
    settings.SHOP_NAME = odd("Shop")
    settings.SUPPORT_EMAIL = EMAIL
    settings.ALERT_EMAILS = ["staff@example.com"]


def _order() -> Order:
    destination = DestinationFactory(name='Côte d\'Ivoire & <Sénégal> "West"')
    order = paid_order(PackageFactory(destination=destination), email=EMAIL)
    order.payments.update(provider="stripe", capture_reference=odd("ref"))
    return order


def _esim(order: Order | None = None, customer=None) -> Esim:
    esim = Esim.objects.create(
        customer=customer,
        email=EMAIL,
        title=odd("Côte d'Ivoire eSIM"),
        upstream_esim_id=f"odd-{Esim.objects.count()}",
        iccid="8901000000000000777",
        status="READY",
        lpa_code="LPA:1$smdp.example$CODE",
        smdp_address=odd("smdp"),
        activation_code=odd("code"),
        ios_install_url="https://esimsetup.apple.com/esim_qrcode_provisioning?carddata=LPA:1$s$C&x='1'",
        android_install_url="https://esimsetup.android.com/esim_qrcode_provisioning?carddata=A&b=<2>",
        apn_automatic=False,
        apn_name=odd("apn"),
    )
    if order is not None:
        order.lines.first().esims.add(esim)
    return esim


def _orders_emails() -> list[list[str]]:
    """The order's emails, each with the odd values its template shows."""
    order = _order()
    line = order.lines.first()
    notifications.send_receipt(order.pk)
    esim = _esim(order)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.COMPLETED)
    notifications.send_esim_email(order.pk)
    # A top-up of that eSIM in the order, applied after the receipt went: its "applied" email.
    topup = OrderLine.objects.create(
        order=order,
        kind=LineKind.TOPUP,
        package=line.package,
        esim=esim,
        description=odd("top-up"),
        quantity=1,
        unit_price_cents=100,
        total_cents=100,
    )
    notifications.send_topup_applied(order.pk)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.REFUNDED)
    notifications.send_refund_notice(order.pk)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.REQUIRES_ACTION, action_reason=odd("reason"))
    notifications.send_staff_alert(order.pk)
    shop, ref = odd("Shop"), odd("ref")
    urls = [esim.ios_install_url, esim.android_install_url]
    return [
        [shop, line.description, ref],
        [shop, EMAIL, esim.title, esim.smdp_address, esim.activation_code, esim.apn_name, *urls],
        [shop, topup.description],
        [shop, EMAIL],
        [odd("reason"), EMAIL],
    ]


def _gift_card_emails() -> list[list[str]]:
    buyer = get_user_model().objects.create_user("buyer", EMAIL, first_name=odd("Kim"))
    card, _ = giftcards.issue(
        2500,
        actor="test",
        customer=buyer,
        recipient_name=odd("Ann"),
        recipient_email=EMAIL,
        message=odd("Have fun"),
        expires_on=timezone.localdate() + dt.timedelta(days=30),
    )
    card.last_characters = "AB&<"
    giftcard_emails.card_for_recipient(card, "CODE-&<'>").send()
    giftcard_emails.delivered_notice(card, EMAIL).send()
    giftcard_emails.one_time_code(card, EMAIL, "123456", 10).send()
    giftcard_emails.revoked_notice(card, EMAIL, 1500).send()
    shop = odd("Shop")
    return [
        [shop, odd("Kim"), odd("Ann"), odd("Have fun"), "CODE-&<'>"],
        [shop, odd("Ann"), EMAIL, "AB&<"],
        [shop, "AB&<"],
        [shop, "AB&<", EMAIL],
    ]


def _esim_emails() -> list[list[str]]:
    esim = _esim(customer=get_user_model().objects.create_user("traveller", EMAIL))
    alert = LowDataAlert.objects.create(esim=esim, allowance_key="k", threshold=80, percent_used=81)
    esims.send_low_data_email(alert.pk)
    PartnerBalance.objects.create(
        pk=1, balance_cents=100, source=odd("src"), checked_at=timezone.now(), alerted_at=timezone.now()
    )
    esims.send_low_balance_alert()
    return [[odd("Shop"), esim.title, EMAIL], [odd("src")]]


def _auto_topup_emails() -> list[list[str]]:
    """The automatic top-up's email when it pauses (the reason is the shop's text, kept as written)."""
    from checkout.models import AutoTopup, AutoTopupCrossing
    from checkout.services import auto_topup

    owner = get_user_model().objects.create_user("auto", EMAIL)
    esim = _esim(customer=owner)
    rule = AutoTopup.objects.create(
        esim=esim,
        customer=owner,
        package=PackageFactory(),
        below_mb=300,
        max_cents_per_month=5000,
        currency="USD",
        paused=AutoTopup.Pause.CAP,
        paused_message=odd("reason"),
        armed_at=timezone.now(),
    )
    crossing = AutoTopupCrossing.objects.create(
        rule=rule, esim=esim, allowance_key="k", status=AutoTopupCrossing.Status.STOPPED
    )
    auto_topup.send_email(crossing.pk)
    return [[odd("Shop"), odd("reason"), EMAIL]]


def _marketing_emails() -> list[list[str]]:
    """The abandoned-cart email of a cart placed two hours ago and never paid, by a buyer (another
    odd address, with no later order) who said yes to offers."""
    from checkout import cart, services
    from checkout.models import MarketingConsent
    from checkout.services import marketing

    address = "o'brien&co+offers@example.com"
    order = services.place_order(cart.PricedCart([cart.CartLine(PackageFactory(), 1)], []), address)
    order.lines.update(description=odd("left in the cart"))
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - dt.timedelta(hours=2))
    marketing.give_consent(address, MarketingConsent.Source.CHECKOUT)
    assert marketing.send_abandoned_cart_email(order.pk)
    return [[odd("Shop"), odd("left in the cart")]]


def _referral_emails() -> list[list[str]]:
    """The referrer's email when a friend's order earned them store credit (the friend's name as they
    typed it on the payment page)."""
    from checkout import cart, services
    from checkout.services import referrals
    from checkout.tests.helpers import force_paid
    from discounts.services import share_code_for
    from storecredit.models import Referral

    referrer = get_user_model().objects.create_user("referrer", "referrer@example.com")
    code = share_code_for(referrer).code
    order = services.place_order(
        cart.PricedCart([cart.CartLine(PackageFactory(), 1)], []), "friend@example.com", discount_code=code
    )
    force_paid(order)
    friend = "<i>&'Bea\"</i>"  # one word: the email greets the friend by the first word of their name
    Order.objects.filter(pk=order.pk).update(customer_name=friend)
    Referral.objects.update(due_at=timezone.now() - dt.timedelta(minutes=1))
    assert referrals.settle_due()["earned"] == 1
    assert referrals.send_reward_email(Referral.objects.get().pk)
    return [[odd("Shop"), friend]]


def test_text_parts_show_text_as_typed_and_html_parts_escape_it(odd_shop, mailoutbox, rendered, roamify):
    shows = _orders_emails() + _gift_card_emails() + _esim_emails() + _auto_topup_emails()
    shows += _marketing_emails() + _referral_emails()
    assert len(mailoutbox) == len(shows)
    for message, values in zip(mailoutbox, shows, strict=True):
        text = message.body
        found = [e for e in ESCAPES if e in text]
        assert not found, f"{message.subject!r}: the text part has {found}:\n{text}"
        missing = [v for v in values if v not in text]
        assert not missing, f"{message.subject!r}: the text part lacks {missing}:\n{text}"
        for html, _ in getattr(message, "alternatives", []):
            raw = [v for v in values if "<i>" in v and v in html]
            assert not raw, f"{message.subject!r}: the HTML part shows {raw} unescaped"
            assert escape(odd("Shop")) in html, message.subject
    # Every text template was rendered above: a new one is checked too (add it here).
    texts = {f"emails/{p.name}" for p in TEMPLATES.glob("*.txt")}
    assert texts and texts <= set(rendered), f"not rendered by this test: {sorted(texts - set(rendered))}"
