"""What each web or worker process would otherwise pay at its first request or task, paid as it
starts instead: the imports Django, Celery and the libraries make lazily, the clients the shop
keeps for the life of a process, and the email templates compiled.

Measured (bench/README.md, "Profile of one delivered eSIM"): the first request of a gunicorn
worker imported the URLconf and every view (about 0.25 s of CPU), the first task it queued
redis-py and kombu's Redis transport (about 0.2 s: the first webhook of each worker took 0.7-0.9 s
in the checkout benchmark), and the first task of each prefork pool
process built the Roamify client (its TLS context), imported what qrcode draws with and compiled
the templates (about 0.1 s, four times over). A worker warms up in its main process before the
pool forks, so its pool processes start warm and share the work.

Nothing here opens a connection: a pool process must not inherit one. Nothing here may stop a
process from starting either: a warm-up that fails is logged, and the process pays later.
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)


def _never_fails(warm_up: Callable[[], None]) -> Callable[[], None]:
    @functools.wraps(warm_up)
    def run() -> None:
        try:
            warm_up()
        except Exception:
            logger.warning(
                "%s failed; the first request or task pays instead", warm_up.__name__, exc_info=True
            )

    return run


@_never_fails
def web_process() -> None:
    """Called by the WSGI module as gunicorn loads it (each worker, or the master with preload)."""
    from celery import current_app
    from django.core.cache import cache
    from django.urls import get_resolver

    # The URLconf, and so every view module (about 330 modules, 0.25 s), which Django imports at
    # the first request.
    get_resolver().url_patterns  # noqa: B018
    getattr(cache, "_cache", None)  # Redis: the client (redis-py imported); it connects when used
    # What Celery imports and builds at its first send_task: the producer pool and the broker's
    # transport (connected when first used), the result backend, the result class, the (disabled)
    # event dispatcher.
    current_app.producer_pool  # noqa: B018
    current_app.backend  # noqa: B018
    current_app.AsyncResult  # noqa: B018
    current_app.amqp._event_dispatcher  # noqa: B018


@_never_fails
def worker_process() -> None:
    """Called in a Celery worker's main process (`worker_init`), before its pool starts."""
    import qrcode
    from django.core.cache import cache
    from django.template.loader import get_template

    from core.roamify_client import roamify_client

    getattr(cache, "_cache", None)  # as for the web
    roamify_client()
    qrcode.make("warm-up").save(io.BytesIO())  # the eSIM email's QR code imports what draws it
    for directory in settings.TEMPLATES[0]["DIRS"]:
        for path in sorted(Path(directory, "emails").glob("*.*")):
            get_template(f"emails/{path.name}")
