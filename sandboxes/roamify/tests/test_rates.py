"""The exchange rates module over HTTP: supported currencies, rates, and the control calls."""

from __future__ import annotations

import datetime as dt

import httpx

from sandboxes.roamify.testing import SandboxControl


def test_supported_currencies_include_the_shops(api: httpx.Client) -> None:
    body = api.get("/api/currencies").json()
    assert body["status"] == "success"
    codes = [c["code"] for c in body["data"]["currencies"]]
    assert {"USD", "EUR", "GBP", "AUD", "CAD", "JPY", "CHF", "BRL"} <= set(codes)
    assert codes == sorted(codes)


def test_rates_one_pair_all_and_crossed(api: httpx.Client) -> None:
    pair = api.get("/api/rates", params={"source": "USD", "target": "JPY"}).json()["data"]
    assert (pair["source"], pair["target"]) == ("USD", "JPY") and 100 < pair["rate"] < 200
    stamped = dt.datetime.fromisoformat(pair["datetime"].replace("Z", "+00:00"))
    assert abs((dt.datetime.now(dt.UTC) - stamped).total_seconds()) < 5
    every = api.get("/api/rates").json()["data"]
    assert every["source"] == "USD" and every["rates"]["USD"] == 1 and 0.5 < every["rates"]["EUR"] < 1.2
    crossed = api.get("/api/rates", params={"source": "EUR", "target": "GBP"}).json()["data"]
    assert round(crossed["rate"], 6) == round(every["rates"]["GBP"] / every["rates"]["EUR"], 6)


def test_rates_refuse_what_the_docs_warn_about(api: httpx.Client) -> None:
    mixed = {"source": "USD", "target": "EUR", "datetime": "2026-01-01T00:00:00Z", "interval": "day"}
    assert api.get("/api/rates", params=mixed).status_code == 400
    no_interval = {
        "source": "USD",
        "target": "EUR",
        "from": "2026-01-01T00:00:00Z",
        "to": "2026-01-02T00:00:00Z",
    }
    assert api.get("/api/rates", params=no_interval).status_code == 400
    assert api.get("/api/rates", params={"source": "USD", "target": "XXX"}).status_code == 400


def test_control_changes_a_rate_makes_it_stale_and_removes_a_currency(
    api: httpx.Client, control: SandboxControl
) -> None:
    control.set_rate("EUR", 0.5)
    assert api.get("/api/rates", params={"target": "EUR"}).json()["data"]["rate"] == 0.5
    control.set_rate("EUR", age_seconds=7200)
    old = api.get("/api/rates", params={"target": "EUR"}).json()["data"]
    stamped = dt.datetime.fromisoformat(old["datetime"].replace("Z", "+00:00"))
    assert 7190 < (dt.datetime.now(dt.UTC) - stamped).total_seconds() < 7210 and old["rate"] == 0.5
    control.remove_currency("JPY")
    codes = [c["code"] for c in api.get("/api/currencies").json()["data"]["currencies"]]
    assert "JPY" not in codes and "JPY" not in control.rates()["rates"]
    assert api.get("/api/rates", params={"target": "JPY"}).status_code == 400
    control.reset()
    assert api.get("/api/rates", params={"target": "EUR"}).json()["data"]["rate"] == 0.9215
