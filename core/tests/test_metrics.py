"""/metrics: who may read it, and that its figures follow what happens (a real order's figures
through a real worker are in tests/test_observability_journey.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from core.roamify_client import UpstreamError, roamify_client
from esims.models import PartnerBalance
from tests.test_observability_journey import sample

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def read_at_every_scrape(settings):
    settings.METRICS_DB_CACHE_SECONDS = 0


PUBLIC_IP = "203.0.113.5"
TOKEN = "s3cret-token-of-the-shop"


def scrape(client, **kwargs) -> str:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "no-store" in response["Cache-Control"]
    return response.content.decode()


def test_nobody_else_reads_it(client, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    settings.CLIENT_IP_HEADER = "X-Real-IP"
    customer = get_user_model().objects.create_user("c@example.com", "c@example.com", "pw")
    signed_in = type(client)()
    signed_in.force_login(customer)
    refused = [
        client.get("/metrics", REMOTE_ADDR=PUBLIC_IP),
        signed_in.get("/metrics", REMOTE_ADDR=PUBLIC_IP),
        client.get("/metrics", REMOTE_ADDR=PUBLIC_IP, headers={"Authorization": "Bearer wrong"}),
        client.get("/metrics", REMOTE_ADDR=PUBLIC_IP, headers={"Authorization": f"Basic {TOKEN}"}),
        # Through the proxy (an internal address) for a public visitor: the proxy's header counts.
        client.get("/metrics", REMOTE_ADDR="10.0.0.2", headers={"X-Real-IP": PUBLIC_IP}),
        # A client's own X-Real-IP in front of the proxy's entry changes nothing.
        client.get("/metrics", REMOTE_ADDR="10.0.0.2", headers={"X-Real-IP": f"10.9.9.9, {PUBLIC_IP}"}),
        client.get("/metrics", REMOTE_ADDR="10.0.0.2", headers={"X-Real-IP": "not-an-address"}),
    ]
    assert [r.status_code for r in refused] == [404] * len(refused)
    assert all(b"shop_orders" not in r.content for r in refused)


def test_with_no_token_set_no_bearer_opens_it(client, settings):
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics", REMOTE_ADDR=PUBLIC_IP, headers={"Authorization": "Bearer "})
    assert response.status_code == 404


def test_staff_the_token_and_the_internal_network_read_it(client, admin_client, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "fd00::/8"]
    settings.CLIENT_IP_HEADER = "X-Real-IP"
    assert "shop_orders" in scrape(admin_client, REMOTE_ADDR=PUBLIC_IP)
    scrape(client, REMOTE_ADDR=PUBLIC_IP, headers={"Authorization": f"Bearer {TOKEN}"})
    scrape(client, REMOTE_ADDR="10.1.2.3")  # Prometheus, straight to gunicorn
    scrape(client, REMOTE_ADDR="10.0.0.2", headers={"X-Real-IP": "10.4.5.6"})  # through the proxy
    scrape(client, REMOTE_ADDR="fd00::7")


def test_page_cache_hits_and_misses_are_counted(client, admin_client, clear_cache):
    before = scrape(admin_client)
    client.get("/")
    client.get("/")
    after = scrape(admin_client)
    for result in ("hit", "miss"):
        name = "shop_page_cache_requests_total"
        assert sample(after, name, result=result) == sample(before, name, result=result) + 1


def test_upstream_errors_are_counted_by_kind(admin_client, roamify, settings):
    before = scrape(admin_client)
    roamify.control.inject_fault("GET", "/api/balance", status=401, count=2)
    for _ in range(2):
        with pytest.raises(UpstreamError):
            roamify_client().balance()
    after = scrape(admin_client)
    name = "shop_upstream_errors_total"
    kind = "AuthenticationError"
    assert sample(after, name, kind=kind) == sample(before, name, kind=kind) + 2
    assert f'{name}{{kind="UpstreamTimeout"}}' in after  # every kind is listed, at 0 until it happens


def test_the_balance_the_queue_and_the_orders_are_read_at_scrape(admin_client, redis_url, settings):
    from storefront.celery import app

    app.control.purge()
    PartnerBalance.objects.create(
        balance_cents=123456, currency="USD", source="check", checked_at=timezone.now()
    )
    app.send_task("checkout.reconcile_orders")  # no worker listens: it waits in the queue
    try:
        text = scrape(admin_client)
    finally:
        app.control.purge()
    assert sample(text, "shop_upstream_balance_cents", currency="USD") == 123456
    assert sample(text, "shop_celery_queue_length", queue=settings.CELERY_TASK_DEFAULT_QUEUE) == 1
    assert sample(text, "shop_orders", state="pending_payment") == 0  # every state is listed
    assert 'shop_orders{state="cancelled"}' in text


def test_the_database_figures_are_read_once_in_their_cache_time(
    admin_client, settings, clear_cache, django_assert_num_queries
):
    settings.METRICS_DB_CACHE_SECONDS = 30
    assert "shop_upstream_balance_cents" not in scrape(admin_client)  # no balance read yet
    PartnerBalance.objects.create(balance_cents=5, currency="USD", source="check", checked_at=timezone.now())
    with django_assert_num_queries(2):  # the staff session and user; no figure is read again
        assert "shop_upstream_balance_cents" not in scrape(admin_client)
    settings.METRICS_DB_CACHE_SECONDS = 0
    assert sample(scrape(admin_client), "shop_upstream_balance_cents", currency="USD") == 5
