"""Currencies on the catalog: the visitor's currency, rates from Roamify, prices and the picker."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.cache import bump_catalog_version
from catalog.currency import (
    RateUnavailable,
    current_rate,
    default_currency,
    offered_currencies,
    package_price,
    store_in_cache,
)
from catalog.models import ExchangeRate
from catalog.rates import refresh_exchange_rates

from .factories import DestinationFactory, PackageFactory

pytestmark = pytest.mark.django_db

SANDBOX_RATES = {"EUR": "0.9215", "GBP": "0.7862", "AUD": "1.5274", "CAD": "1.3641", "JPY": "151.37"}


@pytest.fixture(autouse=True)
def _fresh_cache(clear_cache):
    """Each test starts with this process's cache empty."""


def set_rates(rates: dict[str, str] = SANDBOX_RATES, fetched_at: dt.datetime | None = None) -> None:
    for code, rate in rates.items():
        ExchangeRate.objects.update_or_create(
            currency=code, defaults={"per_base": Decimal(rate), "fetched_at": fetched_at or timezone.now()}
        )
    store_in_cache()
    bump_catalog_version()


@pytest.fixture
def plan():
    japan = DestinationFactory(name="Japan", code="JP", slug="japan", package_count=1, from_price_cents=499)
    return PackageFactory(destination=japan, package_id="esim-japan-7days-1gb-all", retail_cents=499)


@pytest.mark.parametrize(
    ("language", "accept", "expected"),
    [
        ("en", "", "USD"),
        ("en", "en-GB,en;q=0.9", "GBP"),
        ("en", "en-AU", "AUD"),
        ("en", "en-CA,fr-CA;q=0.8", "CAD"),
        ("en", "en-US", "USD"),
        ("en", "en-IN", "USD"),  # rupees are not offered
        ("en", "de-DE,en;q=0.5", "USD"),  # the English entry has no region: the language's own
        ("ja", "", "JPY"),
        ("ja", "en-US", "JPY"),  # no Japanese entry: Japanese → yen
        ("de", "de-DE", "EUR"),
        ("de", "de-AT", "EUR"),
        ("de", "de-CH", "USD"),  # francs are not offered
        ("fr", "fr", "EUR"),
        ("fr", "fr-CA", "CAD"),  # the region says otherwise
        ("it", "", "EUR"),
        ("es", "es-ES", "EUR"),
        ("es", "es-MX,es;q=0.9", "USD"),  # pesos are not offered
        ("es", "es", "EUR"),
        ("pt-br", "", "USD"),  # reais are not offered
        ("ar", "ar-EG", "USD"),
    ],
)
def test_the_default_currency_follows_the_language_and_the_region(language, accept, expected):
    set_rates()
    assert default_currency(language, accept) == expected


def test_brazilians_get_reais_once_offered(settings):
    settings.SHOP_CURRENCIES = [*settings.SHOP_CURRENCIES, "BRL"]
    set_rates({**SANDBOX_RATES, "BRL": "5.07"})
    assert default_currency("pt-br", "") == "BRL" and default_currency("en", "pt-BR") == "USD"


def test_prices_per_currency_by_cookie_formatted_by_babel(client, plan):
    set_rates()
    url = plan.get_absolute_url()
    assert "$4.99" in client.get(url).content.decode()  # no cookie, no Accept-Language: as before
    for code, shown in (
        ("EUR", "€4.99"),
        ("GBP", "£3.99"),
        ("JPY", "¥780"),
        ("AUD", "A$7.99"),
        ("CAD", "CA$6.99"),
    ):
        client.cookies["currency"] = code
        page = client.get(url).content.decode()
        assert f'<span class="price">{shown}</span>' in page, code
    client.cookies["currency"] = "XYZ"  # not offered: ignored
    assert '<span class="price">$4.99</span>' in client.get(url).content.decode()


def test_english_visitors_from_britain_see_pounds_and_caches_keep_them_apart(client, plan):
    set_rates()
    url = plan.get_absolute_url()
    british = client.get(url, HTTP_ACCEPT_LANGUAGE="en-GB")
    assert '<span class="price">£3.99</span>' in british.content.decode()
    assert "Accept-Language" in british["Vary"]  # the page depended on it
    american = client.get(url, HTTP_ACCEPT_LANGUAGE="en-US")
    assert '<span class="price">$4.99</span>' in american.content.decode()
    again = client.get(url, HTTP_ACCEPT_LANGUAGE="en-GB")
    assert again["X-Page-Cache"] == "hit" and "£3.99" in again.content.decode()


