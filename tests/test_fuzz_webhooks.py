"""Every webhook endpoint (Stripe, Roamify) with malformed, unsigned, replayed, old and oversized
bodies: 400/401/503 as designed, never 500, and nothing stored that should not be."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esims import signatures
from esims.models import RoamifyEvent
from payments.models import Payment, StripeEvent

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("fuzz-webhooks")]

STRIPE_URL = "/checkout/stripe/webhook/"
ROAMIFY_URL = "/roamify/webhook/"
STRIPE_SECRET = "whsec_fuzz"
ROAMIFY_SECRET = "roamify-fuzz"
FUZZ = settings(
    max_examples=100,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.just("\x00"),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
# Events shaped like the real ones, with junk where the values go.
STRIPE_EVENTS = st.fixed_dictionaries(
    {
        "id": st.one_of(st.text(max_size=30), st.just("evt_\x00")),
        "type": st.sampled_from(
            ["checkout.session.completed", "checkout.session.expired", "charge.refunded", "x"]
        )
        | st.text(max_size=5),
        "data": st.fixed_dictionaries(
            {
                "object": st.dictionaries(
                    st.sampled_from(
                        [
                            "id",
                            "object",
                            "payment_status",
                            "amount_total",
                            "currency",
                            "payment_intent",
                            "amount_refunded",
                            "metadata",
                            "status",
                        ]
                    ),
                    JSON,
                    max_size=8,
                )
            }
        ),
    },
)
ROAMIFY_EVENTS = st.fixed_dictionaries(
    {
        "event_category": st.sampled_from(["esim", "partner", ""]) | st.text(max_size=5),
        "event_type": st.sampled_from(["esim.usage", "esim.status", "partner.balance"]) | st.text(max_size=5),
        "data": st.dictionaries(
            st.sampled_from(["iccid", "status", "data_used_mb", "balance", "x"]), JSON, max_size=5
        ),
    },
)


def stripe_signature(body: bytes, timestamp: int | None = None, secret: str = STRIPE_SECRET) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@pytest.fixture
def secrets(settings):
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_SECRET
    settings.ROAMIFY_WEBHOOK_SECRET = ROAMIFY_SECRET


def _post(url: str, body: bytes, **headers):
    return Client().generic("POST", url, body, content_type="application/json", **headers)


def _nothing_stored() -> None:
    assert not StripeEvent.objects.exists() and not RoamifyEvent.objects.exists()
    assert not Payment.objects.exists()


# Each endpoint: its URL, its signature header, how a sender signs, and its kind of events.
WEBHOOKS = {
    "stripe": (STRIPE_URL, "HTTP_STRIPE_SIGNATURE", lambda body: stripe_signature(body), STRIPE_EVENTS),
    "roamify": (
        ROAMIFY_URL,
        "HTTP_X_ROAMIFY_SIGNATURE",
        lambda body: signatures.sign(ROAMIFY_SECRET, body),
        ROAMIFY_EVENTS,
    ),
}
BAD_SIGNATURES = st.one_of(
    st.none(),
    st.text(max_size=80),
    st.just("t=1,v1=00"),
    st.just("0" * 64),
    st.just("t=99999999999,v1=" + "0" * 64),
    st.just("é\x00"),
)


@pytest.mark.parametrize("endpoint", list(WEBHOOKS))
@FUZZ
@given(
    body=st.one_of(st.binary(max_size=200), JSON.map(lambda v: json.dumps(v).encode())),
    signature=BAD_SIGNATURES,
)
def test_unsigned_or_badly_signed_bodies_are_refused(secrets, endpoint, body, signature):
    url, header, _, _ = WEBHOOKS[endpoint]
    headers = {} if signature is None else {header: signature}
    response = _post(url, body, **headers)
    assert response.status_code == 400, response.status_code
    _nothing_stored()


@pytest.mark.parametrize("endpoint", list(WEBHOOKS))
@FUZZ
@given(data=st.data())
def test_signed_junk_never_500s(secrets, endpoint, data):
    url, header, sign, events = WEBHOOKS[endpoint]
    body = data.draw(
        st.one_of(
            st.binary(max_size=200),
            JSON.map(lambda v: json.dumps(v).encode()),
            events.map(lambda v: json.dumps(v).encode()),
        )
    )
    response = _post(url, body, **{header: sign(body)})
    assert response.status_code in (200, 400), response.status_code
    assert not Payment.objects.exists()


def test_stripe_old_replayed_and_oversized(secrets):
    event = {
        "id": "evt_1",
        "type": "checkout.session.completed",
        "data": {"object": {"id": "cs_unknown", "object": "checkout.session"}},
    }
    body = json.dumps(event).encode()
    old = _post(STRIPE_URL, body, HTTP_STRIPE_SIGNATURE=stripe_signature(body, int(time.time()) - 3600))
    assert old.status_code == 400
    wrong_secret = _post(STRIPE_URL, body, HTTP_STRIPE_SIGNATURE=stripe_signature(body, secret="whsec_other"))
    assert wrong_secret.status_code == 400
    _nothing_stored()
    first = _post(STRIPE_URL, body, HTTP_STRIPE_SIGNATURE=stripe_signature(body))
    again = _post(STRIPE_URL, body, HTTP_STRIPE_SIGNATURE=stripe_signature(body))
    assert first.status_code == again.status_code == 200
    assert again.json()["outcome"] == "duplicate" and StripeEvent.objects.count() == 1
    # A NUL (which PostgreSQL cannot store) once made a 500: now it is a malformed event.
    nul = json.dumps({**event, "id": "evt_\x00"}).encode()
    assert _post(STRIPE_URL, nul, HTTP_STRIPE_SIGNATURE=stripe_signature(nul)).status_code == 400
    huge = json.dumps({**event, "id": "evt_2", "pad": "x" * 400_000}).encode()
    assert _post(STRIPE_URL, huge, HTTP_STRIPE_SIGNATURE=stripe_signature(huge)).status_code == 400
    assert StripeEvent.objects.count() == 1


def test_roamify_replayed_oversized_and_unconfigured(secrets, settings):
    body = json.dumps(
        {"event_category": "esim", "event_type": "esim.usage", "data": {"iccid": "8901000000000000001"}}
    ).encode()
    signature = signatures.sign(ROAMIFY_SECRET, body)
    assert _post(ROAMIFY_URL, body, HTTP_X_ROAMIFY_SIGNATURE=signature).json()["duplicate"] is False
    assert _post(ROAMIFY_URL, body, HTTP_X_ROAMIFY_SIGNATURE=signature).json()["duplicate"] is True
    assert RoamifyEvent.objects.count() == 1
    infinite = b'{"event_category": "esim", "event_type": "esim.usage", "data": {"x": Infinity}}'
    signed = signatures.sign(ROAMIFY_SECRET, infinite)
    assert _post(ROAMIFY_URL, infinite, HTTP_X_ROAMIFY_SIGNATURE=signed).status_code == 400  # once a 500
    nul = json.dumps({"event_category": "esim", "event_type": "esim.usage", "data": {"iccid": "\x00"}})
    signed = signatures.sign(ROAMIFY_SECRET, nul.encode())
    assert _post(ROAMIFY_URL, nul.encode(), HTTP_X_ROAMIFY_SIGNATURE=signed).status_code == 400
    huge = json.dumps({"event_category": "esim", "event_type": "esim.usage", "pad": "x" * 3_000_000}).encode()
    response = _post(ROAMIFY_URL, huge, HTTP_X_ROAMIFY_SIGNATURE=signatures.sign(ROAMIFY_SECRET, huge))
    assert response.status_code == 400
    settings.ROAMIFY_WEBHOOK_SECRET = ""
    assert _post(ROAMIFY_URL, body, HTTP_X_ROAMIFY_SIGNATURE=signature).status_code == 503
    assert RoamifyEvent.objects.count() == 1


# --- Amounts in Stripe's session events ------------------------------------------------------------
# Stripe's amounts are integers of the currency's minor unit, from 0 to 99,999,999 (its maximum,
# $999,999.99). JSON's true is not 1 and 299.0 is not 299 here: anything else is refused.

MALFORMED_AMOUNTS = [
    -1,
    -(2**40),
    100_000_000,
    2**31,
    2**63,
    10**30,
    299.0,
    1e300,
    True,
    False,
    "299",
    [],
    {},
]


_MISSING = object()  # a field left out of the event


@pytest.fixture
def open_session(stripe):
    """An order waiting for its card payment: a real Checkout Session in the Stripe sandbox."""
    from catalog.tests.factories import PackageFactory
    from checkout import cart, services

    package = PackageFactory(retail_cents=299, wholesale_cents=100)
    order = services.place_order(cart.PricedCart([cart.CartLine(package, 1)], []), "fuzz@example.com")
    services.start_payment(order)
    payment = order.payments.get()
    assert stripe.control.pay(payment.external_reference)["outcome"] == "paid"
    return order, payment


def paid_session_event(payment: Payment, event_id: str = "evt_amount", **changes) -> dict:
    """The signed event Stripe sends for the paid session, with some of its fields changed."""
    from payments.providers.stripe_api import gateway

    session = gateway().client.v1.checkout.sessions.retrieve(payment.external_reference).to_dict()
    assert session["amount_total"] == payment.amount_cents and session["payment_status"] == "paid"
    session.update(changes)
    for name in [k for k, v in changes.items() if v is _MISSING]:
        del session[name]
    return {
        "id": event_id,
        "object": "event",
        "type": "checkout.session.completed",
        "data": {"object": session},
    }


def _post_signed(event: dict, secret: str):
    body = json.dumps(event).encode()
    return _post(STRIPE_URL, body, HTTP_STRIPE_SIGNATURE=stripe_signature(body, secret=secret))


def _still_waiting(order, payment) -> None:
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == "pending_payment" and order.paid_at is None
    assert payment.status == Payment.Status.CREATED and payment.amount_cents == 299
    assert not StripeEvent.objects.exists()  # refused: Stripe sends it again, and it is judged again


@pytest.mark.parametrize("amount", MALFORMED_AMOUNTS, ids=repr)
def test_a_malformed_amount_is_refused_logged_and_changes_nothing(stripe, open_session, amount, caplog):
    """Once: a negative or huge amount_total made a 500 (PostgreSQL refused it); 299.0, true or "299"
    were read as "no amount" and the order was paid and fulfilled."""
    order, payment = open_session
    with caplog.at_level("WARNING", logger="payments"):
        response = _post_signed(paid_session_event(payment, amount_total=amount), stripe.webhook_secret)
    assert response.status_code == 400, response.status_code
    assert "amount" in response.json()["error"]
    _still_waiting(order, payment)
    assert any("evt_amount" in r.getMessage() and "amount_total" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("amount", [None, _MISSING], ids=["null", "missing"])
def test_a_paid_session_without_its_amount_is_refused(stripe, open_session, amount):
    """Stripe's amount_total is null only for sessions in setup mode; the shop opens payment sessions,
    whose amount Stripe always sends. A paid one without it is not Stripe's: refused."""
    order, payment = open_session
    response = _post_signed(paid_session_event(payment, amount_total=amount), stripe.webhook_secret)
    assert response.status_code == 400
    _still_waiting(order, payment)


