"""Fuzzed input at every form: unicode, NUL bytes, huge strings, negative and huge numbers,
missing fields. Each answers with a status a person can act on (never 500, no stack trace) and
changes nothing it should not. Fixed seed (derandomize) and a bounded number of examples, so
the run is the same every time and fast."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.conftest import bought_esim, make_customer
from checkout.models import Order
from checkout.tests.conftest import make_package
from giftcards import services as giftcards
from giftcards.ledger import ledger_sum
from giftcards.models import GiftCard

from . import urlsweep
from .staff_world import build_shop, rolled_back

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("fuzz-forms")]

EXAMPLES = 120
ADMIN_EXAMPLES = 150
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
ADMIN_FUZZ = settings(FUZZ, max_examples=ADMIN_EXAMPLES)
ANSWERS = {200, 302, 400, 403, 404, 405, 429}

JUNK = st.one_of(
    st.text(max_size=30),
    st.text(max_size=10).map(lambda s: f"{s}\x00{s}"),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats().map(str),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "-1",
            "0",
            "1",
            "1e309",
            "NaN",
            "-inf",
            "9" * 400,
            "x" * 100_000,
            "🇯🇵\u202e\ufeff",
            "<script>alert(1)</script>",
            "' OR 1=1--",
            "../../etc/passwd",
            "%00",
            "2026-02-30",
            "0000-00-00",
            "a@b",
            "\ud7ff\U0010ffff",
        ]
    ),
)


def fields(names: list[str], valid: dict[str, list[str]] | None = None) -> st.SearchStrategy[dict]:
    """Any subset of `names` (missing fields too), each junk or, now and then, a valid value."""
    valid = valid or {}
    return st.fixed_dictionaries(
        {},
        optional={
            name: st.one_of(JUNK, st.sampled_from(valid[name])) if name in valid else JUNK for name in names
        },
    )


def answered(response) -> None:
    assert response.status_code in ANSWERS, response.status_code
    if response.status_code == 200 or response.status_code == 400:
        body = response.content.decode(errors="replace")
        assert "Traceback" not in body and 'File "' not in body


@pytest.fixture
def shop(roamify, clear_cache):
    package = make_package()
    user = make_customer("fuzz@example.com")
    _order, esim = bought_esim(package, customer=user)
    card, code = giftcards.issue(5000, actor="test", customer=user)
    return {
        "package": package,
        "user": user,
        "esim": esim,
        "card": card,
        "code": code,
        "orders": Order.objects.count(),
    }


def _unchanged(shop) -> None:
    assert Order.objects.count() == shop["orders"]
    card = GiftCard.objects.get(pk=shop["card"].pk)
    assert card.balance_cents == 5000 == ledger_sum(card) and card.revoked_at is None


def fuzz(client: Client, urls: list[str], data: st.SearchStrategy[dict], unchanged) -> None:
    """POST each example to one of `urls`; every answer must be one a person can act on, and
    unchanged() must hold after each."""

    @FUZZ
    @given(st.sampled_from(urls), data)
    def run(url, form):
        answered(client.post(url, form))
        unchanged()

    run()


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _with_a_plan(shop) -> Client:
    client = Client()
    client.post("/cart/add/", {"package": shop["package"].package_id, "quantity": "1"})
    return client


def test_cart_add_update_remove(shop):
    fuzz(
        Client(),
        ["/cart/add/", "/cart/"],
        fields(
            ["package", "quantity", "action"],
            {"package": [shop["package"].package_id], "quantity": ["1", "2"], "action": ["remove", "update"]},
        ),
        lambda: _unchanged(shop),
    )


def test_checkout(shop):
    fuzz(
        _with_a_plan(shop), ["/checkout/"], fields(["email", "travel_date", "code"]), lambda: _unchanged(shop)
    )


def test_sign_up():
    users = get_user_model().objects.count()

    def unchanged():
        assert get_user_model().objects.count() == users

    fuzz(Client(), ["/accounts/signup/"], fields(["email", "password1", "password2", "remember"]), unchanged)


def test_gift_card_purchase(shop):
    def unchanged():
        assert GiftCard.objects.count() == 1
        _unchanged(shop)

    fuzz(
        Client(),
        ["/cart/gift-card/", "/cart/gift-card/remove/"],
        fields(
            [
                "amount",
                "custom_amount",
                "recipient_name",
                "recipient_email",
                "message",
                "send_on",
                "template_suffix",
                "line",
            ],
            {
                "amount": ["2500", "custom"],
                "recipient_email": ["friend@example.com"],
                "recipient_name": ["Kim"],
                "template_suffix": ["globe"],
            },
        ),
        unchanged,
    )


def test_gift_code_apply_and_balance_check(shop):
    fuzz(
        _with_a_plan(shop),
        ["/cart/gift-code/", "/gift-cards/balance/"],
        fields(["code", "action", "card"], {"action": ["remove", "apply"]}),
        lambda: _unchanged(shop),
    )


def test_revoke_code(shop):
    fuzz(
        _signed_in(shop["user"]),
        [f"/account/gift-cards/{shop['card'].pk}/revoke/"],
        fields(["action", "otp"], {"action": ["send", "confirm"], "otp": ["123456", "000000"]}),
        lambda: _unchanged(shop),
    )


def test_top_up_add(shop):
    fuzz(
        _signed_in(shop["user"]),
        [f"/account/esims/{shop['esim'].pk}/top-up/"],
        fields(["package"]),
        lambda: _unchanged(shop),
    )


def test_query_strings_on_every_page(shop):
    """Every customer page without parameters, GET with junk in the query string (search, next, page...)."""
    client = _signed_in(shop["user"])
    paths = ["/" + r.route for r in urlsweep.customer_routes() if not r.params]

    @FUZZ
    @given(st.sampled_from(paths), fields(["q", "next", "page", "t", "session_id", "cancelled", "code"]))
    def run(path, query):
        answered(client.get(path, query))

    run()


# --- The staff side: every admin form and change list, signed in with two factors ------------------

FORM_NAME = re.compile(r'<(?:input|select|textarea)\b[^>]*?\bname="([^"]+)"')


def _admin_form_pages(staff) -> list[str]:
    """Every admin page with a form to post: each ModelAdmin's add page and the change page of a row
    of its model, and each custom page (from the URL resolver) filled with real ids."""
    request = RequestFactory().get("/")
    request.user = staff
    pages = ["/admin/password_change/"]
    for model, model_admin in admin.site._registry.items():
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        if model_admin.has_add_permission(request):
            pages.append(f"{url}add/")
        row = model._default_manager.order_by("pk").first()
        if row is not None and model_admin.has_change_permission(request, row):
            pages.append(f"{url}{row.pk}/change/")
    for route in urlsweep.admin_routes():
        if route.params and urlsweep.is_custom_admin_page(route) and urlsweep.model_admin_of(route):
            real = {name: options[0] for name, options in urlsweep.admin_values(route).items()}
            pages.append(urlsweep.fill_with(route, real.__getitem__))
    return pages


def _form_fields(client: Client, page: str) -> list[str] | None:
    """The names of the page's form fields; None when the page is no page (a CSV export)."""
    response = client.get(page)
    if response.streaming:
        return None
    return sorted(set(FORM_NAME.findall(response.content.decode())) - {"csrfmiddlewaretoken"})