def test_the_price_never_goes_below_cost_plus_margin_at_the_rate(plan):
    plan.wholesale_cents, plan.retail_cents = 480, 599  # floor $5.80
    set_rates({"EUR": "0.5"})
    # $5.99 at 0.5 is €3.00 → €3.99; the floor €2.90 is below it. At a rate where rounding
    # alone would do, the floor still binds when the base price sits on it.
    assert package_price(plan, "EUR") == 399
    plan.retail_cents = 580
    assert package_price(plan, "EUR") >= 290


def test_the_picker_sets_the_cookie_and_goes_back(client, plan):
    set_rates()
    url = plan.get_absolute_url()
    page = client.get(url).content.decode()
    assert 'name="currency"' in page and '<option value="JPY">JPY</option>' in page
    answer = client.post("/currency/", {"currency": "JPY", "next": url})
    assert answer.status_code == 302 and answer["Location"] == url
    assert answer.cookies["currency"].value == "JPY" and answer.cookies["currency"]["httponly"]
    page = client.get(url).content.decode()
    assert '<span class="price">¥780</span>' in page and '<option value="JPY" selected>' in page
    elsewhere = client.post("/currency/", {"currency": "EUR", "next": "https://evil.example/"})
    assert elsewhere["Location"] == "/"  # never sent off-site
    cross = client.post("/currency/", {"currency": "EUR"}, HTTP_SEC_FETCH_SITE="cross-site")
    assert cross.status_code == 403


def test_no_picker_while_only_the_base_currency_is_offered(client, plan):
    assert offered_currencies() == ["USD"]
    assert 'name="currency"' not in client.get(plan.get_absolute_url()).content.decode()


def test_a_stale_rate_stops_sales_and_pages_fall_back_with_a_notice(client, plan, settings):
    old = timezone.now() - dt.timedelta(seconds=settings.EXCHANGE_RATE_MAX_AGE_SECONDS + 60)
    set_rates(fetched_at=old)
    with pytest.raises(RateUnavailable) as stale:
        package_price(plan, "EUR")
    assert str(stale.value) == (
        "Prices in EUR are not available right now. "
        "Please choose another currency or try again in a few minutes."
    )
    client.cookies["currency"] = "EUR"
    page = client.get(plan.get_absolute_url()).content.decode()
    assert '<span class="price">$4.99</span>' in page
    assert "Prices in EUR are not available right now" in page and "Prices are shown in USD." in page
    assert current_rate("USD").per_base == 1  # the base currency always sells


def test_refresh_from_roamify_stores_rates_and_when_they_were_fetched(roamify):
    before = timezone.now()
    result = refresh_exchange_rates()
    assert sorted(result.stored) == ["AUD", "CAD", "EUR", "GBP", "JPY"] and not result.unsupported
    jpy = ExchangeRate.objects.get(currency="JPY")
    assert jpy.per_base == Decimal("151.37") and jpy.fetched_at >= before and jpy.source == "roamify"
    assert current_rate("JPY").per_base == Decimal("151.37")
    assert offered_currencies() == ["USD", "EUR", "GBP", "AUD", "CAD", "JPY"]


def test_a_rate_change_reprices_the_cached_page(client, plan, roamify):
    refresh_exchange_rates()
    client.cookies["currency"] = "EUR"
    url = plan.get_absolute_url()
    assert '<span class="price">€4.99</span>' in client.get(url).content.decode()
    assert client.get(url)["X-Page-Cache"] == "hit"
    roamify.control.set_rate("EUR", 1.5)
    result = refresh_exchange_rates()
    assert result.changed == ["EUR"]
    assert '<span class="price">€7.99</span>' in client.get(url).content.decode()


def test_a_stale_rate_from_roamify_and_a_dropped_currency_stop_selling(plan, roamify, settings):
    roamify.control.set_rate("GBP", age_seconds=settings.EXCHANGE_RATE_MAX_AGE_SECONDS + 60)
    roamify.control.remove_currency("JPY")
    result = refresh_exchange_rates()
    assert result.unsupported == ["JPY"]
    with pytest.raises(RateUnavailable):
        current_rate("GBP")  # Roamify's own stamp says it is old, whenever we asked
    assert "JPY" not in offered_currencies() and "GBP" in offered_currencies()
    roamify.control.reset()
    refresh_exchange_rates()
    assert current_rate("GBP") and "JPY" in offered_currencies()
