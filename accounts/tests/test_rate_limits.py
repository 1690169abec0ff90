"""allauth's rate limits (sign-in, sign-up, password reset) count per visitor, by the address
core.security.client_ip gives (behind nginx: X-Real-IP), not per proxy; a password reset is
also limited per account over hours, not only per minute."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.core import mail
from django.test import RequestFactory

from core.security import client_ip

from .conftest import make_customer

pytestmark = pytest.mark.django_db

TOO_MANY = "Too many failed login attempts"
PROXY = "10.0.0.2"  # nginx, as gunicorn sees it


@pytest.fixture(autouse=True)
def _behind_nginx(settings, clear_cache):
    settings.CLIENT_IP_HEADER = "X-Real-IP"


def from_visitor(address: str) -> dict:
    return {"REMOTE_ADDR": PROXY, "headers": {"X-Real-IP": address}}


def test_allauths_limit_keys_are_the_shops_client_ip():
    from allauth.account.adapter import get_adapter
    from allauth.core import ratelimit

    def request(address: str):
        return RequestFactory().post("/accounts/login/", **from_visitor(address))

    assert get_adapter().get_client_ip(request("203.0.113.7")) == client_ip(request("203.0.113.7"))
    for n in range(10):  # login_failed: 10 a minute per address
        assert ratelimit.consume(request("203.0.113.7"), action="login_failed", key=f"x{n}@example.com")
    assert not ratelimit.consume(request("203.0.113.7"), action="login_failed", key="y@example.com")
    # Same proxy, another visitor: a bucket of its own.
    assert ratelimit.consume(request("203.0.113.8"), action="login_failed", key="y@example.com")


def test_one_visitors_failed_logins_do_not_lock_out_the_next(client):
    make_customer("ann@example.com", "the right password 1")
    for n in range(11):
        client.post(
            "/accounts/login/",
            {"login": f"made-up-{n}@example.com", "password": "guess"},
            **from_visitor("203.0.113.66"),
        )
    locked = client.post(
        "/accounts/login/", {"login": "ann@example.com", "password": "x"}, **from_visitor("203.0.113.66")
    )
    assert TOO_MANY in locked.content.decode()
    signed_in = client.post(
        "/accounts/login/",
        {"login": "ann@example.com", "password": "the right password 1"},
        **from_visitor("198.51.100.5"),
    )
    assert signed_in.status_code == 302, signed_in.content.decode()[:500]
    assert client.session.get("_auth_user_id")


def test_a_password_reset_is_limited_per_account_over_hours(client):
    make_customer("ann@example.com")
    start = time.time()
    accepted = 0
    for n in range(8):  # every 2 minutes, each from a new address: past every per-minute limit
        with mock.patch("time.time", return_value=start + n * 120):
            response = client.post(
                "/accounts/password/reset/", {"email": "ann@example.com"}, **from_visitor(f"203.0.113.{n}")
            )
        accepted += response.status_code == 302
    assert accepted == 3
    assert len([m for m in mail.outbox if m.to == ["ann@example.com"]]) == 3
