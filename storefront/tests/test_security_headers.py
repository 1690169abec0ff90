"""The security headers every page carries with DEBUG off, and the HTTPS redirect."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_pages_carry_the_security_headers(client):
    response = client.get("/how-it-works/", secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = dict(p.split("=", 1) for p in response["Permissions-Policy"].split(", "))
    assert {"camera", "microphone", "geolocation", "payment", "usb"} <= set(policy)
    assert set(policy.values()) == {"()"}


def test_plain_http_is_redirected_except_the_health_check(settings):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()  # its middleware is loaded with the setting above
    page = client.get("/how-it-works/")
    assert page.status_code == 301 and page["Location"] == "https://testserver/how-it-works/"
    assert client.get("/healthz").status_code in (200, 503)  # the load balancer's probe: no redirect
    # Behind nginx, a request that came over HTTPS says so and is served.
    assert client.get("/how-it-works/", headers={"X-Forwarded-Proto": "https"}).status_code == 200
