"""Admin lists at a desk (Chromium, 1280x800): the order list and the audit log show every column,
none cut off under the filter sidebar. The last column's right edge is inside the window, or
inside the list's own scroll box (which scrolls sideways and stays clear of the sidebar); the page
itself never scrolls sideways. Checked on the columns there are, not a fixed set, so a column added
later is held to it too.

Against the live shop, a real Celery worker, the Roamify sandbox upstream and PostgreSQL.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from checkout import cart, services
from checkout.models import Order
from checkout.tests.conftest import make_package
from checkout.tests.helpers import paid_order
from conftest import screenshot, wait_until
from core import audit
from core.tests.staff import sign_in_staff

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("worker")]

WIDTH, HEIGHT = 1280, 800

# Where the last column's header cell is, as the page opens (no sideways scrolling), what covers
# its middle, and where the list's box and the filters are.
MEASURE = """() => {
  const table = document.querySelector('#result_list');
  const cells = table.querySelectorAll('thead th');
  const last = cells[cells.length - 1];
  const box = table.closest('.results');
  const filter = document.querySelector('#changelist-filter');
  const rect = el => el ? el.getBoundingClientRect().toJSON() : null;
  window.scrollTo(0, last.getBoundingClientRect().top + scrollY - 100);
  const r = last.getBoundingClientRect();
  const hit = document.elementFromPoint(Math.min(r.right - 4, innerWidth - 1), r.top + r.height / 2);
  return {
    columns: cells.length,
    last: rect(last),
    lastText: last.innerText.trim(),
    box: rect(box),
    boxScrollLeft: box.scrollLeft,
    filter: rect(filter),
    lastVisible: !!hit && last.contains(hit),
    pageWidth: document.documentElement.scrollWidth,
    rows: table.querySelectorAll('tbody tr').length,
  };
}"""


def overlap(a: dict, b: dict | None) -> bool:
    if b is None:
        return False
    return (
        a["left"] < b["right"] - 1
        and b["left"] < a["right"] - 1
        and a["top"] < b["bottom"] - 1
        and b["top"] < a["bottom"] - 1
    )


def signed_in_at_a_desk(browser, base: str):
    user = get_user_model().objects.create_superuser("owner@example.com", "owner@example.com", "pw")
    client = Client()
    sign_in_staff(client, user)
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def assert_every_column_shows(page, url: str, name: str) -> dict:
    page.goto(url)
    page.wait_for_selector("#result_list tbody tr")
    seen = page.evaluate(MEASURE)
    screenshot(page, name)
    assert seen["rows"] >= 3, seen
    assert seen["pageWidth"] <= WIDTH, f"{url}: the page is {seen['pageWidth']}px wide at {WIDTH}px"
    last, box = seen["last"], seen["box"]
    # The list's box is inside the window and clear of the filters.
    assert box["left"] >= 0 and box["right"] <= WIDTH, seen
    assert not overlap(box, seen["filter"]), f"{url}: the list runs under the filters: {seen}"
    # Every column shows as the page opens: the last one ends inside the window and inside the
    # list's box (not in its hidden overflow), and nothing covers it.
    assert seen["boxScrollLeft"] == 0, seen
    assert last["right"] <= WIDTH and last["right"] <= box["right"] + 1, (
        f"{url}: {seen['lastText']!r} is cut off: {seen}"
    )
    assert seen["lastVisible"], f"{url}: {seen['lastText']!r} is covered: {seen}"
    return seen


def test_order_list_and_audit_log_fit_1280px(celery_worker, live_server, roamify, chromium_browser, settings):
    settings.SITE_URL = live_server.url
    package = make_package()
    paid = [
        paid_order(package, quantity=2, email=f"a-rather-long-address-{i}@traveller-example.com")
        for i in (1, 2)
    ]
    wait_until(
        lambda: (
            Order.objects.filter(pk__in=[o.pk for o in paid], esim_email_sent_at__isnull=False).count() == 2
        ),
        90,
        what="both orders fulfilled and emailed",
    )
    for i in range(3):  # unpaid orders too: the list shows every status
        priced = cart.PricedCart([cart.CartLine(package, 1)], [])
        services.place_order(priced, f"someone-still-deciding-{i}@example-with-a-long-domain.com")
    for i in range(4):  # entries with long values in "Before → after", the widest column
        audit.record(
            "owner@example.com",
            "package.price_override",
            package,
            {"retail_cents": 699, "price_override_cents": None, "note": "x" * 80},
            {
                "retail_cents": 1099,
                "price_override_cents": 1099,
                "note": f"raised after a cost rise {i} " * 4,
            },
            note="A rather long note about why the price moved, written by the owner in a hurry",
        )

    context, page = signed_in_at_a_desk(chromium_browser, live_server.url)
    try:
        orders = assert_every_column_shows(
            page, f"{live_server.url}/admin/checkout/order/", "admin-orders-1280"
        )
        assert orders["columns"] >= 7
        audit_log = assert_every_column_shows(
            page, f"{live_server.url}/admin/core/auditentry/", "admin-audit-log-1280"
        )
        assert audit_log["lastText"].lower().startswith("before")
    finally:
        context.close()
