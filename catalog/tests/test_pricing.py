from decimal import Decimal

import pytest

from catalog.pricing import (
    PricingRules,
    below_floor,
    needs_review,
    price_per_gb,
    retail_price,
    round_to_ending,
)
from core.money import format_money

RULES = PricingRules(markup_percent=Decimal("35"), min_margin_cents=100, ending_cents=99)


@pytest.mark.parametrize(
    ("cents", "ending", "expected"),
    [
        (642, 99, 699),
        (699, 99, 699),
        (700, 99, 799),
        (1, 99, 99),
        (0, 99, 99),
        (642, 0, 700),
        (700, 0, 700),
        (1250, 49, 1349),
        (1249, 49, 1249),
    ],
)
def test_round_to_ending(cents, ending, expected):
    assert round_to_ending(cents, ending) == expected


def test_markup_then_rounded_up_to_the_ending():
    # $4.00 cost × 1.35 = $5.40 → $5.99
    assert retail_price(400, RULES) == 599


def test_never_below_cost_plus_minimum_margin_even_with_zero_markup():
    # 0 % markup on $4.50 would be $4.50; the floor is $5.50 → $5.99
    assert retail_price(450, RULES, markup_percent=Decimal("0")) == 599
    assert retail_price(450, RULES, markup_percent=Decimal("-50")) == 599


def test_destination_markup_overrides_the_shop_markup():
    assert retail_price(1000, RULES, markup_percent=Decimal("100")) == 2099


def test_override_is_used_as_is_but_clamped_to_the_floor():
    assert retail_price(400, RULES, override_cents=1234) == 1234
    assert retail_price(400, RULES, override_cents=100) == 500


def test_cheap_package_gets_the_minimum_margin():
    # $0.50 cost: markup gives $0.68, floor is $1.50 → $1.99
    assert retail_price(50, RULES) == 199


def test_price_per_gb_and_formatting():
    assert price_per_gb(999, 512) == 1998
    assert price_per_gb(999, None) is None
    assert format_money(123456, "USD") == "$1,234.56"
    assert format_money(5, "EUR") == "€0.05"
    assert format_money(100, "CHF") == "CHF\u00a01.00"  # CLDR's English format (Babel), spaced per CLDR


def test_a_rise_over_the_review_percentage_needs_review():
    # The default 20 %: $6.99 → $8.38 is 19.9 %, $8.39 is 20.03 %.
    assert RULES.review_rise_percent == 20
    assert not needs_review(699, 838, RULES)
    assert needs_review(699, 839, RULES)
    assert needs_review(699, 1099, RULES)  # issue 18's $4.99 → $7.50 cost rise
    assert not needs_review(699, 599, RULES) and not needs_review(699, 699, RULES)  # falls go live
    strict = PricingRules(Decimal("35"), 100, 99, review_rise_percent=Decimal("0"))
    assert needs_review(699, 700, strict) and not needs_review(699, 699, strict)


def test_a_price_under_cost_plus_margin_is_below_the_floor():
    assert below_floor(699, 750, RULES)  # the cost rose above the price
    assert below_floor(699, 600, RULES)  # $1.00 margin needed, $0.99 left
    assert not below_floor(699, 599, RULES)
