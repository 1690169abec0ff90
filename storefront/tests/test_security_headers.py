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


def directives(response) -> dict[str, list[str]]:
    parts = (p.strip().split() for p in response["Content-Security-Policy"].split(";"))
    return {p[0]: p[1:] for p in parts if p}


def test_the_csp_allows_the_shop_and_stripes_page_only(client, settings):
    settings.STRIPE_API_BASE = ""
    policy = directives(client.get("/how-it-works/"))
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]  # QR codes
    assert policy["form-action"] == ["'self'", "https://checkout.stripe.com"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert all("'unsafe-inline'" not in sources for sources in policy.values())
    settings.STRIPE_API_BASE = "http://127.0.0.1:8420/"  # the sandbox's page
    assert directives(client.get("/how-it-works/"))["form-action"] == ["'self'", "http://127.0.0.1:8420"]
    settings.STRIPE_CHECKOUT_ORIGIN = "http://localhost:9420"  # the sandbox published elsewhere
    assert directives(client.get("/how-it-works/"))["form-action"] == ["'self'", "http://localhost:9420"]


def test_only_the_outbox_allows_inline_style_attributes(client, settings):
    from django.contrib.auth import get_user_model

    from core.models import OutboxEmail

    settings.DEBUG = True  # the outbox exists only in debug
    staff = get_user_model().objects.create_user("s", "s@example.com", "pw", is_staff=True)
    client.force_login(staff)
    email = OutboxEmail.objects.create(
        to="t@example.com", subject="Hi", body_text="x", body_html='<p style="margin:0">x</p>', raw=b""
    )
    page = client.get(f"/outbox/{email.pk}/")
    assert page.status_code == 200
    assert directives(page)["style-src-attr"] == ["'unsafe-inline'"]
    assert "style-src-attr" not in directives(client.get("/outbox/"))
