"""Roamify's signed `refund` webhook, through the real endpoint (esims), closes or flags the refund
request checkout filed (esims never imports checkout: core.signals carries it)."""

from __future__ import annotations

import json

import pytest

from checkout.models import UpstreamRefund
from esims.models import Esim
from esims.signatures import sign

from .helpers import paid_order

pytestmark = pytest.mark.django_db

SECRET = "whsec_roamify_test"


@pytest.fixture
def claim(settings):
    from catalog.tests.factories import PackageFactory

    settings.ROAMIFY_WEBHOOK_SECRET = SECRET
    order = paid_order(PackageFactory(retail_cents=999))
    esim = Esim.objects.create(upstream_esim_id="e-9", iccid="8901000000000000999", status="READY")
    return UpstreamRefund.objects.create(
        order=order, esim=esim, refund_id="rf-1", status="pending", cost_cents=500, reason="NOT_INSTALLED"
    )


def deliver(client, event_type: str, **data):
    body = json.dumps(
        {
            "event_category": "refund",
            "event_type": event_type,
            "event_id": f"rfd_rf-1_{event_type}",
            "data": {"refund_id": "rf-1", **data},
        }
    ).encode()
    return client.post(
        "/roamify/webhook/",
        body,
        content_type="application/json",
        HTTP_X_ROAMIFY_SIGNATURE=sign(SECRET, body),
    )


@pytest.mark.parametrize(
    ("event_type", "status", "shown"),
    [
        ("refunded", "REFUNDED", "Roamify refunded the cost"),
        ("rejected", "REJECTED", "already installed"),
    ],
)
def test_refund_webhook_closes_or_flags_the_request(
    client, claim, django_capture_on_commit_callbacks, event_type, status, shown
):
    from celery import current_app

    current_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = deliver(client, event_type, status=status, rejection_reason="eSIM already installed")
    finally:
        current_app.conf.task_always_eager = False
    assert response.status_code in (200, 202)
    claim.refresh_from_db()
    assert claim.status == event_type
    assert claim.order.events.filter(message__icontains=shown).exists()
