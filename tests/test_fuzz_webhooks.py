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
