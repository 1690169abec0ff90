"""The JSON API for back-office tools: /api/v1/gift-cards/, API tokens with scopes.

django-ninja writes the OpenAPI document (/api/v1/openapi.json) from these
functions and the schemas; it was chosen over DRF + drf-spectacular for
being one small library whose types are the documentation. Errors: 400
`{"errors": [...]}` for field problems, `{"error": "..."}` otherwise (400
malformed body, 401 token, 403 scope, 404 card, 422 rule).
"""

from __future__ import annotations

import datetime as dt
import hmac

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.security import HttpBearer

from . import codes, services
from .models import ApiToken, GiftCard
from .schemas import (
    MAX_PAGE,
    Error,
    FieldErrors,
    GiftCardCreate,
    GiftCardEnvelope,
    GiftCardList,
    GiftCardOut,
    GiftCardUpdate,
    NewGiftCardEnvelope,
    RevokeIn,
    StatusName,
)


class TokenAuth(HttpBearer):
    """`Authorization: Bearer gct_<prefix>_<secret>`; only the token's SHA-256 is stored.

    Checked before the request's body: a token without the operation's scope
    gets 403 whatever it sent.
    """

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        parts = token.split("_")
        if len(parts) < 3 or parts[0] != "gct":
            return None
        row = ApiToken.objects.active().filter(prefix=parts[1][:12]).first()
        if row is None or not hmac.compare_digest(row.token_hash, codes.token_hash(token)):
            return None
        now = timezone.now()
        if row.last_used_at is None or now - row.last_used_at > dt.timedelta(minutes=1):
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        if not row.has_scope(self.scope):
            raise AuthorizationError(message=f"This token lacks the {self.scope} scope")
        return row


api = NinjaAPI(
    title="Gift cards API",
    version="1",
    urls_namespace="giftcards-api",
    docs_url=None,
    description=__doc__,
)

READ, WRITE = TokenAuth(ApiToken.READ), TokenAuth(ApiToken.WRITE)
ERRORS = {400: FieldErrors | Error, 401: Error, 403: Error, 404: Error, 422: Error}


def _error(request: HttpRequest, status: int, message: str) -> HttpResponse:
    return api.create_response(request, {"error": message}, status=status)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(request, 401, "Missing or invalid API token")
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(AuthorizationError)
def _forbidden(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return _error(request, 403, str(exc))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    message = "Malformed JSON body" if exc.status_code == 400 else str(exc)
    return _error(request, exc.status_code, message)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "Gift card not found")


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = []
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path", "payload")]
        problems.append({"field": ".".join(loc) or "body", "message": error.get("msg", "Invalid value")})
    return api.create_response(request, {"errors": problems}, status=400)


@api.exception_handler(services.FieldError)
def _field_error(request: HttpRequest, exc: services.FieldError) -> HttpResponse:
    return api.create_response(
        request, {"errors": [{"field": exc.field, "message": exc.message}]}, status=400
    )


@api.exception_handler(services.GiftCardError)
def _rule_broken(request: HttpRequest, exc: services.GiftCardError) -> HttpResponse:
    return _error(request, 422, str(exc))


def _actor(request: HttpRequest) -> str:
    return f"API token {request.auth.name}"


def _card(card_id: int) -> GiftCard:
    card = GiftCard.objects.filter(pk=card_id).first()
    if card is None:
        raise Http404
    return card


def _one(card: GiftCard) -> dict:
    card.refresh_from_db()
    return {"gift_card": GiftCardOut.of(card)}


class ListQuery(Schema):
    # The document says what is accepted (schemathesis holds the API to it: no page 0).
    status: StatusName | None = Field(
        None, description="Only cards with this status; revoked cards are listed only when asked for"
    )
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(50, ge=1, le=250)


