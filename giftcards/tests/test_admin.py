"""Gift cards in admin: search, the ledger, issuing by hand, actions, adjusting, API tokens."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from core.models import AuditEntry
from core.tests.staff import sign_in_staff
from giftcards import codes
from giftcards.events import ApiTokenAction
from giftcards.models import ApiToken, GiftCard, Kind, Status

from .conftest import balanced, new_card

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-boss-123")
    sign_in_staff(client, user)
    return user


def shown(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_issue_by_hand_shows_the_code_once_and_records_the_staff_user(client, staff):
    response = client.post(
        "/admin/giftcards/giftcard/add/",
        {
            "initial_value_cents": "20.00",
            "recipient_name": "",
            "recipient_email": "",
            "message": "",
            "send_on": "",
            "expires_on": "",
            "template_suffix": "globe",
            "note": "Apology for a late eSIM",
        },
        follow=True,
    )
    assert response.status_code == 200
    code = re.search(r"The code of this card is (\S+)\.", " ".join(shown(response))).group(1)
    card = GiftCard.objects.get()
    assert card.issued_by == staff and card.code_hash == codes.code_hash(codes.normalize(code))
    assert balanced(card) == 2000 and card.transactions.get().actor == "staff boss"
    page = client.get(f"/admin/giftcards/giftcard/{card.pk}/change/").content.decode()
    assert "Ledger" in page and code not in page and "Adjust balance" in page


def test_search_by_last_characters_recipient_and_buyer(client, staff):
    card, _ = new_card(1000, recipient_name="Zed", customer=staff)
    other, _ = new_card(1000)
    for query in (card.last_characters, "Zed", "boss@example.com"):
        page = client.get("/admin/giftcards/giftcard/", {"q": query}).content.decode()
        assert f"/admin/giftcards/giftcard/{card.pk}/change/" in page
        assert f"/admin/giftcards/giftcard/{other.pk}/change/" not in page


def test_actions_and_adjust(client, staff):
    card, _ = new_card(1000)
    url = "/admin/giftcards/giftcard/"
    client.post(url, {"action": "disable_cards", "_selected_action": [card.pk]})
    assert GiftCard.objects.get(pk=card.pk).status == Status.DISABLED
    client.post(url, {"action": "enable_cards", "_selected_action": [card.pk]})
    assert GiftCard.objects.get(pk=card.pk).status == Status.ACTIVE
    response = client.post(f"{url}{card.pk}/adjust/", {"amount_cents": "-20.00", "reason": "x"})
    assert response.status_code == 200 and balanced(card) == 1000  # refused: below zero
    client.post(f"{url}{card.pk}/adjust/", {"amount_cents": "-3.00", "reason": "Correction"})
    assert balanced(card) == 700 and card.transactions.last().kind == Kind.ADJUST
    client.post(url, {"action": "revoke_cards", "_selected_action": [card.pk]})
    assert GiftCard.objects.get(pk=card.pk).status == Status.REVOKED and balanced(card) == 0
    # Revoked cards are still found by admins.
    assert f"{url}{card.pk}/change/" in client.get(url).content.decode()


def test_resend_makes_a_new_code(client, staff, mailoutbox):
    card, first = new_card(1000)
    GiftCard.objects.filter(pk=card.pk).update(recipient_email="ann@example.com")
    client.post("/admin/giftcards/giftcard/", {"action": "resend_cards", "_selected_action": [card.pk]})
    second = re.search(r"[2-9A-HJ-NP-Z]{4}(?:-[2-9A-HJ-NP-Z]{4}){4}", mailoutbox[0].body).group(0)
    card.refresh_from_db()
    assert second != first and card.code_hash == codes.code_hash(codes.normalize(second)) and card.sent_at


def test_api_tokens_are_shown_once_and_stored_hashed(client, staff):
    response = client.post(
        "/admin/giftcards/apitoken/add/",
        {"name": "Support desk", "scopes": ["gift_cards:read"], "revoked_at_0": "", "revoked_at_1": ""},
        follow=True,
    )
    token = re.search(r"The new token is (\S+)\.", " ".join(shown(response))).group(1)
    row = ApiToken.objects.get()
    assert row.scopes == ["gift_cards:read"] and row.token_hash == codes.token_hash(token)
    assert token not in client.get(f"/admin/giftcards/apitoken/{row.pk}/change/").content.decode()


def test_creating_and_revoking_an_api_token_is_audited_without_its_secret(client, staff):
    response = client.post(
        "/admin/giftcards/apitoken/add/",
        {"name": "Support desk", "scopes": ["gift_cards:read"], "revoked_at_0": "", "revoked_at_1": ""},
        follow=True,
    )
    token = re.search(r"The new token is (\S+)\.", " ".join(shown(response))).group(1)
    row = ApiToken.objects.get()
    created = AuditEntry.objects.get(action=ApiTokenAction.CREATE)
    assert created.actor == "staff boss" and created.target_id == str(row.pk)
    assert created.after == {
        "name": "Support desk",
        "prefix": row.prefix,
        "scopes": ["gift_cards:read"],
        "revoked_at": None,
    }
    secret = token.split("_", 2)[2]
    client.post(
        f"/admin/giftcards/apitoken/{row.pk}/change/",
        {
            "name": "Support desk",
            "scopes": ["gift_cards:read", "gift_cards:write"],
            "revoked_at_0": "2026-01-02",
            "revoked_at_1": "10:00:00",
        },
    )
    row.refresh_from_db()
    assert row.revoked_at
    revoked = AuditEntry.objects.get(action=ApiTokenAction.REVOKE)
    assert revoked.before == {"scopes": ["gift_cards:read"], "revoked_at": None}
    assert revoked.after["scopes"] == ["gift_cards:read", "gift_cards:write"] and revoked.after["revoked_at"]
    client.post(
        f"/admin/giftcards/apitoken/{row.pk}/change/",
        {
            "name": "Old desk",
            "scopes": ["gift_cards:read"],
            "revoked_at_0": "2026-01-02",
            "revoked_at_1": "10:00:00",
        },
    )
    renamed = AuditEntry.objects.get(action=ApiTokenAction.UPDATE)
    assert renamed.before["name"] == "Support desk" and renamed.after["name"] == "Old desk"
    stored = str(list(AuditEntry.objects.values()))
    for kept_out in (token, secret, row.token_hash):
        assert kept_out not in stored
    listing = client.get("/admin/core/auditentry/").content.decode()
    assert "apitoken.create" in listing and secret not in listing
