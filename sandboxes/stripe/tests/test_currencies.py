"""Amounts in each currency's own units, refused as Stripe refuses them: a non-integer, below the
currency's minimum charge, above 99,999,999, or in a currency Stripe does not know."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import stripe

from sandboxes.stripe.testing import StripeSandbox

from .conftest import WebhookReceiver, session_params


def _line(currency: str, unit: Any, quantity: int = 1, key: str = "unit_amount") -> list[dict[str, Any]]:
    return [
        {"price_data": {"currency": currency, key: unit, "product_data": {"name": "x"}}, "quantity": quantity}
    ]


def test_yen_are_whole_units_end_to_end(
    client: stripe.StripeClient, sb: StripeSandbox, make_session: Callable[..., Any]
) -> None:
    """¥1,280 is 1280: charged and refunded as 1280, never 128000."""
    session = make_session(line_items=_line("jpy", 1280))
    assert (session.amount_total, session.currency) == (1280, "jpy")
    paid = sb.control.pay(session.id)
    assert paid["outcome"] == "paid"
    intent = client.v1.payment_intents.retrieve(str(paid["payment_intent"]))
    assert (intent.amount, intent.currency) == (1280, "jpy")
    refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1280})
    assert (refund.amount, refund.status) == (1280, "succeeded")


@pytest.mark.parametrize(
    ("line_items", "param", "code", "message"),
    [
        # A euro amount with a fraction of a cent, a yen amount with decimals: not integers.
        (_line("eur", "12.5"), "line_items[0][price_data][unit_amount]", "parameter_invalid_integer", "12.5"),
        (
            _line("jpy", "1280.50", key="unit_amount_decimal"),
            "line_items[0][price_data][unit_amount_decimal]",
            "parameter_invalid_integer",
            "Invalid integer",
        ),
        # Dollars sent where cents are due: under the minimum charge of each currency.
        (_line("usd", 12), "line_items", "amount_too_small", "at least $0.50 usd"),
        (_line("eur", 49), "line_items", "amount_too_small", "at least €0.50 eur"),
        (_line("gbp", 29), "line_items", "amount_too_small", "at least £0.30 gbp"),
        (_line("jpy", 49), "line_items", "amount_too_small", "at least ¥50 jpy"),
        # Yen sent as if they had cents, past Stripe's largest amount.
        (_line("jpy", 50_000_000, quantity=2), "line_items", "amount_too_large", "no more than ¥99,999,999"),
        (
            _line("usd", 100_000_000),
            "line_items[0][price_data][unit_amount]",
            "parameter_invalid_string",
            "less than or equal to 99999999",
        ),
    ],
)
def test_wrong_unit_amounts_are_refused(
    client: stripe.StripeClient,
    receiver: WebhookReceiver,
    line_items: list[dict[str, Any]],
    param: str,
    code: str,
    message: str,
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.create(params=session_params(receiver, line_items=line_items))
    error = info.value.json_body["error"]
    assert info.value.http_status == 400
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)
    assert message in error["message"]


def test_an_unknown_currency_is_refused_with_stripes_message(
    client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.create(params=session_params(receiver, line_items=_line("xyz", 1000)))
    error = info.value.json_body["error"]
    assert error["param"] == "line_items[0][price_data][currency]" and "code" not in error
    assert error["message"].startswith("Invalid currency: xyz. Stripe currently supports these currencies: ")
    assert ", jpy, " in error["message"] and ", eur, " in error["message"]
