"""/healthz: whether the shop and what it depends on are up, as JSON.

Anyone (load balancers, uptime monitors) gets only up or down; the detail of
each check, whose error text can name hosts and ports, is for staff and the log.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core.upstream import roamify_client

logger = logging.getLogger(__name__)


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    key, value = f"healthz:{uuid.uuid4().hex}", "ok"
    cache.set(key, value, 10)
    if cache.get(key) != value:
        raise RuntimeError("cache did not return what was stored")
    cache.delete(key)


def _broker() -> None:
    from .celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def _upstream() -> None:
    if not roamify_client().health():
        raise RuntimeError("upstream health check failed")


CHECKS: dict[str, Callable[[], None]] = {
    "database": _database,
    "cache": _cache,
    "broker": _broker,
    "upstream": _upstream,
}


@require_safe  # monitors and link checkers use HEAD
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    results: dict[str, dict] = {}
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            check()
            results[name] = {"ok": True}
        except Exception as exc:  # any failure is a red light, never a 500
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
            logger.warning("health check %s failed: %s", name, results[name]["error"])
        results[name]["ms"] = round((time.monotonic() - started) * 1000, 1)
    healthy = all(r["ok"] for r in results.values())
    body: dict = {"status": "ok" if healthy else "down"}
    if request.user.is_staff:
        body["checks"] = results
        if settings.DEBUG:
            body["broker_url_scheme"] = settings.CELERY_BROKER_URL.split(":", 1)[0]
    return JsonResponse(body, status=200 if healthy else 503)