def test_a_good_amount_is_taken_and_a_wrong_one_needs_staff(stripe, open_session):
    order, payment = open_session
    response = _post_signed(paid_session_event(payment, amount_total=298), stripe.webhook_secret)
    assert response.status_code == 200 and response.json()["outcome"] == "captured"
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (payment.status, payment.amount_cents) == (Payment.Status.CAPTURED, 298)
    assert order.status == "requires_action"  # paid 2.98 for a 2.99 order: staff decide


def test_an_expired_session_with_a_malformed_amount_is_refused(stripe, open_session):
    order, payment = open_session
    event = paid_session_event(payment, amount_total=-5, status="expired", payment_status="unpaid")
    event["type"] = "checkout.session.expired"
    assert _post_signed(event, stripe.webhook_secret).status_code == 400
    _still_waiting(order, payment)


@pytest.mark.parametrize("refunded", [True, -1, 2**63, 1.0, "100"], ids=repr)
def test_a_refund_event_with_a_malformed_amount_is_refused(stripe, open_session, refunded):
    """charge.refunded's amount_refunded once took true for 1 cent refunded."""
    _, payment = open_session
    assert _post_signed(paid_session_event(payment), stripe.webhook_secret).status_code == 200
    payment.refresh_from_db()
    charge = {"id": "ch_1", "object": "charge", "payment_intent": payment.capture_reference}
    event = {
        "id": "evt_ref",
        "type": "charge.refunded",
        "data": {"object": {**charge, "amount_refunded": refunded}},
    }
    assert _post_signed(event, stripe.webhook_secret).status_code == 400
    payment.refresh_from_db()
    assert payment.refunded_cents == 0 and payment.status == Payment.Status.CAPTURED
    assert not StripeEvent.objects.filter(event_id="evt_ref").exists()


