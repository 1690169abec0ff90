"""Money in every currency, as properties (Hypothesis): conversion, local prices, yen."""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.currency import ending_rule, local_price, round_up_to_ending
from core.money import convert, format_money, minor_digits, parse_money

CURRENCIES = ["EUR", "GBP", "AUD", "CAD", "JPY", "CHF", "KRW", "BRL"]
rates = st.decimals(min_value=Decimal("0.0005"), max_value=Decimal("2000"), places=6)
cents = st.integers(min_value=0, max_value=10_000_000)


@settings(max_examples=400, deadline=None)
@given(
    wholesale=st.integers(min_value=1, max_value=500_000),
    markup=st.integers(min_value=0, max_value=200_000),
    margin=st.integers(min_value=0, max_value=10_000),
    rate=rates,
    currency=st.sampled_from(CURRENCIES),
)
def test_a_local_price_is_never_below_cost_plus_margin_at_that_rate(
    wholesale, markup, margin, rate, currency
):
    floor = wholesale + margin
    base = floor + markup  # a retail price is never below the floor (catalog/pricing.py)
    price = local_price(base, currency, rate, floor)
    # The floor at this rate, exactly: cost plus margin in the currency's minor units, not rounded.
    exact_floor = Decimal(floor) / 100 * rate * 10 ** minor_digits(currency)
    assert price >= exact_floor
    assert price >= convert(base, rate, "USD", currency)  # the ending only rounds up
    step, ending = ending_rule(currency)
    assert price % step == ending  # x.99, ¥…80, whole hundreds of won
    assert (
        price
        - max(convert(base, rate, "USD", currency), convert(floor, rate, "USD", currency, ROUND_CEILING))
        < step
    )


@settings(max_examples=400, deadline=None)
@given(amount=cents, rate=rates, currency=st.sampled_from(CURRENCIES))
def test_convert_round_trips_within_the_rounding_of_each_side(amount, rate, currency):
    there = convert(amount, rate, "USD", currency)
    back = convert(there, Decimal(1) / rate, currency, "USD")
    # Each rounding is at most half a minor unit of its side; half a unit there is worth this here.
    slack = Decimal("0.5") * Decimal(10) ** (2 - minor_digits(currency)) / rate + Decimal("0.5")
    assert abs(back - amount) <= math.ceil(slack) + 1


@given(amount=cents)
def test_converting_at_one_between_currencies_of_two_digits_changes_nothing(amount):
    assert convert(amount, Decimal(1), "USD", "EUR") == amount


@given(yen=st.integers(min_value=0, max_value=10**9), rate=rates)
def test_yen_has_no_minor_unit(yen, rate):
    assert minor_digits("JPY") == 0 and minor_digits("USD") == 2
    shown = format_money(yen, "JPY", "en")
    assert "." not in shown and shown.startswith("¥")
    assert parse_money(shown, "JPY") == yen
    assert convert(yen, Decimal(1), "JPY", "USD") == yen * 100  # ¥1 at 1:1 is 100 cents
    assert round_up_to_ending(yen, "JPY") % 100 == 80


def test_yen_refuses_a_decimal_amount():
    with pytest.raises(ValueError, match="like 1280"):
        parse_money("12.50", "JPY")
    assert convert(1000, Decimal(150), "USD", "JPY") == 1500  # $10.00 at 150 is ¥1,500


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "shown"),
    [
        (749, "USD", "en", "$7.49"),  # the base currency in English, as before
        (-749, "USD", "en", "-$7.49"),
        (128000, "JPY", "en", "¥128,000"),
        (128000, "JPY", "ja", "￥128,000"),
        (123499, "EUR", "de", "1.234,99\u00a0€"),
        (749, "USD", "es", "7,49\u00a0US$"),  # "$" alone is ambiguous in Spanish: CLDR says US$
        (749, "AUD", "en", "A$7.49"),
        (749, "CAD", "en", "CA$7.49"),
        (749, "GBP", "en", "£7.49"),
        (749, "EUR", "fr", "7,49\u00a0€"),
        (749, "USD", "pt-br", "US$\u00a07,49"),
        (100, "CHF", "en", "CHF\u00a01.00"),
    ],
)
def test_formats_per_currency_and_language(amount, currency, locale, shown):
    assert format_money(amount, currency, locale) == shown
