"""Fuzzed input at every form: unicode, NUL bytes, huge strings, negative and huge numbers,
missing fields. Each answers with a status a person can act on (never 500, no stack trace) and
changes nothing it should not. Fixed seed (derandomize) and a bounded number of examples, so
the run is the same every time and fast."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.conftest import bought_esim, make_customer
from checkout.models import Order
from checkout.tests.conftest import make_package
from giftcards import services as giftcards
from giftcards.ledger import ledger_sum
from giftcards.models import GiftCard

from . import urlsweep

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("fuzz-forms")]

EXAMPLES = 120
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                        HealthCheck.data_too_large])
ANSWERS = {200, 302, 400, 403, 404, 405, 429}

JUNK = st.one_of(
    st.text(max_size=30),
    st.text(max_size=10).map(lambda s: f"{s}\x00{s}"),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats().map(str),
    st.sampled_from(["", " ", "\x00", "-1", "0", "1", "1e309", "NaN", "-inf", "9" * 400, "x" * 100_000,
                     "🇯🇵\u202e\ufeff", "<script>alert(1)</script>", "' OR 1=1--", "../../etc/passwd",
                     "%00", "2026-02-30", "0000-00-00", "a@b", "\ud7ff\U0010ffff"]),
)


def fields(names: list[str], valid: dict[str, list[str]] | None = None) -> st.SearchStrategy[dict]:
    """Any subset of `names` (missing fields too), each junk or, now and then, a valid value."""
    valid = valid or {}
    return st.fixed_dictionaries({}, optional={
        name: st.one_of(JUNK, st.sampled_from(valid[name])) if name in valid else JUNK for name in names
    })


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
    return {"package": package, "user": user, "esim": esim, "card": card, "code": code,
            "orders": Order.objects.count()}


def _unchanged(shop) -> None:
    assert Order.objects.count() == shop["orders"]
    card = GiftCard.objects.get(pk=shop["card"].pk)
    assert card.balance_cents == 5000 == ledger_sum(card) and card.revoked_at is None


def test_cart_add_update_remove(shop):
    client = Client()
    pid = shop["package"].package_id

    @FUZZ
    @given(st.sampled_from(["/cart/add/", "/cart/"]),
           fields(["package", "quantity", "action"], {"package": [pid], "quantity": ["1", "2"],
                                                      "action": ["remove", "update"]}))
    def run(url, data):
        answered(client.post(url, data))
        _unchanged(shop)

    run()


def test_checkout(shop):
    client = Client()
    client.post("/cart/add/", {"package": shop["package"].package_id, "quantity": "1"})

    @FUZZ
    @given(fields(["email", "travel_date", "code"]))
    def run(data):
        answered(client.post("/checkout/", data))
        _unchanged(shop)

    run()


def test_sign_up():
    users = get_user_model().objects.count()

    @FUZZ
    @given(fields(["email", "password1", "password2", "remember"]))
    def run(data):
        answered(Client().post("/accounts/signup/", data))
        assert get_user_model().objects.count() == users

    run()


def test_gift_card_purchase(shop):
    client = Client()

    @FUZZ
    @given(fields(["amount", "custom_amount", "recipient_name", "recipient_email", "message", "send_on",
                   "template_suffix"],
                  {"amount": ["2500", "custom"], "recipient_email": ["friend@example.com"],
                   "recipient_name": ["Kim"], "template_suffix": ["globe"]}))
    def run(data):
        answered(client.post("/cart/gift-card/", data))
        answered(client.post("/cart/gift-card/remove/", {"line": data.get("message", "")}))
        assert GiftCard.objects.count() == 1
        _unchanged(shop)

    run()


def test_gift_code_apply_and_balance_check(shop):
    client = Client()
    client.post("/cart/add/", {"package": shop["package"].package_id, "quantity": "1"})

    @FUZZ
    @given(st.sampled_from(["/cart/gift-code/", "/gift-cards/balance/"]),
           fields(["code", "action", "card"], {"action": ["remove", "apply"]}))
    def run(url, data):
        answered(client.post(url, data))
        _unchanged(shop)

    run()


def test_revoke_code(shop):
    client = Client()
    client.force_login(shop["user"])
    url = f"/account/gift-cards/{shop['card'].pk}/revoke/"

    @FUZZ
    @given(fields(["action", "otp"], {"action": ["send", "confirm"], "otp": ["123456", "000000"]}))
    def run(data):
        answered(client.post(url, data))
        _unchanged(shop)

    run()


def test_top_up_add(shop):
    client = Client()
    client.force_login(shop["user"])
    url = f"/account/esims/{shop['esim'].pk}/top-up/"

    @FUZZ
    @given(fields(["package"]))
    def run(data):
        answered(client.post(url, data))
        _unchanged(shop)

    run()


def test_query_strings_on_every_page(shop):
    """Every customer page without parameters, GET with junk in the query string (search, next, page...)."""
    client = Client()
    client.force_login(shop["user"])
    paths = ["/" + r.route for r in urlsweep.customer_routes() if not r.params]

    @FUZZ
    @given(st.sampled_from(paths), fields(["q", "next", "page", "t", "session_id", "cancelled", "code"]))
    def run(path, query):
        answered(client.get(path, query))

    run()
