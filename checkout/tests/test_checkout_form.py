"""Checkout form: addresses Stripe would refuse and impossible trip dates are stopped here."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from catalog.tests.factories import PackageFactory
from checkout.forms import CheckoutForm
from checkout.models import Order

# Plans must be activated within 365 days of purchase.
TRAVEL_DATE_MAX_DAYS_AHEAD = 365

REFUSED_BY_STRIPE = [
    "a@localhost",  # Django's validator allows localhost
    "a@example",  # no dot in the domain
    "a@[127.0.0.1]",  # IP literals
    "a@[IPv6:::1]",
    "a@127.0.0.1",
    "a@example.c0m",  # the last label is no TLD
    "a@example.com.",
]


def valid(data: dict, needs_travel_date: bool = False) -> CheckoutForm:
    return CheckoutForm(data, needs_travel_date=needs_travel_date)


@pytest.mark.parametrize("email", REFUSED_BY_STRIPE)
def test_addresses_stripe_refuses_are_refused(email):
    form = valid({"email": email})
    assert not form.is_valid()
    assert form.errors["email"] == ["Enter an email address with a full domain name, like name@example.com."]


@pytest.mark.parametrize(
    "email", ["a@example.com", "first.last+trip@mail.example.co.uk", "a@xn--bcher-kva.example"]
)
def test_ordinary_addresses_pass(email):
    assert valid({"email": email}).is_valid()


def days_from_today(days: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


@pytest.mark.parametrize("travel_date", ["9999-12-31", TRAVEL_DATE_MAX_DAYS_AHEAD + 1, -1])
def test_trip_dates_outside_the_activation_window_are_refused(travel_date: str | int):
    if isinstance(travel_date, int):  # days from today, worked out when the test runs
        travel_date = days_from_today(travel_date)
    form = valid({"email": "a@example.com", "travel_date": travel_date}, needs_travel_date=True)
    assert not form.is_valid()
    assert form.errors["travel_date"][0].startswith("Choose a trip start date from today to ")


@pytest.mark.parametrize("days", [0, 30, TRAVEL_DATE_MAX_DAYS_AHEAD])
def test_trip_dates_from_today_to_a_year_ahead_pass(days):
    form = valid({"email": "a@example.com", "travel_date": days_from_today(days)}, needs_travel_date=True)
    assert form.is_valid(), form.errors


# Through the page: the message is shown and no order is made.


@pytest.fixture
def dated_package(db):
    return PackageFactory(retail_cents=999, travel_date_required=True)


def post_checkout(client, package, **data: str):
    client.post("/cart/add/", {"package": package.package_id, "quantity": "1"})
    return client.post("/checkout/", {"email": "a@example.com", "travel_date": days_from_today(1), **data})


@pytest.mark.django_db
def test_checkout_page_refuses_a_localhost_address(client, dated_package):
    response = post_checkout(client, dated_package, email="a@localhost")
    assert response.status_code == 400
    assert "full domain name, like name@example.com" in response.content.decode()
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_checkout_page_refuses_a_trip_in_year_9999(client, dated_package):
    response = post_checkout(client, dated_package, travel_date="9999-01-01")
    html = response.content.decode()
    assert response.status_code == 400
    assert "Choose a trip start date from today to" in html and "within a year of purchase" in html
    last = timezone.localdate() + dt.timedelta(days=TRAVEL_DATE_MAX_DAYS_AHEAD)
    assert f'max="{last.isoformat()}"' in html  # the date picker stops there too
    assert not Order.objects.exists()
