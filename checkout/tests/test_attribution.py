"""Attribution on orders: the visit's source and campaign written on the order placed from the cart,
shown on the order page, filtered in the list, exported, and the dashboard's sales, margin and orders
by source and by campaign, by the books' rules, worked out by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.tests.factories import DestinationFactory, PackageFactory
from checkout import books, reports, services
from checkout.models import LineKind, Order, OrderLine, OrderStatus
from checkout.services.attribution import record_visit
from core.attribution import FIELDS, Visit
from core.tests.staff import sign_in_staff
from payments.models import Payment
from roamify import Money

NOW = timezone.make_aware(dt.datetime(2026, 11, 20, 15, 0))


def sale(days_ago: float, price: int, cost: int, *, refunded: int = 0, **attribution) -> Order:
    """A completed order paid `days_ago` before NOW: one delivered eSIM line, paid by card."""
    paid = NOW - dt.timedelta(days=days_ago)
    order = Order.objects.create(
        email="x@example.com",
        currency="USD",
        total_cents=price,
        status=OrderStatus.COMPLETED,
        paid_at=paid,
        completed_at=paid + dt.timedelta(seconds=30),
        **attribution,
    )
    OrderLine.objects.create(
        order=order,
        kind=LineKind.ESIM,
        package=PACKAGE[0],
        description="x",
        quantity=1,
        unit_price_cents=price,
        total_cents=price,
        wholesale_cents=cost,
        fulfilled_at=paid + dt.timedelta(seconds=20),
    )
    Payment.objects.create(
        order=order,
        provider="test-instant",
        status="captured",
        amount_cents=price,
        refunded_cents=refunded,
        currency="USD",
    )
    return order


PACKAGE: list = []


@pytest.fixture
def shop(db, postgres, clear_cache):
    PACKAGE[:] = [PackageFactory(destination=DestinationFactory(name="Japan"))]
    orders = {
        # today: 19.98 − 5.00 refunded (whenever) − 13.72 cost = 1.26
        "a": sale(0.1, 1998, 1372, refunded=500, utm_source="newsletter", utm_campaign="japan"),
        # 3 days ago: 14.99 − 10.00 = 4.99
        "b": sale(3, 1499, 1000, utm_source="newsletter", utm_campaign="summer", ref="ANNA7"),
        # 10 days ago, from a search: the referring site is the source; no campaign
        "c": sale(10, 499, 300, referrer="www.google.com", landing_path="/esim/japan/"),
        # today, direct: 9.99 − 6.86 = 3.13
        "d": sale(0.2, 999, 686),
        "old": sale(40, 5000, 1000, utm_source="newsletter", utm_campaign="japan"),  # too old
    }
    Order.objects.create(  # never paid: no sale
        email="u@example.com", currency="USD", total_cents=999, utm_source="newsletter", utm_campaign="japan"
    )
    return orders


def figures(channels: list[books.Channel]) -> dict[str, tuple[int, int, int]]:
    return {c.name: (c.orders, c.gross_sales_cents, c.margin_cents) for c in channels}


def test_sales_by_source_and_campaign_match_sums_by_hand(shop):
    ranges = reports.period_ranges(NOW)
    ranges["custom"] = reports.date_range(
        NOW.date() - dt.timedelta(days=45), NOW.date() - dt.timedelta(days=5)
    )
    with CaptureQueriesContext(connection) as queries:
        found = books.sales_by(["source", "campaign"], ranges)
    assert len(queries) == 1  # both breakdowns, four ranges: one query
    source, campaign = found["source"], found["campaign"]
    assert figures(source["today"]) == {"newsletter": (1, 1998, 126), "(direct)": (1, 999, 313)}
    assert figures(source["week"]) == {"newsletter": (2, 1998 + 1499, 126 + 499), "(direct)": (1, 999, 313)}
    assert figures(source["month"]) == {
        "newsletter": (2, 3497, 625),
        "(direct)": (1, 999, 313),
        "www.google.com": (1, 499, 199),
    }
    assert [c.name for c in source["month"]] == ["newsletter", "(direct)", "www.google.com"]  # best first
    assert figures(source["custom"]) == {"newsletter": (1, 5000, 4000), "www.google.com": (1, 499, 199)}
    assert figures(campaign["today"]) == {"japan": (1, 1998, 126), "(none)": (1, 999, 313)}
    assert figures(campaign["month"]) == {
        "japan": (1, 1998, 126),
        "summer": (1, 1499, 499),
        "(none)": (2, 999 + 499, 313 + 199),
    }
    (japan,) = [c for c in campaign["today"] if c.name == "japan"]
    assert (japan.refunds_cents, japan.net_revenue_cents, japan.cost_cents) == (500, 1498, 1372)
    assert japan.margin_percent == round(126 * 100 / 1498, 1)


def staff(client):
    user = get_user_model().objects.create_superuser("owner@example.com", "owner@example.com", "pw")
    return sign_in_staff(client, user)


def test_the_dashboard_shows_them_for_each_range(shop, client):
    staff(client)
    with (
        mock.patch("django.utils.timezone.now", return_value=NOW),
        mock.patch("core.roamify_client.RoamifyClient.balance", return_value=Money(100000, "USD")),
    ):
        html = client.get(reverse("admin:index")).content.decode()
    assert "Sales by source" in html and "Sales by campaign" in html
    assert 'data-figure="source:newsletter:week-sales">$34.97<' in html
    # 34.97 − 5.00 refunded = 29.97 net; − 23.72 cost = 6.25, 20.9 % of net
    assert 'data-figure="source:newsletter:week-margin">$6.25 <span class="quiet">(20.9%)' in html
    assert 'data-figure="source:newsletter:week-orders">2<' in html
    assert 'data-figure="source:www.google.com:month-sales">$4.99<' in html
    assert 'data-figure="campaign:japan:today-margin">$1.26 ' in html
    assert 'data-figure="campaign:(none):month-orders">2<' in html
    assert 'data-figure="source:(direct):today-sales">$9.99<' in html


def test_the_order_page_says_where_it_came_from_and_the_list_filters_by_it(shop, client):
    staff(client)
    page = client.get(reverse("admin:checkout_order_change", args=[shop["b"].pk])).content.decode()
    assert "Came from" in page and "Campaign (utm_campaign)" in page
    assert "<td>summer</td>" in page and "<td>ANNA7</td>" in page
    direct = client.get(reverse("admin:checkout_order_change", args=[shop["d"].pk])).content.decode()
    assert "Nothing known: a direct visit" in direct

    def listed(**query) -> set[str]:
        response = client.get(reverse("admin:checkout_order_changelist"), {"view": "all", **query})
        assert response.status_code == 200
        return {o.number for o in response.context["cl"].result_list}

    n = {k: o.number for k, o in shop.items()}
    assert listed(source="newsletter") >= {n["a"], n["b"], n["old"]} and n["d"] not in listed(
        source="newsletter"
    )
    assert listed(source="www.google.com") == {n["c"]}
    assert listed(source="-") == {n["d"]}
    assert listed(campaign="japan") >= {n["a"], n["old"]} and n["b"] not in listed(campaign="japan")
    assert listed(campaign="-") == {n["c"], n["d"]}
    filters = client.get(reverse("admin:checkout_order_changelist")).content.decode()
    assert "?source=newsletter" in filters and "?campaign=summer" in filters and "(direct)" in filters


def test_the_orders_csv_has_the_attribution_columns(shop, client):
    staff(client)
    Order.objects.filter(pk=shop["d"].pk).update(utm_campaign="=HYPERLINK(1)")
    response = client.get(reverse("admin:checkout_order_export", args=["orders"]) + "?view=all")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = {r["order"]: r for r in csv.DictReader(io.StringIO(body))}
    assert set(FIELDS) <= set(next(iter(rows.values())))
    b = rows[shop["b"].number]
    assert (b["utm_source"], b["utm_campaign"], b["ref"], b["referrer"]) == (
        "newsletter",
        "summer",
        "ANNA7",
        "",
    )
    assert rows[shop["c"].number]["landing_path"] == "/esim/japan/"
    assert rows[shop["d"].number]["utm_campaign"] == "'=HYPERLINK(1)"  # shown, never run, by a spreadsheet
    assert Decimal(b["margin"]) == Decimal("4.99")


def test_the_visit_is_written_once_and_a_direct_one_costs_nothing(shop):
    order = shop["d"]
    with CaptureQueriesContext(connection) as queries:
        record_visit(order, Visit())
    assert not queries
    record_visit(order, Visit(utm_source="newsletter", landing_path="/"))
    record_visit(order, Visit(utm_source="later", landing_path="/"))  # a second submit of the cart
    order.refresh_from_db()
    assert (order.utm_source, order.landing_path) == ("newsletter", "/")


# -- through the real views and the sandboxes ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_order_placed_after_a_campaign_landing_shows_under_it(
    postgres, clear_cache, stripe, roamify, client
):
    from checkout.tests.conftest import make_package

    package = make_package()
    landing = client.get("/?utm_source=newsletter&utm_campaign=japan", HTTP_REFERER="https://mail.example/")
    assert landing.status_code == 200 and "visit" in landing.cookies
    client.get(package.get_absolute_url(), HTTP_REFERER="http://testserver/")  # browsing changes nothing
    assert client.post("/cart/add/", {"package": package.package_id}).status_code == 302
    with mock.patch("checkout.services.payment.after_commit"):  # fulfilment is run below, here
        to_stripe = client.post("/checkout/", {"email": "traveller@example.com"})
        assert to_stripe.status_code == 302
        order = Order.objects.get()
        session_id = order.payments.get().external_reference
        assert stripe.control.pay(session_id)["outcome"] == "paid"
        back = client.get(f"{order.get_absolute_url()}?session_id={session_id}")  # Stripe sends them back
        assert back.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert {name: getattr(order, name) for name in FIELDS} == {
        **dict.fromkeys(FIELDS, ""),
        "utm_source": "newsletter",
        "utm_campaign": "japan",
        "referrer": "mail.example",
        "landing_path": "/",
    }
    services.fulfil_order(order.id)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    line = order.lines.get()
    price, cost = line.base_total_cents, line.wholesale_cents * line.quantity
    assert price == package.retail_cents and cost == package.wholesale_cents
    staff(client)
    with mock.patch("core.roamify_client.RoamifyClient.balance", return_value=Money(100000, "USD")):
        html = client.get(reverse("admin:index")).content.decode()
    sales = f"${price / 100:.2f}"
    margin = f"${(price - cost) / 100:.2f}"
    for key in ("today", "week", "month"):
        assert f'data-figure="source:newsletter:{key}-sales">{sales}<' in html
        assert f'data-figure="source:newsletter:{key}-orders">1<' in html
        assert f'data-figure="campaign:japan:{key}-margin">{margin} ' in html
