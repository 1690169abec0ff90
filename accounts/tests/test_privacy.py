"""Every page of the account area is its owner's: loops over the URL patterns, so a page added
later is covered too. Another customer gets 404; an anonymous visitor is sent to sign in."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, reverse

from accounts import urls as account_urls
from checkout.models import Order

from .conftest import fake_esim

pytestmark = pytest.mark.django_db

PATTERNS = [p for p in account_urls.account_patterns if isinstance(p, URLPattern)]


def _url(pattern: URLPattern, esim, order) -> str:
    kwargs = {}
    for name in pattern.pattern.converters:
        kwargs[name] = {"pk": esim.pk, "number": order.number}[name]
    return reverse(f"accounts:{pattern.name}", kwargs=kwargs)


@pytest.fixture
def alices(alice):
    esim = fake_esim(alice, iccid="8901999988887777666")
    order = Order.objects.create(
        email=alice.email, customer=alice, currency="USD", total_cents=1299, status="completed"
    )
    return esim, order


def test_every_account_url_is_covered():
    assert len(PATTERNS) >= 9
    assert all(p.name for p in PATTERNS)
    # The signed-link pages are the only ones outside the area, on purpose.
    signed = {p.name for p in account_urls.signed_patterns}
    assert signed == {"signed_topups", "shared_install"}


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.name)
def test_anonymous_visitor_is_sent_to_sign_in(client, alices, pattern):
    url = _url(pattern, *alices)
    for method in (client.get, client.post):
        response = method(url)
        if response.status_code == 405:
            continue
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(reverse("account_login") + "?next=")


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.name)
def test_another_customer_gets_404_or_only_their_own(client, alices, bob, pattern):
    esim, order = alices
    client.force_login(bob)
    url = _url(pattern, esim, order)
    for method in (client.get, client.post):
        response = method(url)
        if response.status_code == 405:
            continue
        if pattern.pattern.converters:
            assert response.status_code == 404, (method, url)
        else:  # a page of bob's own: nothing of alice's on it
            body = response.content.decode()
            assert response.status_code in (200, 302, 400), (method, url, response.status_code)
            assert esim.iccid[-4:] not in body and order.number not in body and "alice" not in body
    assert Order.objects.filter(customer=esim.customer).count() == 1  # alice's data untouched
