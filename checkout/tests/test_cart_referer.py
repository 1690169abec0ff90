"""A cart error sends the visitor back only to a page of the shop, never where Referer says."""

from __future__ import annotations

import pytest

from catalog.tests.factories import PackageFactory

pytestmark = pytest.mark.django_db


def add_with_an_error(client, referer: str):
    # Quantity 0 is refused: the view redirects "back" with the message.
    package = PackageFactory()
    return client.post("/cart/add/", {"package": package.package_id, "quantity": "0"}, HTTP_REFERER=referer)


@pytest.mark.parametrize(
    "referer",
    [
        "https://evil.example/phish",
        "javascript:alert(1)",
        "//evil.example/",
        "http://testserver.evil.example/",
        "https:///evil.example/",
        "ftp://testserver/x",
    ],
)
def test_a_foreign_or_unsafe_referer_falls_back_to_the_cart(client, referer):
    response = add_with_an_error(client, referer)
    assert response.status_code == 302
    assert response["Location"] == "/cart/"
    assert "between 1 and 10" in client.get("/cart/").content.decode()


@pytest.mark.parametrize("referer", ["/destinations/japan/", "http://testserver/destinations/japan/"])
def test_a_page_of_the_shop_is_still_where_the_visitor_goes_back_to(client, referer):
    response = add_with_an_error(client, referer)
    assert response.status_code == 302
    assert response["Location"] == referer


def test_no_referer_goes_to_the_cart(client):
    package = PackageFactory()
    response = client.post("/cart/add/", {"package": package.package_id, "quantity": "0"})
    assert response["Location"] == "/cart/"
