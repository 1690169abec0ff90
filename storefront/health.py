"""/healthz: whether the shop and what it depends on are up, as JSON.

Anyone (load balancers, uptime monitors) gets only ok, degraded or down; the detail
of each check, whose error text can name hosts and ports, is for staff and the log.

Only what this instance cannot serve without (database, cache, broker) makes it
"down" (503), so that a load balancer takes it out. Upstream being unreachable is the
same for every instance: taking them all out would close the whole shop, while
browsing, accounts and gift cards still work and paid orders wait for upstream to come
back (the reconciler retries them). So that is "degraded", still 200.
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

from core.roamify_client import roamify_client

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
# Checks whose failure takes this instance out of the load balancer.
CRITICAL = frozenset({"database", "cache", "broker"})


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
    failed = {name for name, result in results.items() if not result["ok"]}
    healthy = not failed & CRITICAL
    body: dict = {"status": "down" if not healthy else "degraded" if failed else "ok"}
    if request.user.is_staff:
        body["checks"] = results
        if settings.DEBUG:
            body["broker_url_scheme"] = settings.CELERY_BROKER_URL.split(":", 1)[0]
    return JsonResponse(body, status=200 if healthy else 503)
