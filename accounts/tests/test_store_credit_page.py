"""The account's store credit page: only the owner's credit, the balance, when it expires, the
history in the customer's words; its queries pinned."""

from __future__ import annotations

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from checkout import cart, services
from checkout.models import Order
from checkout.tests.conftest import make_package
from discounts.services import share_code_for
from storecredit.models import Referral, ReferralStatus
from storecredit.services import referrals as settling
from storecredit.tests.conftest import customer, grant

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


@pytest.fixture
def plan(roamify, db):
    return make_package()


def test_only_the_owners_credit_with_its_history(client, plan, django_assert_num_queries):
    package = plan
    ann, bob = customer("ann"), customer("bob")
    grant(ann, 1500, expires_at=timezone.now() + dt.timedelta(days=20))
    grant(bob, 7700)
    order = services.place_order(
        cart.PricedCart([cart.CartLine(package, 1)], []), ann.email, ann, store_credit=True
    )
    assert client.get("/account/credit/").status_code == 302  # sign in first
    client.force_login(ann)
    client.get("/account/credit/")  # warm: the exchange rates are read once, then cached
    # Session, user, whether her email is verified (the invite block is for verified customers;
    # hers is not, so no code or referrals are read), account, entries (with their orders).
    with django_assert_num_queries(5):
        page = client.get("/account/credit/").content.decode()
    left = 1500 - package.retail_cents
    assert f"${left / 100:.2f}" in page and "$77.00" not in page
    assert f"Held for order {order.number}" in page and "Added by our team" in page
    expires = (timezone.now() + dt.timedelta(days=20)).strftime("%-d %b %Y")
    assert f"${left / 100:.2f} of it expires on {expires}" in page
    assert 'aria-current="page">Store credit<' in page
    assert "Invite friends" not in page and "/r/" not in page  # not verified: no share link


def test_no_credit_yet(client):
    client.force_login(customer())
    page = client.get("/account/credit/").content.decode()
    assert "No store credit yet." in page and "$0.00" in page


def verified(name: str):
    user = customer(name)
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return user


def test_the_invite_block_shows_the_owners_link_and_referrals_in_their_words(
    client, plan, django_assert_num_queries, settings
):
    settings.REFERRAL_MONTHLY_CAP = 5
    ann, bob = verified("ann"), verified("bob")
    code = share_code_for(ann)
    grant(ann, 100)
    paid = timezone.now() - dt.timedelta(days=3)
    states = [
        ("Bea Smith", ReferralStatus.PENDING, ""),
        ("", ReferralStatus.EARNED, ""),
        ("Cy", ReferralStatus.VOID, settling.REFUNDED),
        ("Di", ReferralStatus.VOID, settling.SAME_CARD),
        ("Ed", ReferralStatus.VOID, settling.CAPPED),
    ]
    for i, (name, status, reason) in enumerate(states):
        order = Order.objects.create(
            email=f"f{i}@example.com", customer_name=name, currency="USD", total_cents=900, paid_at=paid
        )
        referral = settling.record(
            referrer_id=ann.pk, code=code.code, order_id=order.pk, friend_email=order.email, paid_at=paid
        )
        Referral.objects.filter(pk=referral.pk).update(status=status, void_reason=reason)
    due = timezone.localtime(paid + dt.timedelta(seconds=settings.REFERRAL_REWARD_AFTER_SECONDS))
    client.force_login(ann)
    client.get("/account/credit/")  # warm
    # Two queries more than without the block, and the verified check: her code, her referrals
    # (with their orders and rewards).
    with django_assert_num_queries(7):
        page = client.get("/account/credit/").content.decode()
    link = f"{settings.SITE_URL}/r/{code.code}/"
    assert f"data-share-link>{link}<" in page and f'data-copy="{link}"' in page
    assert "a friend gets 10% off their first order" in page
    assert "you get $5.00 of store credit once their order is 30 days old" in page
    assert "up to 5 friends a month" in page
    rows = page.count("data-referral>")
    assert rows == 5
    assert f"Waiting until {due.strftime('%-d %b %Y')}" in page and "Bea, bought on" in page
    assert "Earned $5.00" in page and "a friend, bought on" in page
    assert "No credit: the order was refunded" in page and "No credit: the same person as you" in page
    assert "No credit: monthly limit reached" in page
    # Bob sees his own link, never Ann's, and none of her referrals.
    client.force_login(bob)
    theirs = client.get("/account/credit/").content.decode()
    assert code.code not in theirs and "data-referral>" not in theirs
    assert share_code_for(bob).code in theirs
    # The other account pages point at it.
    orders = client.get("/account/orders/").content.decode()
    assert 'href="/account/credit/#invite" data-invite-link>Invite friends, get $5.00<' in orders
