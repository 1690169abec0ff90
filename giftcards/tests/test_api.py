"""The JSON API: tokens and scopes, every error shape and status, and every answer checked
against the published OpenAPI document."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.utils import timezone
from jsonschema import Draft202012Validator

from giftcards import codes, services
from giftcards.models import ApiToken, GiftCard, Status

from .conftest import balanced, new_card

pytestmark = pytest.mark.django_db

BASE = "/api/v1/gift-cards/"


def make_token(*scopes: str, name: str = "back office") -> str:
    prefix, token = codes.new_api_token()
    ApiToken.objects.create(name=name, prefix=prefix, token_hash=codes.token_hash(token), scopes=list(scopes))
    return token


@pytest.fixture(scope="module")
def openapi(django_db_blocker) -> dict:
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


class Api:
    """A client that checks every answer against the OpenAPI document."""

    def __init__(self, client, openapi: dict, token: str | None) -> None:
        self.client, self.doc, self.token = client, openapi, token
        self.seen: set[tuple[str, str, int]] = set()

    def call(self, method: str, path: str, body=None, *, raw: str | None = None, **query):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")  # "": no body
        kwargs = {"data": data, "content_type": "application/json"} if method != "get" else {}
        if query:
            path = f"{path}?" + "&".join(f"{k}={v}" for k, v in query.items())
        response = getattr(self.client, method)(path, **kwargs, **headers)
        self.check(method, path.split("?")[0], response)
        return response

    def check(self, method: str, path: str, response) -> None:
        template = next(t for t in self.doc["paths"] if re.fullmatch(re.sub(r"\{[^}]+\}", r"[^/]+", t), path))
        operation = self.doc["paths"][template][method]
        status = str(response.status_code)
        assert status in operation["responses"], f"{method} {path}: {status} is not documented"
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        assert response["Content-Type"].startswith("application/json")
        Draft202012Validator({**schema, "components": self.doc["components"]}).validate(response.json())
        self.seen.add((method, template, response.status_code))


@pytest.fixture
def reader(client, openapi) -> Api:
    return Api(client, openapi, make_token(ApiToken.READ))


@pytest.fixture
def writer(client, openapi) -> Api:
    return Api(client, openapi, make_token(ApiToken.READ, ApiToken.WRITE))


def test_the_document_is_openapi_3_and_describes_the_errors(openapi):
    assert openapi["openapi"].startswith("3.")
    assert openapi["components"]["securitySchemes"]["TokenAuth"] == {"type": "http", "scheme": "bearer"}
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            assert {"401", "403", "404", "422", "400"} <= set(operation["responses"]), (method, path)


def test_tokens_are_stored_hashed_and_checked(client, openapi):
    token = make_token(ApiToken.READ)
    row = ApiToken.objects.get()
    assert token not in json.dumps(list(ApiToken.objects.values()), default=str)
    assert row.token_hash == codes.token_hash(token)
    for bad in (None, "nope", token + "x", token.replace("gct_", "xyz_"), f"gct_{row.prefix}_wrong"):
        response = Api(client, openapi, bad).call("get", BASE)
        assert response.status_code == 401
        assert response.json() == {"error": "Missing or invalid API token"}
        assert response["WWW-Authenticate"] == "Bearer"
    row.revoked_at = timezone.now()
    row.save()
    assert Api(client, openapi, token).call("get", BASE).status_code == 401


def test_list_filter_and_pages(reader):
    cards = [new_card(1000 + i)[0] for i in range(5)]
    services.disable(cards[0].pk, actor="t")
    services.revoke(cards[1].pk, actor="t")  # revoked: listed only when asked for
    response = reader.call("get", BASE, per_page=2)
    assert response.status_code == 200
    body = response.json()
    assert [c["id"] for c in body["gift_cards"]] == [cards[4].pk, cards[3].pk] and body["next_page"] == 2
    last = reader.call("get", BASE, per_page=2, page=2).json()
    assert [c["id"] for c in last["gift_cards"]] == [cards[2].pk, cards[0].pk] and last["next_page"] is None
    disabled = reader.call("get", BASE, status="disabled").json()["gift_cards"]
    assert [c["id"] for c in disabled] == [cards[0].pk] and disabled[0]["status"] == "disabled"
    active = reader.call("get", BASE, status="active").json()["gift_cards"]
    assert {c["id"] for c in active} == {cards[2].pk, cards[3].pk, cards[4].pk}
    revoked = reader.call("get", BASE, status="revoked")
    assert revoked.status_code == 200
    body = revoked.json()
    assert [c["id"] for c in body["gift_cards"]] == [cards[1].pk] and body["next_page"] is None
    assert body["gift_cards"][0]["status"] == "revoked" and body["gift_cards"][0]["revoked_at"]
    for query, field in (
        ({"status": "weird"}, "status"),
        ({"page": 0}, "page"),
        ({"per_page": 1000}, "per_page"),
        ({"page": "x"}, "page"),
        ({"status": "REVOKED"}, "status"),
    ):
        response = reader.call("get", BASE, **query)
        assert response.status_code == 400
        assert [e["field"] for e in response.json()["errors"]] == [field]


def test_page_numbers_past_the_last_possible_page_are_400(reader):
    """A page number no list could reach (it made the database's OFFSET overflow: a 500) is a field
    problem, as the document says (`maximum`)."""
    for query, field in (
        ({"page": "99999999999999999999"}, "page"),
        ({"page": 10**6 + 1}, "page"),
        ({"per_page": "99999999999999999999"}, "per_page"),
        ({"page": "-99999999999999999999"}, "page"),
    ):
        response = reader.call("get", BASE, **query)
        assert response.status_code == 400, (query, response.content)
        assert [e["field"] for e in response.json()["errors"]] == [field]
    assert reader.call("get", BASE, page=10**6).json()["gift_cards"] == []
    # An id past 64 bits finds no card (the same answer as any unknown id).
    response = reader.call("get", f"{BASE}99999999999999999999/")
    assert response.status_code == 404 and response.json() == {"error": "Gift card not found"}


def test_the_document_lists_every_status_the_list_accepts(openapi):
    """?status=revoked is accepted (it used to be a 400) and the document says so."""
    parameters = openapi["paths"][BASE]["get"]["parameters"]
    status = next(p for p in parameters if p["name"] == "status")
    schema = status["schema"]
    allowed = next((s["enum"] for s in schema.get("anyOf", [schema]) if "enum" in s), None)
    assert allowed == [s.value for s in Status] == ["active", "disabled", "expired", "revoked"]
    assert "revoked" in status.get("description", "") + schema.get("description", "")


def test_get_one_and_not_found(reader):
    card, _ = new_card(1234)
    body = reader.call("get", f"{BASE}{card.pk}/").json()["gift_card"]
    assert body["id"] == card.pk and body["balance_cents"] == 1234 and body["currency"] == "USD"
    assert body["last_characters"] == card.last_characters and body["status"] == "active"
    assert "code" not in body and "code_hash" not in body
    response = reader.call("get", f"{BASE}999999/")
    assert response.status_code == 404 and response.json() == {"error": "Gift card not found"}


def test_a_read_only_token_changes_nothing(reader):
    card, _ = new_card(1000)
    before = GiftCard.objects.values().get(pk=card.pk)
    for method, path, body in (
        ("post", BASE, {"initial_value_cents": 500}),
        ("patch", f"{BASE}{card.pk}/", {"note": "x"}),
        ("post", f"{BASE}{card.pk}/disable/", None),
        ("post", f"{BASE}{card.pk}/enable/", None),
        ("post", f"{BASE}{card.pk}/revoke/", None),
    ):
        response = reader.call(method, path, body)
        assert response.status_code == 403, (method, path)
        assert response.json() == {"error": "This token lacks the gift_cards:write scope"}
    assert GiftCard.objects.count() == 1 and GiftCard.objects.values().get(pk=card.pk) == before
    assert balanced(card) == 1000


def test_a_write_only_token_cannot_read(client, openapi):
    api = Api(client, openapi, make_token(ApiToken.WRITE))
    assert api.call("get", BASE).status_code == 403


def test_create_shows_the_code_once(writer):
    response = writer.call(
        "post", BASE, {"initial_value_cents": 2500, "note": "Apology", "template_suffix": "city"}
    )
    assert response.status_code == 201
    body = response.json()["gift_card"]
    card = GiftCard.objects.get(pk=body["id"])
    assert codes.code_hash(codes.normalize(body["code"])) == card.code_hash
    assert card.issued_by is None and card.note == "Apology" and balanced(card) == 2500
    again = writer.call("get", f"{BASE}{card.pk}/").json()["gift_card"]
    assert "code" not in again
    emailed = writer.call(
        "post",
        BASE,
        {"initial_value_cents": 1000, "recipient_email": "ann@example.com", "recipient_name": "Ann"},
    ).json()["gift_card"]
    assert emailed["code"] is None and emailed["last_characters"] is None


@pytest.mark.parametrize(
    "body, fields",
    [
        ({}, ["initial_value_cents"]),
        ({"initial_value_cents": "100"}, ["initial_value_cents"]),
        ({"initial_value_cents": 0}, ["initial_value_cents"]),
        ({"initial_value_cents": 10**9}, ["initial_value_cents"]),
        ({"initial_value_cents": 100, "template_suffix": "neon"}, ["template_suffix"]),
        ({"initial_value_cents": 100, "expires_on": "tomorrow"}, ["expires_on"]),
        ({"initial_value_cents": 100, "expires_on": "2001-01-01"}, ["expires_on"]),
        ({"initial_value_cents": 100, "currency": "EUR"}, ["currency"]),
        ({"initial_value_cents": 100, "recipient_email": "nope"}, ["recipient_email"]),
        ({"initial_value_cents": 100, "balance_cents": 5}, ["balance_cents"]),
        ([1, 2], ["body"]),
    ],
)
def test_field_problems_are_400_with_errors(writer, body, fields):
    response = writer.call("post", BASE, body)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == fields
    assert all(e["message"] for e in response.json()["errors"])
    assert not GiftCard.objects.exists()


def test_malformed_json_is_400_with_an_error(writer):
    for raw in ("{", "not json", '{"initial_value_cents": 1,}'):
        response = writer.call("post", BASE, raw=raw)
        assert response.status_code == 400 and response.json() == {"error": "Malformed JSON body"}
    assert not GiftCard.objects.exists()


def test_update_disable_enable_revoke(writer):
    card, _ = new_card(3000)
    later = (timezone.localdate() + dt.timedelta(days=90)).isoformat()
    body = writer.call("patch", f"{BASE}{card.pk}/", {"expires_on": later, "note": "VIP"}).json()["gift_card"]
    assert (body["expires_on"], body["note"], body["template_suffix"]) == (later, "VIP", "globe")
    assert writer.call("patch", f"{BASE}{card.pk}/", {"balance_cents": 1}).status_code == 400
    assert writer.call("patch", f"{BASE}{card.pk}/", {"template_suffix": None}).status_code == 400
    assert writer.call("post", f"{BASE}{card.pk}/disable/").json()["gift_card"]["status"] == "disabled"
    assert writer.call("post", f"{BASE}{card.pk}/enable/").json()["gift_card"]["status"] == "active"
    revoked = writer.call("post", f"{BASE}{card.pk}/revoke/", {"reason": "Fraud"}).json()["gift_card"]
    assert revoked["status"] == "revoked" and revoked["balance_cents"] == 0
    assert GiftCard.objects.get(pk=card.pk).status == Status.REVOKED
    # Rules broken by valid requests: 422.
    for method, path, body in (
        ("post", f"{BASE}{card.pk}/revoke/", None),
        ("post", f"{BASE}{card.pk}/enable/", None),
        ("patch", f"{BASE}{card.pk}/", {"note": "again"}),
    ):
        response = writer.call(method, path, body)
        assert response.status_code == 422 and set(response.json()) == {"error"}, (path, response.json())
    assert writer.call("get", BASE).json()["gift_cards"] == []  # gone from the list
    assert writer.call("get", f"{BASE}{card.pk}/").json()["gift_card"]["status"] == "revoked"  # still found
    for method, path in (("patch", f"{BASE}0/"), ("post", f"{BASE}0/disable/"), ("post", f"{BASE}0/revoke/")):
        assert writer.call(method, path, {} if method == "patch" else None).status_code == 404
    assert balanced(card) == 0


CONTROL = ["a\x00b", "bell\x07", "\x1b[31mred", "del\x7f", "c1\x85"]


@pytest.mark.parametrize("field", ["note", "message", "recipient_name"])
@pytest.mark.parametrize("value", CONTROL)
def test_control_characters_are_refused_on_create(writer, field, value):
    """NUL (PostgreSQL cannot store it) and other control characters are a field problem, and no card
    is made."""
    body = {"initial_value_cents": 1000, "recipient_email": "ann@example.com", field: value}
    response = writer.call("post", BASE, body)
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [field]
    assert "control character" in errors[0]["message"]
    assert not GiftCard.objects.exists()


def test_control_characters_are_refused_on_update_and_revoke(writer):
    card, _ = new_card(3000)
    for value in CONTROL:
        response = writer.call("patch", f"{BASE}{card.pk}/", {"note": value})
        assert response.status_code == 400 and response.json()["errors"][0]["field"] == "note"
        response = writer.call("post", f"{BASE}{card.pk}/revoke/", {"reason": value})
        assert response.status_code == 400 and response.json()["errors"][0]["field"] == "reason"
    card.refresh_from_db()
    assert card.note == "" and card.status == Status.ACTIVE and balanced(card) == 3000


def test_multi_line_text_keeps_its_newlines_and_tabs(writer):
    """Where text may have several lines (note, message), newline, tab and carriage return are text."""
    body = {
        "initial_value_cents": 1000,
        "recipient_email": "ann@example.com",
        "recipient_name": "Ann Lee",
        "note": "line 1\r\nline 2\tend",
        "message": "Happy trip!\nLove, Kim",
    }
    response = writer.call("post", BASE, body)
    assert response.status_code == 201, response.content
    card = GiftCard.objects.get()
    assert (card.note, card.message) == ("line 1\r\nline 2\tend", "Happy trip!\nLove, Kim")
    # A name is one line.
    response = writer.call("post", BASE, {**body, "recipient_name": "Ann\nLee"})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "recipient_name"
