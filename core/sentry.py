"""Optional error reporting to Sentry (SENTRY_DSN). Imported only when a DSN is set."""

from __future__ import annotations

import json
from typing import Any

from .logs import redact


def _scrub(event: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
    """The event with the URL secrets (order tokens, signed links, allauth keys) redacted.

    send_default_pii=False keeps cookies, users and IPs out, but not the URL and query string
    of the request, nor log messages in breadcrumbs.
    """
    return json.loads(redact(json.dumps(event, default=str)))


def init(dsn: str, *, environment: str, release: str, traces_sample_rate: float) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        traces_sample_rate=traces_sample_rate,
        before_send=_scrub,
        before_send_transaction=_scrub,
    )
