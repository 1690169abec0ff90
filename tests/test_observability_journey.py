"""A real order through a real Celery worker on Redis: the worker's log lines are JSON and carry the
id of the request that queued its task, and /metrics moves with the order."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth import get_user_model

from checkout import cart, services
from checkout.models import Order, OrderStatus
from checkout.tests.conftest import make_package
from conftest import wait_until
from core.metrics.collectors import FULFILMENT_BUCKETS

pytestmark = pytest.mark.xdist_group("worker")


def sample(text: str, name: str, **labels: str) -> float:
    """One sample's value from Prometheus' text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}{re.escape('{' + wanted + '}') if wanted else ''} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def json_lines(text: str) -> list[dict]:
    """Every line of a log, each of which must be one JSON object."""
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines
    entries = []
    for line in lines:
        entry = json.loads(line)  # fails on any line that is not JSON
        assert isinstance(entry, dict) and {"time", "level", "logger", "message", "request_id"} <= set(entry)
        entries.append(entry)
    return entries


def test_the_request_id_reaches_the_task_it_queued_and_the_metrics_move(
    celery_worker, stripe, client, settings
):
    settings.METRICS_DB_CACHE_SECONDS = 0  # each scrape reads the database
    staff = get_user_model().objects.create_user("ops@example.com", "ops@example.com", "pw", is_staff=True)
    metrics = type(client)()
    metrics.force_login(staff)
    before = metrics.get("/metrics").content.decode()

    order = services.place_order(cart.PricedCart([cart.CartLine(make_package(), 1)], []), "log@example.com")
    services.start_payment(order)
    session_id = order.payments.get().external_reference
    assert stripe.control.pay(session_id)["outcome"] == "paid"

    # The traveller comes back from the payment page: the link's request redirects to the clean
    # URL, whose request looks the payment up and queues fulfilment (no webhook is registered).
    link = client.get(f"{order.access_url()}&session_id={session_id}")
    assert link.status_code == 302
    rid = "req-0123456789abcdef"
    back = client.get(link["Location"], headers={"X-Request-ID": rid})
    assert back.status_code == 200 and back["X-Request-ID"] == rid
    wait_until(
        lambda: Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED, 60, what="order completed"
    )

    def task_lines():
        return [
            e
            for e in json_lines(celery_worker.log())
            if e["request_id"] == rid and e.get("task") == "checkout.fulfil_order"
        ]

    lines = wait_until(task_lines, 30, what="the fulfilment task's log lines with the request id")
    assert all(e["task_id"] for e in lines)
    # Each of the worker's lines is JSON (checked by json_lines), and none has another request's id.
    assert {e["request_id"] for e in json_lines(celery_worker.log())} <= {rid, None}

    after = metrics.get("/metrics").content.decode()

    def moved(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert moved("shop_orders", state="completed") == 1
    assert moved("shop_payments", provider="stripe", status="captured") == 1
    assert moved("shop_fulfilment_seconds_count") == 1
    order.refresh_from_db()
    took = (order.completed_at - order.paid_at).total_seconds()
    assert moved("shop_fulfilment_seconds_sum") == pytest.approx(took, abs=1e-3)
    smallest = next(b for b in FULFILMENT_BUCKETS if took <= b)  # the order falls in this bucket
    assert moved("shop_fulfilment_seconds_bucket", le=f"{float(smallest)}") == 1
    assert moved("shop_fulfilment_seconds_bucket", le="+Inf") == 1
    assert "shop_celery_queue_length" in after
