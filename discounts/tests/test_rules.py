"""Every rule of a discount code, as a table: a code, a cart, a buyer; the amount it takes off, or
the reason it does not apply, as the cart says it. Through the cart's own code path
(`cart.with_discount` with the checkout's buyer: their orders and uses in the database)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from checkout import cart, selectors
from checkout.models import Order, OrderStatus
from discounts.models import DiscountUse, Kind

from .conftest import code, destination, package

pytestmark = pytest.mark.usefixtures("postgres")
EMAIL = "kim@example.com"
NOW = timezone.now()


def _paid_order(email: str = EMAIL, user=None) -> Order:
    return Order.objects.create(
        email=email, customer=user, currency="USD", total_cents=999, status=OrderStatus.PAID, paid_at=NOW
    )


def _cart(lines, gift: int = 0) -> SessionStore:
    session = SessionStore()
    raw = {p.package_id: qty for p, qty in lines}
    session[cart.SESSION_KEY] = raw
    if gift:
        session[cart.GIFT_LINES_KEY] = {
            "g1": {"amount_cents": gift, "recipient_name": "Ann", "recipient_email": "ann@example.com"}
        }
    return session


def _priced(session, email: str = EMAIL, user=None) -> cart.PricedCart:
    return cart.with_discount(cart.priced(session), session, selectors.discount_buyer(email, user))


# Each row: the code's fields, the cart (Japan/France $9.99 plans; a gift card amount), what happens
# first (a paid order, an earlier use, the buyer being the referrer), then the discount in cents or
# the message.
ROWS = [
    ("10 % off one plan", {}, [("jp", 1)], 0, None, 100),
    ("10 % off three: per line", {}, [("jp", 3)], 0, None, 300),
    ("a fixed $3 over two lines", {"amount_off_cents": 300}, [("jp", 1), ("fr", 1)], 0, None, 300),
    ("a fixed amount never more than the lines", {"amount_off_cents": 5000}, [("jp", 1)], 0, None, 399),
    ("for Japan", {"destinations": ["jp"]}, [("jp", 1), ("fr", 1)], 0, None, 100),
    (
        "not for France",
        {"destinations": ["jp"]},
        [("fr", 1)],
        0,
        None,
        "This code is valid for Japan plans only.",
    ),
    ("a region", {"regions": ["Asia"]}, [("jp", 1)], 0, None, 100),
    (
        "another region",
        {"regions": ["Asia"]},
        [("fr", 1)],
        0,
        None,
        "This code is valid for Asia plans only.",
    ),
    (
        "one package",
        {"packages": ["fr"]},
        [("jp", 1)],
        0,
        None,
        "This code is valid for selected plans only.",
    ),
    ("top-ups only", {"line_kinds": ["topup"]}, [("jp", 1)], 0, None, "This code is valid for top-ups only."),
    (
        "expired",
        {"valid_until": dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)},
        [("jp", 1)],
        0,
        None,
        "This code expired on 1 May 2026.",
    ),
    ("not started", {"valid_from": NOW + dt.timedelta(days=40)}, [("jp", 1)], 0, None, "This code starts on"),
    ("no uses left", {"max_uses": 5, "uses": 5}, [("jp", 1)], 0, None, "This code has no uses left."),
    ("switched off", {"active": False}, [("jp", 1)], 0, None, "This code is no longer valid."),
    ("minimum spend met", {"min_spend_cents": 1500}, [("jp", 2)], 0, None, 200),
    (
        "minimum spend on the code's lines",
        {"min_spend_cents": 2000, "destinations": ["jp"]},
        [("jp", 1), ("fr", 2)],
        0,
        None,
        "Spend at least $20.00 on Japan plans to use this code.",
    ),
    ("first order", {"first_order_only": True}, [("jp", 1)], 0, None, 100),
    (
        "not a first order",
        {"first_order_only": True},
        [("jp", 1)],
        0,
        "paid",
        "This code is for a first order only.",
    ),
    (
        "used once already",
        {"max_uses_per_customer": 1},
        [("jp", 1)],
        0,
        "used",
        "You have already used this code.",
    ),
    ("gift cards", {}, [], 2500, None, "This code is not for gift cards."),
    ("gift card beside a plan", {}, [("jp", 1)], 2500, None, 100),
    (
        "own referral code",
        {"kind": Kind.REFERRAL},
        [("jp", 1)],
        0,
        "referrer",
        "You can't use your own referral code.",
    ),
    (
        "own referral code by email",
        {"kind": Kind.REFERRAL},
        [("jp", 1)],
        0,
        "referrer-email",
        "You can't use your own referral code.",
    ),
    ("a friend's referral code", {"kind": Kind.REFERRAL}, [("jp", 1)], 0, "friend", 100),
    ("capped at cost + margin", {"percent_off": 90}, [("jp", 1)], 0, None, 399),
]


@pytest.mark.parametrize(
    ("setup", "cart_lines", "gift", "before", "expected"),
    [pytest.param(*row[1:], id=row[0]) for row in ROWS],
)
def test_a_code_on_a_cart(japan, france, setup, cart_lines, gift, before, expected):
    plans = {"jp": japan, "fr": france}
    fields = dict(setup)
    for scope in ("destinations", "packages"):
        if scope in fields:
            rows = [plans[k] for k in fields[scope]]
            fields[scope] = [p.destination for p in rows] if scope == "destinations" else rows
    uses = fields.pop("uses", 0)
    user = None
    if fields.get("kind") == Kind.REFERRAL:
        referrer = get_user_model().objects.create_user("ref", "ref@example.com", "pw")
        fields["referrer"] = referrer
        if before == "referrer":
            user = referrer
    discount = code(**fields)
    if uses:
        type(discount).objects.filter(pk=discount.pk).update(uses=uses)
    email = "ref@example.com" if before == "referrer-email" else EMAIL
    if before == "paid":
        _paid_order()
    if before == "used":
        earlier = _paid_order()
        DiscountUse.objects.create(
            code=discount,
            order=earlier,
            email=EMAIL,
            amount_cents=100,
            currency="USD",
            base_amount_cents=100,
            status=DiscountUse.Status.COUNTED,
        )
    session = _cart([(plans[k], q) for k, q in cart_lines], gift)
    cart.set_discount_code(session, "japan10")  # typed in any case
    priced = _priced(session, email, user)
    if isinstance(expected, int):
        assert priced.discount_refusal == ""
        assert priced.discount_cents == expected
        listed = sum(line.total_cents for line in priced.lines) + priced.gift_cards_cents
        assert priced.total_cents == listed - expected
    else:
        assert priced.discount is None
        assert priced.discount_refusal.startswith(expected), priced.discount_refusal


def test_a_capped_discount_keeps_each_line_at_cost_plus_margin(japan):
    discount = code(percent_off=90)
    session = _cart([(japan, 2)])
    cart.set_discount_code(session, discount.code)
    priced = _priced(session)
    ((line, cut),) = priced.discounted_lines
    assert cut.wanted_cents == 1798 and cut.cents == 2 * (999 - 600) and priced.discount.capped
    assert line.total_cents - cut.cents == 2 * (500 + 100)  # cost + minimum margin, per unit


def test_an_amount_off_is_converted_at_the_carts_rate(japan):
    from checkout.tests.helpers import rates

    code(amount_off_cents=200)
    with rates(JPY="150"):
        session = _cart([(japan, 1)])
        cart.set_discount_code(session, "JAPAN10")
        priced = cart.with_discount(cart.priced(session, "JPY"), session, selectors.discount_buyer(EMAIL))
    assert priced.currency == "JPY" and priced.discount_cents == 300  # $2.00 at 150 yen


def test_a_second_region_name_reads_as_a_list(db):
    asia = destination("Japan", "Asia", "JP")
    plan = package(destination("Spain", "Europe", "ES"))
    code(destinations=[asia], regions=["Oceania"])
    session = _cart([(plan, 1)])
    cart.set_discount_code(session, "JAPAN10")
    assert _priced(session).discount_refusal == "This code is valid for Japan or Oceania plans only."
