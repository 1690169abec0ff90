"""The account's store credit page: only the owner's credit, the balance, when it expires, the
history in the customer's words; its queries pinned."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from checkout import cart, services
from checkout.tests.conftest import make_package
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
    with django_assert_num_queries(4):  # session, user, account, entries (with their orders)
        page = client.get("/account/credit/").content.decode()
    left = 1500 - package.retail_cents
    assert f"${left / 100:.2f}" in page and "$77.00" not in page
    assert f"Held for order {order.number}" in page and "Added by our team" in page
    expires = (timezone.now() + dt.timedelta(days=20)).strftime("%-d %b %Y")
    assert f"${left / 100:.2f} of it expires on {expires}" in page
    assert 'aria-current="page">Store credit<' in page


def test_no_credit_yet(client):
    client.force_login(customer())
    page = client.get("/account/credit/").content.decode()
    assert "No store credit yet." in page and "$0.00" in page
