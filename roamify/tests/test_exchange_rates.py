"""The exchange rates module through the typed client: against the sandbox, and the parsers on
the other shapes an answer could plausibly take (the docs show requests only)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from roamify import ParseError, RoamifyClient, parsing


def test_currencies_and_rates_from_the_sandbox(roamify: RoamifyClient, sandbox) -> None:
    codes = {c.code for c in roamify.currencies()}
    assert {"USD", "EUR", "GBP", "AUD", "CAD", "JPY"} <= codes
    rates = {r.target: r for r in roamify.exchange_rates("usd")}
    assert rates["JPY"].rate == Decimal("151.37") and rates["JPY"].source == "USD"
    assert isinstance(rates["EUR"].rate, Decimal) and rates["EUR"].at is not None
    assert abs((dt.datetime.now(dt.UTC) - rates["EUR"].at).total_seconds()) < 5
    sandbox.control.set_rate("EUR", 0.5, age_seconds=3600)
    one = roamify.exchange_rate("USD", "EUR")
    assert one.rate == Decimal("0.5") and 3590 < (dt.datetime.now(dt.UTC) - one.at).total_seconds() < 3610


def test_rate_parser_reads_each_shape_and_drops_nonsense() -> None:
    at = "2026-05-01T10:00:00Z"
    pair = parsing.parse_rates({"source": "USD", "target": "eur", "rate": "0.92", "datetime": at}, "USD")
    assert [(r.target, r.rate, r.at.hour) for r in pair] == [("EUR", Decimal("0.92"), 10)]
    many = parsing.parse_rates({"rates": {"EUR": 0.92, "JPY": 151, "BAD": 0, "XX": 1, "GBP": None}}, "USD")
    assert [(r.target, r.rate) for r in many] == [("EUR", Decimal("0.92")), ("JPY", Decimal("151"))]
    listed = parsing.parse_rates({"datetime": at, "rates": [{"target": "CAD", "rate": 1.36}]}, "USD")
    assert listed[0].target == "CAD" and listed[0].at is not None
    assert parsing.parse_currency("eur").code == "EUR" and parsing.parse_currency({"code": "12"}) is None


def test_a_missing_pair_is_a_parse_error(roamify: RoamifyClient, sandbox) -> None:
    sandbox.control.inject_fault("GET", "/api/rates", status=200, body={"status": "success", "data": {}})
    with pytest.raises(ParseError):
        roamify.exchange_rate("USD", "EUR")
