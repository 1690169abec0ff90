"""Every admin page, as a signed-in staff member (two factors), with odd input: no server error.

Generated from the admin registry and the URL resolver, so a ModelAdmin or a custom admin page
added later is swept too: each pattern with odd ids (text, negative, past 64 bits, NUL), each
change list with odd values in every list filter, `__in` lookup, date drill-down, search, ordering
and page, and each admin action posted with odd selections. On PostgreSQL. Each request runs in a
savepoint that is rolled back, so every one sees the same shop (one order of each state) and a
failed query cannot poison the next.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import product
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.test import RequestFactory

from catalog.tests.factories import PackageFactory
from checkout.tests.helpers import paid_order
from giftcards import services as giftcards

from . import urlsweep
from .staff_world import build_shop, rolled_back

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("admin-sweep")]

# Patterns whose request would end the sweep itself.
SKIPPED = {"admin:logout"}
SIGN_IN = ("/accounts/", "/admin/login/")
# Query strings the custom pages read (the dashboard's range, the approve button's price, next).
PAGE_QUERY = ("start", "end", "price", "next", "q", "p", "e")


@dataclass(frozen=True)
class Req:
    method: str
    url: str
    fields: tuple[tuple[str, str | tuple[str, ...]], ...] = ()

    @classmethod
    def of(cls, method: str, url: str, data: dict | None = None) -> Req:
        return cls(method, url, tuple((data or {}).items()))

    @property
    def data(self) -> dict:
        return dict(self.fields)

    def __str__(self) -> str:
        return f"{self.method} {self.url} {self.data or ''}".strip()


def _page_requests(route: urlsweep.Route) -> Iterator[Req]:
    """The pattern filled with real values, then with each parameter odd in turn (the others real);
    a custom page also gets odd query strings."""
    values = urlsweep.admin_values(route)
    real = {name: options[0] for name, options in values.items()}
    fills = [real] + [{**real, name: odd} for name, options in values.items() for odd in options[1:]]
    custom = urlsweep.is_custom_admin_page(route)
    for fill in fills:
        url = urlsweep.fill_with(route, fill.__getitem__)
        yield Req("GET", url)
        # POST (an empty form) where a form is, but not to a real row's delete page: it would go.
        if (
            route.name.endswith(("_change", "_add"))
            or custom
            or (route.name.endswith("_delete") and fill is not real)
        ):
            yield Req("POST", url)
    if custom:  # every name a custom page reads at once, one odd value at a time
        url = urlsweep.fill_with(route, real.__getitem__)
        for value in urlsweep.ODD_VALUES:
            query = dict.fromkeys(PAGE_QUERY, value)
            yield Req.of("GET", url, query)
            if value in urlsweep.SHARP_VALUES:
                yield Req("POST", f"{url}?{urlencode(query)}")


def _changelist_requests(model_admin: admin.ModelAdmin, staff) -> Iterator[Req]:
    """Each parameter alone with each sharp value; every parameter at once with each other odd value;
    each action posted with odd selections (and across an odd filter)."""
    opts = model_admin.model._meta
    url = f"/admin/{opts.app_label}/{opts.model_name}/"
    params = urlsweep.changelist_params(model_admin, staff)
    for param, value in product(params, urlsweep.SHARP_VALUES):
        yield Req.of("GET", url, {param: value})
    for value in urlsweep.ODD_VALUES:
        yield Req.of("GET", url, dict.fromkeys(params, value))
    request = RequestFactory().get("/")
    request.user = staff
    for action in model_admin.get_actions(request):
        for odd in urlsweep.ODD_IDS:
            yield Req.of(
                "POST",
                url,
                {"action": action, "index": "0", ACTION_CHECKBOX_NAME: (odd.replace("%00", "\x00"),)},
            )
        yield Req.of("POST", f"{url}?pk__in=99999999999999999999", {"action": action, "select_across": "1"})


def admin_requests(staff) -> list[Req]:
    routes = [r for r in urlsweep.admin_routes() if r.name not in SKIPPED]
    requests = [req for route in routes for req in _page_requests(route)]
    for model_admin in admin.site._registry.values():
        requests.extend(_changelist_requests(model_admin, staff))
    return list(dict.fromkeys(requests))  # a value filled twice is asked once


def _problem(req: Req, response) -> str | None:
    if response.status_code >= 500:
        exc = getattr(response, "exc_info", None)
        return f"{response.status_code} {exc[1]!r:.200}" if exc else str(response.status_code)
    where = response.get("Location", "")
    # The sweep must stay signed in, or it tests the sign-in page (/admin/login/ always sends there).
    if where.startswith(SIGN_IN) and not req.url.startswith("/admin/login/"):
        return f"{response.status_code} to {where}"
    return None


def test_every_admin_page_answers_odd_input_without_a_server_error(staff_client, roamify, clear_cache):
    staff = get_user_model().objects.get(email="boss@example.com")
    build_shop(staff)
    staff_client.raise_request_exception = False
    requests = admin_requests(staff)
    send = {"GET": staff_client.get, "POST": staff_client.post}
    answers = ((req, rolled_back(lambda r=req: send[r.method](r.url, r.data))) for req in requests)
    failures = [f"{req}: {problem}" for req, response in answers if (problem := _problem(req, response))]
    swept = sorted({req.url.split("?")[0] for req in requests})
    assert not failures, (
        f"{len(failures)} of {len(requests)} admin requests failed:\n"
        + "\n".join(failures)
        + f"\n\nURLs swept ({len(swept)}, each with odd query strings or forms):\n"
        + "\n".join(swept)
    )
    # Every registered ModelAdmin and every custom admin page was swept.
    for model in admin.site._registry:
        assert f"/admin/{model._meta.app_label}/{model._meta.model_name}/" in swept, model
    assert len(swept) > 200


# --- What the sweep found, one by one --------------------------------------------------------------


@pytest.fixture
def order():
    return paid_order(PackageFactory(), email="find.me@example.com")


@pytest.mark.parametrize("odd", ["abc", "%00", "²", "-1", "99999999999999999999"])
def test_an_order_id_that_names_no_order_is_the_admins_doesnt_exist(staff_client, order, odd):
    """The order page read the id itself before Django checked it: "abc" was a 500."""
    for suffix in ("change/", "history/"):
        response = staff_client.get(f"/admin/checkout/order/{odd}/{suffix}")
        assert response.status_code == 302 and response["Location"] == "/admin/", suffix
    assert "doesn’t exist" in staff_client.get("/admin/").content.decode()


@pytest.mark.parametrize(
    "url, query",
    [
        ("/admin/checkout/order/", "id__in=99999999999999999999"),  # SQLite: OverflowError
        ("/admin/checkout/order/", "id__in=1,99999999999999999999"),
        ("/admin/checkout/order/", "pk=99999999999999999999"),
        ("/admin/checkout/order/", "paid_at__year=99999999999999999999"),  # the date drill-down
        ("/admin/checkout/order/", "status__exact=%00"),  # PostgreSQL: no NUL in text
        ("/admin/checkout/order/", "q=%00"),  # the search that opens a single order at once
        ("/admin/checkout/orderevent/", "order__id__exact=99999999999999999999"),
        ("/admin/checkout/orderevent/", "order__id__in=99999999999999999999"),
        ("/admin/giftcards/giftcard/", "created_at__gte=%1B"),
        ("/admin/checkout/order/export/orders/", "status__exact=%00"),  # the CSV export of that list
    ],
)
def test_list_filters_no_row_can_match_are_the_lists_own_error(staff_client, order, url, query):
    """Odd filters end in the change list's own "?e=1" answer, before any query, on every database."""
    response = staff_client.get(f"{url}?{query}")
    changelist = url.split("export/")[0]
    assert response.status_code == 302 and response["Location"] == f"{changelist}?e=1", response.content[:300]


def test_an_action_on_a_selection_that_is_no_id_changes_nothing(staff_client):
    card, _ = giftcards.issue(2500, actor="test")
    for odd in ("abc", "\x00", "99999999999999999999", "²"):
        data = {"action": "disable_cards", "index": "0", ACTION_CHECKBOX_NAME: [odd, str(card.pk)]}
        response = staff_client.post("/admin/giftcards/giftcard/", data, follow=True)
        assert response.status_code == 200 and "Those items are not in this list" in response.content.decode()
    card.refresh_from_db()
    assert card.enabled


def test_the_dashboard_range_is_within_the_calendar(staff_client):
    for start, end in (("9999-12-31", "9999-12-31"), ("0001-01-01", "0001-01-02")):
        response = staff_client.get("/admin/", {"start": start, "end": end})
        assert response.status_code == 200 and "Choose days from 1 January 2000" in response.content.decode()


def test_the_approve_button_with_a_price_that_is_no_number(staff_client):
    package = PackageFactory(proposed_retail_cents=999)
    response = staff_client.post(f"/admin/catalog/package/{package.pk}/approve-price/?price=²")
    assert response.status_code == 302