@pytest.fixture
def staff_shop(staff_client, roamify, clear_cache):
    staff = get_user_model().objects.get(email="boss@example.com")
    build_shop(staff)
    return staff_client, staff


def test_admin_forms(staff_shop):
    """Junk posted to every admin form (its fields read from the page itself): an answer a person can
    act on, never a server error."""
    client, staff = staff_shop
    found = [(page, _form_fields(client, page)) for page in _admin_form_pages(staff)]
    pages = [(page, names) for page, names in found if names is not None]
    assert len(pages) > 25 and all(names for page, names in pages if "/add/" in page or "/change/" in page)

    @ADMIN_FUZZ
    @given(st.sampled_from(pages).flatmap(lambda p: st.tuples(st.just(p[0]), fields(p[1]))))
    def run(example):
        page, form = example
        answered(rolled_back(lambda: client.post(page, form)))

    run()


def test_admin_change_lists_and_dashboard(staff_shop):
    """Junk in every list filter, search, ordering and page of every change list, and in the
    dashboard's range (GET)."""
    client, staff = staff_shop
    lists = [
        (f"/admin/{m._meta.app_label}/{m._meta.model_name}/", urlsweep.changelist_params(a, staff))
        for m, a in admin.site._registry.items()
    ] + [("/admin/", ["start", "end"])]

    @ADMIN_FUZZ
    @given(st.sampled_from(lists).flatmap(lambda p: st.tuples(st.just(p[0]), fields(p[1]))))
    def run(example):
        page, query = example
        response = client.get(page, query)
        answered(response)
        assert not response.get("Location", "").startswith("/accounts/")  # still signed in

    run()
