"""Cart and checkout pages: bad input gets a clear message and changes nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from catalog.tests.factories import PackageFactory
from checkout.models import Order, OrderStatus
from payments.providers.stripe_api import gateway

pytestmark = pytest.mark.django_db


@pytest.fixture
def pkg():
    return PackageFactory(retail_cents=999, wholesale_cents=500)


def cart_lines(client):
    return client.session.get("cart", {})


def test_add_change_remove(client, pkg):
    response = client.post("/cart/add/", {"package": pkg.package_id, "quantity": "2"}, follow=True)
    assert "Added" in response.content.decode()
    assert cart_lines(client) == {pkg.package_id: 2}
    cart = response.context["cart"]
    assert cart.total_cents == 1998 and cart.count == 2
    client.post("/cart/", {"package": pkg.package_id, "quantity": "3", "action": "update"})
    assert cart_lines(client) == {pkg.package_id: 3}
    client.post("/cart/", {"package": pkg.package_id, "action": "remove"})
    assert cart_lines(client) == {}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"package": "esim-nowhere-1days-1gb-all", "quantity": "1"}, "not available"),
        ({"package": "PKG", "quantity": "0"}, "between 1 and 10"),
        ({"package": "PKG", "quantity": "1000"}, "between 1 and 10"),
        ({"package": "PKG", "quantity": "-3"}, "between 1 and 10"),
        ({"package": "PKG", "quantity": "two"}, "between 1 and 10"),
        ({"package": "PKG", "quantity": "1e3"}, "between 1 and 10"),
    ],
)
def test_bad_cart_input_gets_a_message_and_changes_nothing(client, pkg, data, message):
    client.post("/cart/add/", {"package": pkg.package_id, "quantity": "1"})
    data = {k: (pkg.package_id if v == "PKG" else v) for k, v in data.items()}
    response = client.post("/cart/add/", data, follow=True)
    assert message in response.content.decode()
    assert cart_lines(client) == {pkg.package_id: 1}


def test_inactive_package_cannot_be_added_and_drops_out_of_the_cart(client, pkg):
    client.post("/cart/add/", {"package": pkg.package_id, "quantity": "1"})
    pkg.active = False
    pkg.save()
    response = client.get("/cart/")
    assert "no longer sold" in response.content.decode()
    assert cart_lines(client) == {}


def test_cross_site_add_to_cart_is_refused(client, pkg):
    response = client.post(
        "/cart/add/",
        {"package": pkg.package_id},
        HTTP_ORIGIN="https://evil.example",
        HTTP_SEC_FETCH_SITE="cross-site",
    )
    assert response.status_code == 403
    assert cart_lines(client) == {}
    ok = client.post(
        "/cart/add/",
        {"package": pkg.package_id},
        HTTP_ORIGIN="http://testserver",
        HTTP_SEC_FETCH_SITE="same-origin",
    )
    assert ok.status_code == 302


def test_checkout_ignores_a_tampered_price(client, pkg, stripe):
    client.post("/cart/add/", {"package": pkg.package_id, "quantity": "2"})
    response = client.post(
        "/checkout/", {"email": "a@example.com", "price": "1", "total_cents": "1", "unit_price_cents": "1"}
    )
    assert response.status_code == 302
    order = Order.objects.get()
    assert response["Location"] == order.payments.get().redirect_url  # to Stripe's page
    assert gateway().retrieve_session(order.payments.get().external_reference).amount_total == 1998
    assert order.total_cents == 1998
    assert order.lines.get().unit_price_cents == 999
    assert cart_lines(client) == {}


@pytest.mark.parametrize("email", ["", "not-an-email", "a@", "x" * 300 + "@example.com"])
def test_checkout_needs_a_valid_email(client, pkg, email):
    client.post("/cart/add/", {"package": pkg.package_id})
    response = client.post("/checkout/", {"email": email})
    assert response.status_code == 400
    assert b"email" in response.content.lower()
    assert not Order.objects.exists()
    assert cart_lines(client) == {pkg.package_id: 1}


def test_checkout_with_an_empty_cart(client):
    response = client.post("/checkout/", {"email": "a@example.com"}, follow=True)
    assert "Your cart is empty" in response.content.decode()
    assert not Order.objects.exists()


def test_payment_page_down_keeps_the_order_and_says_so(client, pkg, settings):
    from sandboxes._process import free_port

    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    client.post("/cart/add/", {"package": pkg.package_id})
    response = client.post("/checkout/", {"email": "a@example.com"}, follow=True)
    html = response.content.decode()
    assert "open the payment page just now" in html and "Traceback" not in html
    assert Order.objects.get().status == OrderStatus.PENDING_PAYMENT


def test_cart_survives_sign_in(client, pkg):
    user = get_user_model().objects.create_user("t@example.com", "t@example.com", "correct horse 9")
    client.post("/cart/add/", {"package": pkg.package_id, "quantity": "2"})
    client.force_login(user)
    assert cart_lines(client) == {pkg.package_id: 2}


def test_order_pages_are_private(client, pkg, stripe):
    client.post("/cart/add/", {"package": pkg.package_id})
    client.post("/checkout/", {"email": "a@example.com"})
    order = Order.objects.get()
    assert client.get(f"/orders/{order.number}/").status_code == 200  # same session
    stranger = type(client)()
    assert stranger.get(f"/orders/{order.number}/").status_code == 404
    assert stranger.get(f"/orders/{order.number}/?t=wrong").status_code == 404
    assert stranger.get(f"/orders/{order.number}/status/").status_code == 404
    assert stranger.get("/orders/RE-XXXX-XXXX/").status_code == 404
    emailed = stranger.get(order.access_url())  # the emailed link: its session may see the order now
    assert emailed.status_code == 302 and emailed["Location"] == f"/orders/{order.number}/"
    assert stranger.get(f"/orders/{order.number}/").status_code == 200
    other = get_user_model().objects.create_user("o@example.com", "o@example.com", "pw")
    other_customer = type(client)()
    other_customer.force_login(other)
    assert other_customer.get(f"/orders/{order.number}/").status_code == 404


def test_order_numbers_are_readable_and_not_sequential():
    from checkout.models import NUMBER_ALPHABET, new_order_number

    numbers = {new_order_number() for _ in range(2000)}
    assert len(numbers) == 2000
    for number in list(numbers)[:50]:
        assert number.startswith("RE-") and len(number) == 12
        assert set(number[3:].replace("-", "")) <= set(NUMBER_ALPHABET)
        assert not set(number) & set("01IOL")


def test_query_counts_of_cart_and_order_pages_do_not_grow(client, django_assert_num_queries, stripe):
    from esims.models import Esim

    packages = [PackageFactory(retail_cents=999) for _ in range(6)]
    client.post("/cart/add/", {"package": packages[0].package_id})

    def cart_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/cart/").status_code == 200
        return len(ctx)

    one = cart_queries()
    for pkg in packages[1:]:
        client.post("/cart/add/", {"package": pkg.package_id})
    assert cart_queries() == one == 2  # the session, the packages with their destinations

    client.post("/checkout/", {"email": "a@example.com"})
    order = Order.objects.get()
    order.status = OrderStatus.COMPLETED
    order.save()
    for i in range(3):
        order.lines.first().esims.add(
            Esim.objects.create(upstream_esim_id=f"e{i}", iccid=f"89{i}", lpa_code=f"LPA:1$s${i}")
        )
    client.get(order.get_absolute_url())
    with django_assert_num_queries(4):  # session, order, lines, eSIMs
        client.get(order.get_absolute_url())
