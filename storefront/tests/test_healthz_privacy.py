"""/healthz tells the world only up or down; staff and the log get the detail."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def upstream_down(roamify):
    roamify.control.inject_fault("GET", "/api/health", status=503, count=None)


def test_anonymous_gets_only_ok(client, roamify):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_anonymous_gets_only_degraded_and_the_log_gets_the_error(client, upstream_down, caplog):
    with caplog.at_level(logging.WARNING, logger="storefront.health"):
        response = client.get("/healthz")
    assert response.status_code == 200  # upstream is not this instance's fault (storefront/health.py)
    assert response.json() == {"status": "degraded"}
    logged = [r.getMessage() for r in caplog.records if r.name == "storefront.health"]
    assert len(logged) == 1 and "upstream" in logged[0] and "health check failed" in logged[0]


def test_a_signed_in_customer_is_not_staff(client, upstream_down):
    customer = get_user_model().objects.create_user("c@example.com", "c@example.com", "pw")
    client.force_login(customer)
    assert client.get("/healthz").json() == {"status": "degraded"}


def test_staff_see_each_check_with_its_error_and_time(admin_client, upstream_down):
    response = admin_client.get("/healthz")
    body = response.json()
    assert response.status_code == 200 and body["status"] == "degraded"
    assert set(body["checks"]) == {"database", "cache", "broker", "upstream"}
    upstream = body["checks"]["upstream"]
    assert upstream["ok"] is False and upstream["error"] and isinstance(upstream["ms"], float)
    assert body["checks"]["database"]["ok"] is True


def test_no_cache_keeps_it_and_plain_http_probes_are_not_sent_to_https(client, roamify, settings):
    settings.SECURE_SSL_REDIRECT = True  # as in production
    response = client.get("/healthz")  # a load balancer's plain-HTTP probe
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert client.get("/metrics").status_code == 404  # Prometheus' probe: refused, not redirected
    assert client.get("/help/").status_code == 301  # the control: other pages go to HTTPS


def test_anonymous_gets_only_down_when_the_database_fails(client, roamify, monkeypatch):
    from storefront import health

    def broken() -> None:
        raise OSError("connection to server at 10.0.0.5 refused")

    monkeypatch.setitem(health.CHECKS, "database", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "down"}  # no host, no error text
