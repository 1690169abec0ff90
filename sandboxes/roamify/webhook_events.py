"""The webhooks the world sends (spec §4): where to, signed with which secret, and every envelope
sent. Each resource builds its own events; `webhooks.py` delivers them over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .base import WorldBase
from .config import Config

# (url, secret, envelope) -> None; the HTTP layer queues the signed POST.
EmitFn = Callable[[str, str, dict[str, Any]], None]


class WebhookEvents(WorldBase):
    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.webhook_url = config.webhook_url
        self.webhook_secret = config.webhook_secret
        self.emit_fn: EmitFn | None = None  # the World's; unit tests read `sent` instead
        self.sent: list[dict[str, Any]] = []  # webhook envelopes, for unit tests

    def _emit(
        self, category: str, event_type: str, data: dict[str, Any], event_id: str | None = None
    ) -> None:
        envelope = {"event_category": category, "event_type": event_type, "data": data}
        if event_id:
            envelope = {"event_id": event_id, **envelope}
        self.sent.append(envelope)
        if self.webhook_url and self.emit_fn is not None:
            self.emit_fn(self.webhook_url, self.webhook_secret, envelope)
