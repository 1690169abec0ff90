"""Roamify's webhook: verify, store once, answer at once; a Celery task does the work."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.text import has_nul

from . import services, signatures


def _not_json(constant: str) -> None:
    """NaN and Infinity: Python reads them, JSON (and PostgreSQL's jsonb, a 500 once) does not."""
    raise ValueError(f"{constant} is not JSON")


@csrf_exempt
@require_POST
def roamify_webhook(request: HttpRequest) -> JsonResponse:
    body = request.body
    if not settings.ROAMIFY_WEBHOOK_SECRET:
        return JsonResponse({"error": "webhooks are not configured"}, status=503)
    if not signatures.is_valid(
        settings.ROAMIFY_WEBHOOK_SECRET, body, request.headers.get("X-Roamify-Signature")
    ):
        return JsonResponse({"error": "invalid signature"}, status=400)
    try:
        payload = json.loads(body, parse_constant=_not_json)
    except (UnicodeDecodeError, ValueError):
        return JsonResponse({"error": "body is not JSON"}, status=400)
    if (
        not isinstance(payload, dict)
        or not payload.get("event_category")
        or not payload.get("event_type")
        or has_nul(payload)
    ):
        return JsonResponse({"error": "not a Roamify event"}, status=400)
    _, created = services.store_event(body, payload)
    return JsonResponse({"received": True, "duplicate": not created})
