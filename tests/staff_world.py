"""For the staff-side sweeps (tests/test_admin_sweep.py, tests/test_fuzz_forms.py): a small shop, one
order of each state and at least one row of every model the admin shows, so every change page has a
real object to open beside the odd ids; and each request rolled back, so every one sees that shop."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from catalog.models import ContentPage, DestinationAlias, SyncChange, SyncRun
from catalog.tests.factories import DeviceFactory, PackageFactory
from checkout import cart
from checkout import services as checkout
from checkout.models import Order, OrderStatus, UpstreamRefund
from checkout.tests.helpers import force_paid
from core import audit
from core.models import OutboxEmail
from esims.models import Esim, LowDataAlert, PartnerBalance, RoamifyEvent
from giftcards import codes
from giftcards import services as giftcards
from giftcards.models import ApiToken
from payments.models import PaymentRefund, StripeEvent

T = TypeVar("T")


def build_shop(staff) -> dict[str, Order]:
    """The rows; returns one order per status, by status."""
    package = PackageFactory(retail_cents=999)
    orders: dict[str, Order] = {}
    for n, status in enumerate(OrderStatus.values):
        order = checkout.place_order(cart.PricedCart([cart.CartLine(package, 1)], []), f"o{n}@example.com")
        if status != OrderStatus.PENDING_PAYMENT:
            force_paid(order)
            Order.objects.filter(pk=order.pk).update(status=status)
        order.refresh_from_db()
        orders[status] = order
    completed = orders[OrderStatus.COMPLETED]
    esim = Esim.objects.create(
        email=completed.email,
        title="Japan eSIM, 1 GB",
        upstream_esim_id="sweep-esim-1",
        iccid="8901000000000000999",
        status="READY",
        lpa_code="LPA:1$smdp.example$CODE",
        smdp_address="smdp.example",
        activation_code="CODE",
    )
    completed.lines.first().esims.add(esim)
    refunded = orders[OrderStatus.REFUNDED]
    UpstreamRefund.objects.create(order=refunded, esim=esim, reason="test", status="rejected")
    PaymentRefund.objects.create(
        payment=refunded.payments.first(), amount_cents=100, idempotency_key="sweep-refund-1", reason="test"
    )
    LowDataAlert.objects.create(esim=esim, allowance_key="k", threshold=80, percent_used=81)
    RoamifyEvent.objects.create(
        digest="0" * 64, category="esim", event_type="usage", iccid=esim.iccid, payload={"a": 1}
    )
    PartnerBalance.objects.create(balance_cents=100_000, source="check", checked_at=timezone.now())
    StripeEvent.objects.create(event_id="evt_sweep", type="checkout.session.completed", reference="cs_1")
    run = SyncRun.objects.create(status=SyncRun.Status.SUCCEEDED, finished_at=timezone.now())
    SyncChange.objects.create(
        run=run, package=package, kind=SyncChange.Kind.CHANGED, proposed_price_cents=1299
    )
    DeviceFactory()
    DestinationAlias.objects.create(alias="Nippon", code=package.destination.code)
    ContentPage.objects.create(slug="sweep", title="Sweep", body="<p>x</p>")
    OutboxEmail.objects.create(to="a@example.com", subject="Hi", body_text="x", raw=b"x")
    giftcards.issue(2500, actor="test", issued_by=staff, expires_on=dt.date.today() + dt.timedelta(days=30))
    prefix, token = codes.new_api_token()
    ApiToken.objects.create(
        name="sweep", prefix=prefix, token_hash=codes.token_hash(token), scopes=["gift_cards:read"]
    )
    Group.objects.create(name="support")
    audit.record(staff, "test.sweep", completed, {}, {"x": 1}, note="sweep")
    return orders


class _Undo(Exception):
    pass


def rolled_back(call: Callable[[], T]) -> T:
    """call()'s answer, with whatever it changed rolled back (a savepoint): each request of a sweep
    sees the same shop, and a failed query cannot poison the next."""
    try:
        with transaction.atomic():
            raise _Undo(call())
    except _Undo as undo:
        return undo.args[0]
