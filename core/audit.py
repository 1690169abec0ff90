"""The audit log: every staff action, with who, what, and the values before and after.

Apps call `record(...)` from their services or admin (gift cards too: an action
named like "giftcard.revoke" with the card as `obj`). Entries are kept forever:
the admin shows them read-only, on each object and in one list.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models

from .models import AuditEntry


def actor_name(actor: Any) -> str:
    """A user (their login) or a name as given ("system", "boss@example.com")."""
    if actor is None:
        return "system"
    if hasattr(actor, "get_username"):
        return actor.get_username() or f"user {actor.pk}"
    return str(actor)[:150]


def target_of(obj: models.Model | None) -> tuple[str, str, str]:
    if obj is None:
        return "", "", ""
    return obj._meta.label_lower, str(obj.pk), str(obj)[:300]


def _plain(value: Any) -> Any:
    """JSON-friendly values: money stays integer cents, dates become ISO strings."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def record(
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    before: Mapping | None = None,
    after: Mapping | None = None,
    note: str = "",
) -> AuditEntry:
    """Write one entry. Call it in the transaction that made the change, so both stand or fall."""
    target_type, target_id, target_repr = target_of(obj)
    return AuditEntry.objects.create(
        actor=actor_name(actor),
        action=action[:60],
        target_type=target_type,
        target_id=target_id,
        target_repr=target_repr,
        before=_plain(dict(before or {})),
        after=_plain(dict(after or {})),
        note=note[:5000],
    )


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in fields}


def entries_for(obj: models.Model):
    target_type, target_id, _ = target_of(obj)
    return AuditEntry.objects.filter(target_type=target_type, target_id=target_id)
