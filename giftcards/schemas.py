"""The JSON API's shapes (pydantic, through django-ninja): they write the OpenAPI document."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import AfterValidator, ConfigDict, StrictInt
from pydantic_core import PydanticCustomError

from core.text import control_character, control_character_message

from .models import GiftCard

StatusName = Literal["active", "disabled", "expired", "revoked"]
TemplateName = Literal["globe", "sunset", "mountains", "city"]
# The last page a list may ask for: past it the database's OFFSET would overflow (a 500).
MAX_PAGE = 1_000_000


def _plain_text(multiline: bool) -> AfterValidator:
    """The shop's rule for typed text (core.text), as a field problem: no control characters."""

    def check(value: str) -> str:
        char = control_character(value, multiline=multiline)
        if char is not None:
            raise PydanticCustomError("control_character", control_character_message(char))
        return value

    return AfterValidator(check)


Line = Annotated[str, _plain_text(multiline=False)]  # one line: a name, a code
Lines = Annotated[str, _plain_text(multiline=True)]  # may hold tab, newline and CR: a note, a message


class Out(Schema):
    """An answer: exactly these fields (the OpenAPI document says additionalProperties: false)."""

    model_config = ConfigDict(extra="forbid")


class GiftCardOut(Out):
    """A gift card, as shops know it: money in integer minor units (cents) with its currency."""

    id: int
    last_characters: str | None = Field(description="Last four characters of the code; null until it is sent")
    initial_value_cents: int
    balance_cents: int
    currency: str
    status: StatusName
    enabled: bool
    disabled_at: dt.datetime | None
    revoked_at: dt.datetime | None
    expires_on: dt.date | None
    note: str
    template_suffix: TemplateName
    order_id: int | None = Field(description="The order that bought it")
    line_item_id: int | None = Field(description="The order line that bought it")
    customer_id: int | None = Field(description="The buyer")
    user_id: int | None = Field(description="The staff user who issued it by hand")
    recipient_name: str
    recipient_email: str
    message: str
    send_on: dt.date | None
    sent_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def of(card: GiftCard) -> dict:
        return {
            "id": card.pk,
            "last_characters": card.last_characters or None,
            "initial_value_cents": card.initial_value_cents,
            "balance_cents": card.balance_cents,
            "currency": card.currency,
            "status": card.status,
            "enabled": card.enabled,
            "disabled_at": card.disabled_at,
            "revoked_at": card.revoked_at,
            "expires_on": card.expires_on,
            "note": card.note,
            "template_suffix": card.template_suffix,
            "order_id": card.order_id,
            "line_item_id": card.order_line_id,
            "customer_id": card.customer_id,
            "user_id": card.issued_by_id,
            "recipient_name": card.recipient_name,
            "recipient_email": card.recipient_email,
            "message": card.message,
            "send_on": card.send_on,
            "sent_at": card.sent_at,
            "created_at": card.created_at,
            "updated_at": card.updated_at,
        }


class NewGiftCardOut(GiftCardOut):
    code: str | None = Field(
        description="The code, shown this once; null when it is emailed to the recipient"
    )


class GiftCardEnvelope(Out):
    gift_card: GiftCardOut


class NewGiftCardEnvelope(Out):
    gift_card: NewGiftCardOut


class GiftCardList(Out):
    gift_cards: list[GiftCardOut]
    page: int
    per_page: int
    next_page: int | None


class Error(Out):
    """Anything but a field problem."""

    error: str


class FieldProblem(Out):
    field: str
    message: str


class FieldErrors(Out):
    """Field problems (400)."""

    errors: list[FieldProblem]


class GiftCardCreate(Schema):
    model_config = ConfigDict(extra="forbid")

    initial_value_cents: StrictInt = Field(ge=1, description="From 1 cent up to the shop's upper limit")
    currency: Line | None = Field(None, description="The shop's currency; the only one accepted")
    note: Lines = Field("", max_length=5000)
    expires_on: dt.date | None = None
    template_suffix: TemplateName = "globe"
    recipient_name: Line = Field("", max_length=100)
    recipient_email: Line = Field("", max_length=254, description="When set, the code is emailed on send_on")
    message: Lines = Field("", max_length=500)
    send_on: dt.date | None = None


class GiftCardUpdate(Schema):
    model_config = ConfigDict(extra="forbid")

    expires_on: dt.date | None = None
    note: Lines | None = Field(None, max_length=5000)
    template_suffix: TemplateName | None = None


class RevokeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: Lines = Field("", max_length=500)