@api.get(
    "/gift-cards/",
    auth=READ,
    response={200: GiftCardList, **ERRORS},
    summary="List gift cards",
    description="Newest first. Without `status`, revoked cards are left out; `?status=revoked` lists "
    "only them. Needs gift_cards:read.",
)
def list_cards(request: HttpRequest, filters: Query[ListQuery]):
    cards = GiftCard.objects.with_status(filters.status) if filters.status else GiftCard.objects.listed()
    start = (filters.page - 1) * filters.per_page
    rows = list(cards.order_by("-created_at", "-id")[start : start + filters.per_page + 1])
    more = len(rows) > filters.per_page
    return {
        "gift_cards": [GiftCardOut.of(c) for c in rows[: filters.per_page]],
        "page": filters.page,
        "per_page": filters.per_page,
        "next_page": filters.page + 1 if more else None,
    }


@api.get(
    "/gift-cards/{card_id}/", auth=READ, response={200: GiftCardEnvelope, **ERRORS}, summary="Get a gift card"
)
def get_card(request: HttpRequest, card_id: int):
    return {"gift_card": GiftCardOut.of(_card(card_id))}


@api.post(
    "/gift-cards/",
    auth=WRITE,
    response={201: NewGiftCardEnvelope, **ERRORS},
    summary="Create a gift card",
    description="The code is in this answer only, unless the card has a recipient_email: then it "
    "is emailed to the recipient on send_on (or at once). Needs gift_cards:write.",
)
def create_card(request: HttpRequest, payload: GiftCardCreate):
    actor = _actor(request)

    if payload.currency and payload.currency.upper() != settings.SHOP_CURRENCY:
        raise services.FieldError("currency", f"The shop's only currency is {settings.SHOP_CURRENCY}.")
    if payload.recipient_email:
        try:
            validate_email(payload.recipient_email)
        except DjangoValidationError:
            raise services.FieldError("recipient_email", "Enter a valid email address.") from None
    amount = services.clean_issue_amount(payload.initial_value_cents)
    services.clean_expiry(payload.expires_on)
    services.clean_send_on(payload.send_on)
    with transaction.atomic():
        card, code = services.issue(
            amount,
            actor=actor,
            note=payload.note,
            expires_on=payload.expires_on,
            template_suffix=payload.template_suffix,
            recipient_name=payload.recipient_name,
            recipient_email=payload.recipient_email,
            message=payload.message,
            send_on=payload.send_on,
        )
    return Status(201, {"gift_card": {**GiftCardOut.of(card), "code": code}})


@api.patch(
    "/gift-cards/{card_id}/",
    auth=WRITE,
    response={200: GiftCardEnvelope, **ERRORS},
    summary="Update a gift card's expiry date, note or design",
)
def update_card(request: HttpRequest, card_id: int, payload: GiftCardUpdate):
    actor = _actor(request)
    card = _card(card_id)
    fields = {name: getattr(payload, name) for name in payload.model_fields_set}
    if "template_suffix" in fields and fields["template_suffix"] is None:
        raise services.FieldError("template_suffix", "A design is required.")
    if fields:
        services.update(card.pk, actor=actor, **fields)
    return _one(card)


@api.post(
    "/gift-cards/{card_id}/disable/",
    auth=WRITE,
    response={200: GiftCardEnvelope, **ERRORS},
    summary="Disable a gift card (a reversible hold, no refund)",
)
def disable_card(request: HttpRequest, card_id: int):
    actor = _actor(request)
    return _one(services.disable(_card(card_id).pk, actor=actor))


@api.post(
    "/gift-cards/{card_id}/enable/",
    auth=WRITE,
    response={200: GiftCardEnvelope, **ERRORS},
    summary="Enable a disabled gift card",
)
def enable_card(request: HttpRequest, card_id: int):
    actor = _actor(request)
    return _one(services.enable(_card(card_id).pk, actor=actor))


@api.post(
    "/gift-cards/{card_id}/revoke/",
    auth=WRITE,
    response={200: GiftCardEnvelope, **ERRORS},
    summary="Revoke a gift card for good",
    description="A bought card's balance is refunded to the payment that bought it.",
)
def revoke_card(request: HttpRequest, card_id: int, payload: RevokeIn | None = None):
    actor = _actor(request)
    card = _card(card_id)
    services.revoke(
        card.pk, actor=actor, reason=(payload.reason if payload else "") or "Revoked through the API"
    )
    return _one(card)
