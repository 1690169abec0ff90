from __future__ import annotations

import logging

import stripe
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.text import has_nul

from . import services
from .providers.stripe_api import gateway

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024  # Stripe's events are a few KB


def _well_formed(event: object) -> bool:
    """The shape every event we act on has; anything else is answered 400 and changes nothing."""
    if not isinstance(event, dict):
        return False
    data = event.get("data")
    return (
        isinstance(event.get("id"), str)
        and bool(event["id"])
        and isinstance(event.get("type"), str)
        and isinstance(data, dict)
        and isinstance(data.get("object"), dict)
        and not has_nul(event)
    )


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    signature = request.headers.get("Stripe-Signature", "")
    if len(request.body) > MAX_BODY_BYTES or not signature.isascii():
        return JsonResponse({"error": "invalid signature or payload"}, status=400)
    try:
        event = gateway().parse_event(request.body, signature)
    except (ValueError, RecursionError, stripe.SignatureVerificationError):
        return JsonResponse({"error": "invalid signature or payload"}, status=400)
    if not _well_formed(event):
        return JsonResponse({"error": "not an event"}, status=400)
    try:
        outcome = services.handle_stripe_event(event)
    except ValueError as exc:  # an object that is not what its event says (a session, an amount)
        logger.warning("stripe event %s %s refused: %s", event["id"], event["type"], exc)
        return JsonResponse({"error": f"malformed event object: {exc}"}, status=400)
    logger.info("stripe event %s %s: %s", event["id"], event["type"], outcome)
    return JsonResponse({"received": True, "outcome": outcome})