def _waiting_card_payment() -> Payment:
    """A card payment waiting for its session (rows only: the session's id is all the webhook needs)."""
    from catalog.tests.factories import PackageFactory
    from checkout import cart, services

    found = Payment.objects.filter(provider="stripe").first()
    if found is not None:
        return found
    order = services.place_order(cart.PricedCart([cart.CartLine(PackageFactory(), 1)], []), "f@example.com")
    return Payment.objects.create(
        order=order,
        provider="stripe",
        amount_cents=order.total_cents,
        currency=order.currency,
        external_reference="cs_fuzz",
        data={"order_number": order.number},
    )


@FUZZ
@given(amount=JSON.filter(lambda v: not (type(v) is int and 0 <= v <= 99_999_999)))
def test_any_amount_that_is_not_one_is_refused(secrets, amount):
    """Whatever JSON stands where the amount goes, in a paid session we know: 400, nothing changes."""
    payment = _waiting_card_payment()
    session = {
        "id": payment.external_reference,
        "object": "checkout.session",
        "status": "complete",
        "payment_status": "paid",
        "currency": "usd",
        "payment_intent": "pi_fuzz",
        "client_reference_id": payment.order.number,
        "amount_total": amount,
    }
    event = {"id": "evt_fuzz", "type": "checkout.session.completed", "data": {"object": session}}
    response = _post_signed(event, STRIPE_SECRET)
    assert response.status_code == 400, (amount, response.status_code)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CREATED and not StripeEvent.objects.exists()
