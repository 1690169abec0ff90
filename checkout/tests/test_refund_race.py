"""A refund whose webhook arrives before the provider's answer (the Stripe sandbox does this under
load): counted once, recorded with its reason, and a later refund is not doubled."""

from __future__ import annotations

import pytest

from checkout import cart, services
from checkout.tests.helpers import force_paid
from payments import services as payments
from payments.models import PaymentRefund
from payments.providers import register, unregister
from payments.tests.providers import InstantProvider

pytestmark = pytest.mark.django_db


class WebhookFirstProvider(InstantProvider):
    """Refunds, and its webhook (the provider's new refunded total) is handled before it answers."""

    identifier = "test-webhook-first"

    def refund(self, payment, amount_cents: int, idempotency_key: str, *, actor: str = "system") -> str:
        total = payment.refunded_cents + amount_cents
        outcome = payments.record_provider_refund(self.identifier, payment.capture_reference, total)
        assert outcome == "refunded"
        return super().refund(payment, amount_cents, idempotency_key)


@pytest.fixture
def paid(package):
    register(WebhookFirstProvider())
    order = services.place_order(cart.PricedCart([cart.CartLine(package, 2)], []), "race@example.com")
    force_paid(order, provider=WebhookFirstProvider.identifier)
    yield order.payments.get()
    unregister(WebhookFirstProvider.identifier)


def test_the_webhook_first_then_our_answer_counts_once(paid):
    assert payments.refund(paid.pk, 300, reason="revoke") == 300
    paid.refresh_from_db()
    assert paid.refunded_cents == 300
    assert list(PaymentRefund.objects.values_list("amount_cents", "reason")) == [(300, "revoke")]
    # A refund made at the provider before (its dashboard) is not taken for ours.
    payments.record_provider_refund(paid.provider, paid.capture_reference, 400)
    assert payments.refund(paid.pk, 200, reason="more") == 200
    paid.refresh_from_db()
    assert paid.refunded_cents == 600
