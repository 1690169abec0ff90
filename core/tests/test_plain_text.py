"""One rule for typed text (core.text): no control characters, but tab, newline and CR where text
may have several lines. Every form of the shop has it (core.forms.PlainTextMixin), every admin form
(core.admin_tools), and the JSON API (giftcards/tests/test_api.py)."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.urls import get_resolver

from checkout import cart
from core.forms import PlainTextMixin
from core.text import control_character
from giftcards.models import GiftCard

APPS = ("accounts", "catalog", "checkout", "core", "esims", "giftcards", "payments", "storefront")
# In the middle of the text: a form's CharField strips \x85 and \x0b at the ends as whitespace.
CONTROL = ["a\x00b", "bell\x07", "\x1b[31mred", "del\x7f", "c1\x85c1", "v\x0bt"]
REFUSED = "Remove the invisible control character"


def test_the_rule():
    for text in CONTROL:
        assert control_character(text) and control_character(text, multiline=True)
    for text in ("line\nline", "tab\there", "cr\r\n"):
        assert control_character(text) and control_character(text, multiline=True) is None
    for text in ("Côte d'Ivoire & <Sénégal>", "🇯🇵 東京", "שלום\u202e", ""):
        assert control_character(text) is None


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    return found.union(*(_subclasses(c) for c in found)) if found else found


def test_every_form_of_the_shop_has_the_rule():
    """A form added later without PlainTextMixin fails here."""
    get_resolver().url_patterns  # imports every view, and so every form they use  # noqa: B018
    ours = [
        f
        for f in _subclasses(forms.BaseForm)
        if f.__module__.split(".")[0] in APPS
        and ".tests" not in f.__module__
        and "<locals>" not in f.__qualname__
    ]
    assert len(ours) >= 15
    missing = [f"{f.__module__}.{f.__qualname__}" for f in ours if not issubclass(f, PlainTextMixin)]
    assert not missing, f"add core.forms.PlainTextMixin to: {missing}"


@pytest.mark.django_db
@pytest.mark.parametrize("value", CONTROL)
def test_the_gift_card_form_refuses_control_characters(client, value):
    form = {
        "amount": "2500",
        "recipient_name": "Kim",
        "recipient_email": "kim@example.com",
        "message": "Happy trip!\nLove",
        "template_suffix": "globe",
    }
    assert client.post("/cart/gift-card/", form).status_code == 302  # the control: valid, with a newline
    client.session.flush()
    for field in ("recipient_name", "message"):
        response = client.post("/cart/gift-card/", {**form, field: value})
        assert response.status_code == 400
        assert REFUSED in response.content.decode()
    assert len(client.session.get(cart.GIFT_LINES_KEY, {})) == 0


@pytest.mark.django_db
def test_admin_forms_refuse_control_characters_the_apps_and_djangos_own(staff_client):
    data = {"initial_value_cents": "25", "template_suffix": "globe", "note": "bell\x07"}
    response = staff_client.post("/admin/giftcards/giftcard/add/", data)
    assert response.status_code == 200 and REFUSED in response.content.decode()
    assert not GiftCard.objects.exists()
    user = get_user_model().objects.create_user("kim", "kim@example.com", first_name="Kim")
    page = f"/admin/auth/user/{user.pk}/change/"
    form = {"username": "kim", "email": "kim@example.com", "first_name": "Kim\x1b[31m"}
    form.update(date_joined_0="2026-01-01", date_joined_1="00:00:00")
    response = staff_client.post(page, form)
    assert response.status_code == 200 and REFUSED in response.content.decode()
    user.refresh_from_db()
    assert user.first_name == "Kim"
