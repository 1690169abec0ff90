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


# What each page of the area answers, per method: the methods it takes, and what its owner's
# GET shows (pages without an id are the visitor's own: bob sees his, never alice's).
GET, POST = "GET", "POST"
PAGES: dict[str, dict] = {
    "esim_list": {"methods": {GET}, "own": "<h1>My eSIMs</h1>"},
    "esim_detail": {"methods": {GET}},
    "esim_usage": {"methods": {GET}},  # JSON for the page's script
    "esim_refresh": {"methods": {POST}},
    "esim_topup": {"methods": {POST}},
    "esim_share": {"methods": {POST}},
    "auto_topup_on": {"methods": {POST}},
    "auto_topup_off": {"methods": {POST}},
    "order_list": {"methods": {GET}, "own": "<h1>Orders</h1>"},
    "order_receipt": {"methods": {GET}},
    "order_open": {"methods": {GET}},
    "account_settings": {"methods": {GET}, "own": "<h1>Settings</h1>"},
    # The offers box posted empty: the visitor's own consent withdrawn, back to their settings.
    "account_offers": {"methods": {POST}, "posted_own": True},
    # Its POST without the password is refused with the form again (400), deleting nothing.
    "delete_account": {"methods": {GET, POST}, "own": "<h1>Delete your account</h1>"},
    "card_list": {"methods": {GET}, "own": "<h1>Saved cards</h1>"},
    "store_credit": {"methods": {GET}, "own": "<h1>Store credit</h1>"},
    # The card and the eSIM are named in the form's body: posted empty (or with alice's), 404.
    "card_remove": {"methods": {POST}, "posted_404": True},
    "one_tap_topup": {"methods": {POST}, "posted_404": True},
}
SHOP_404 = "We couldn't find that page"


def _call(client, method: str, url: str):
    return client.get(url) if method == GET else client.post(url)


def _not_allowed(response, pattern: URLPattern) -> None:
    """Django's 405 (an empty body by design) naming the methods the page does take."""
    assert response.status_code == 405, response.status_code
    allowed = {m.strip() for m in response["Allow"].split(",")}
    assert PAGES[pattern.name]["methods"] <= allowed, allowed


def test_every_account_url_is_covered():
    assert len(PATTERNS) >= 9
    assert all(p.name for p in PATTERNS)
    # A page added later must say here what it answers.
    assert {p.name for p in PATTERNS} == set(PAGES)
    # The signed-link pages are the only ones outside the area, on purpose.
    signed = {p.name for p in account_urls.signed_patterns}
    assert signed == {"signed_topups", "shared_install"}


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.name)
@pytest.mark.parametrize("method", [GET, POST])
def test_anonymous_visitor_is_sent_to_sign_in(client, alices, pattern, method):
    url = _url(pattern, *alices)
    response = _call(client, method, url)
    if method not in PAGES[pattern.name]["methods"]:
        _not_allowed(response, pattern)
        return
    assert response.status_code == 302, (method, url, response.status_code)
    assert response["Location"] == f"{reverse('account_login')}?next={url}"


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.name)
@pytest.mark.parametrize("method", [GET, POST])
def test_another_customer_gets_404_or_only_their_own(client, alices, bob, pattern, method):
    esim, order = alices
    client.force_login(bob)
    url = _url(pattern, esim, order)
    response = _call(client, method, url)
    body = response.content.decode()
    page = PAGES[pattern.name]
    if method not in page["methods"]:
        _not_allowed(response, pattern)
    elif pattern.pattern.converters:  # alice's eSIM or order: the shop's 404 page, as for no such id
        assert response.status_code == 404, (method, url, response.status_code)
        assert SHOP_404 in body
    elif method == GET:  # a page of bob's own
        assert response.status_code == 200, (method, url, response.status_code)
        assert page["own"] in body
    elif page.get("posted_404"):  # ids in the body: none of bob's, so the shop's 404
        assert response.status_code == 404, (method, url, response.status_code)
        assert SHOP_404 in body
    elif page.get("posted_own"):  # a choice of bob's own, then his settings page
        assert (response.status_code, response["Location"]) == (302, reverse("accounts:account_settings"))
    else:  # the delete form posted empty: refused, the form shown again, nothing deleted
        assert (response.status_code, pattern.name) == (400, "delete_account")
        assert page["own"] in body
    assert esim.iccid[-4:] not in body and order.number not in body and "alice" not in body
    assert Order.objects.filter(customer=esim.customer).count() == 1  # alice's data untouched
    assert type(bob).objects.filter(pk=bob.pk).exists()
