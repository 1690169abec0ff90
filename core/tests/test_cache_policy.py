"""Who may keep a response (core/middleware.py): nothing personal is ever public.

The catalog's public pages are tested in catalog/tests/test_http_cache.py; here, the
other side: carts, checkout, orders and accounts are no-store, anything that carries a
session, a flash message, a cookie or a CSRF token is private.
"""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.test import RequestFactory
from django.views.decorators.cache import never_cache

from accounts.tests.conftest import make_customer
from catalog.cache import local_pages
from catalog.tests.factories import DestinationFactory, PackageFactory
from checkout import cart, services
from core.middleware import CachePolicyMiddleware

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache(clear_cache):
    local_pages.clear()


@pytest.fixture
def pkg():
    japan = DestinationFactory(name="Japan", code="JP", slug="japan")
    return PackageFactory(destination=japan, package_id="esim-japan-7days-1gb-all")


def directives(response) -> set[str]:
    parts = response.get("Cache-Control", "").split(",")
    return {d.strip().split("=")[0].lower() for d in parts if d.strip()}


def assert_private(response) -> None:
    found = directives(response)
    assert "private" in found or "no-store" in found, response.get("Cache-Control")
    assert not found & {"public", "s-maxage", "stale-while-revalidate"}, response.get("Cache-Control")
    assert "X-Page-Cache" not in response


def assert_no_store(response) -> None:
    assert_private(response)
    assert "no-store" in directives(response), response.get("Cache-Control")


def test_cart_checkout_order_and_account_pages_are_never_stored(client, pkg):
    anonymous = [
        client.get("/cart/"),
        client.get("/checkout/"),
        client.get("/accounts/login/"),
        client.get("/gift-cards/balance/"),
    ]
    client.post("/cart/add/", {"package": pkg.package_id})
    order = services.place_order(cart.PricedCart([cart.CartLine(pkg, 1)], []), "traveller@example.com")
    with_cart = [
        client.get("/cart/"),
        client.get(order.access_url(), follow=True),
        client.get(f"/orders/{order.number}/status/?t={order.access_token}"),
    ]
    client.force_login(make_customer("alice@example.com"))
    signed_in = [
        client.get(url)
        for url in ("/account/", "/account/orders/", "/account/settings/", "/account/gift-cards/")
    ]
    for response in anonymous + with_cart + signed_in:
        assert response.status_code in (200, 302, 405), response.status_code
        assert_no_store(response)
    assert with_cart[1].status_code == 200  # the order page itself, not a redirect


def test_any_page_with_a_session_or_a_message_cookie_is_private(client, pkg):
    assert "public" in client.get("/esim/japan/")["Cache-Control"]  # cached for anonymous visitors
    for cookie in ("sessionid", "messages"):
        client.cookies[cookie] = "x"
        for url in ("/esim/japan/", "/", "/search/?q=japan", "/devices/?q=pixel", "/robots.txt"):
            assert_private(client.get(url))
        del client.cookies[cookie]


def test_a_signed_in_customer_with_a_cart_sees_their_own_header_and_nobody_else_does(client, pkg):
    from django.test import Client

    anonymous = Client()
    before = anonymous.get("/esim/japan/")  # the anonymous page is in the cache first
    assert "Sign in" in before.content.decode() and 'class="badge"' not in before.content.decode()

    client.force_login(make_customer("alice@example.com"))
    client.post("/cart/add/", {"package": pkg.package_id, "quantity": "2"})
    for _ in range(2):
        own = client.get("/esim/japan/")
        html = own.content.decode()
        assert own.status_code == 200 and "My account" in html and 'aria-label="2 items"' in html
        assert "Sign in" not in html
        assert_private(own)

    after = anonymous.get("/esim/japan/")  # and theirs never lands in it
    assert after["X-Page-Cache"] == "hit" and after.content == before.content
    fresh = Client().get("/esim/japan/", HTTP_ACCEPT_ENCODING="gzip")
    assert fresh["X-Page-Cache"] == "hit" and "public" in fresh["Cache-Control"]


def run(view, request=None) -> HttpResponse:
    return CachePolicyMiddleware(view)(request or RequestFactory().get("/somewhere/"))


def test_a_response_that_sets_a_cookie_is_never_public():
    def public_with_cookie(request):
        response = HttpResponse("x")
        response["Cache-Control"] = "public, max-age=60, s-maxage=600, stale-while-revalidate=30"
        response.set_cookie("sessionid", "abc")
        return response

    response = run(public_with_cookie)
    assert_private(response)
    assert directives(response) == {"private", "max-age"}


def test_a_response_that_holds_a_csrf_token_is_private():
    def form(request):
        return HttpResponse(f"<input value='{get_token(request)}'>")

    assert_private(run(form))
    assert directives(run(form)) == {"private", "no-cache"}


def test_anonymous_responses_without_cookies_are_left_as_the_view_made_them():
    assert "Cache-Control" not in run(lambda request: HttpResponse("x"))
    response = HttpResponse("x")
    response["Cache-Control"] = "public, max-age=60"
    assert run(lambda request: response)["Cache-Control"] == "public, max-age=60"


def test_it_composes_with_views_that_say_no_store_themselves():
    @never_cache
    def activation(request):
        return HttpResponse("LPA:1$...")

    request = RequestFactory().get("/orders/R-1/")
    request.COOKIES["sessionid"] = "x"
    response = run(activation, request)
    assert {"no-store", "no-cache", "must-revalidate", "private", "max-age"} == directives(response)


def test_a_views_own_no_store_is_left_as_it_is_but_never_public():
    def strict(request):
        response = HttpResponse("code")
        response["Cache-Control"] = "no-store"
        return response

    def confused(request):
        response = HttpResponse("code")
        response["Cache-Control"] = "public, s-maxage=60, no-store"
        return response

    assert run(strict, RequestFactory().get("/account/esims/1/"))["Cache-Control"] == "no-store"
    assert run(confused)["Cache-Control"] == "no-store"
