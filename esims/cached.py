"""The cache of what upstream says about an eSIM: usage, packages history, top-ups.

Each entry keeps when it was fetched. Pages read it stale-while-revalidate: a
fresh entry is served as is; a stale one is served while one background refresh
is queued (one per eSIM and kind at a time); a missing one is fetched at once.
Entries are kept well past freshness so that stale data is there to serve.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from core.queue import after_commit

USAGE, HISTORY, TOPUPS = "usage", "history", "topups"
KINDS = (USAGE, HISTORY, TOPUPS)


@dataclass(frozen=True)
class Entry:
    value: Any
    fetched_at: dt.datetime


@dataclass(frozen=True)
class HistoryRow:
    package: str
    type: str
    created_at: dt.datetime | None


def _key(esim_id: int, kind: str) -> str:
    return f"esims:{kind}:{esim_id}"


def fresh_seconds(kind: str) -> int:
    return settings.ESIM_USAGE_FRESH_SECONDS if kind == USAGE else settings.ESIM_UPSTREAM_FRESH_SECONDS


def store(esim_id: int, kind: str, value: Any, fetched_at: dt.datetime) -> None:
    cache.set(_key(esim_id, kind), Entry(value, fetched_at), settings.ESIM_UPSTREAM_KEEP_SECONDS)


def get_many(esim_ids: list[int], kind: str) -> dict[int, Entry]:
    found = cache.get_many([_key(i, kind) for i in esim_ids])
    return {i: found[_key(i, kind)] for i in esim_ids if _key(i, kind) in found}


def get(esim_id: int, kind: str) -> Entry | None:
    return cache.get(_key(esim_id, kind))


def peek(esim_id: int, kind: str) -> Any:
    entry = get(esim_id, kind)
    return entry.value if entry is not None else None


def forget(esim_id: int) -> None:
    cache.delete_many([_key(esim_id, kind) for kind in KINDS])


def is_stale(entry: Entry, kind: str, now: dt.datetime) -> bool:
    return (now - entry.fetched_at).total_seconds() > fresh_seconds(kind)


def queue_refresh(esim_id: int, kind: str) -> bool:
    """One background refresh per eSIM and kind at a time (the lock ends when the task does)."""
    if not cache.add(f"esims:refreshing:{kind}:{esim_id}", 1, settings.ESIM_REFRESH_MIN_SECONDS):
        return False
    after_commit("esims.refresh_upstream", esim_id, kind)
    return True


def release_refresh(esim_id: int, kind: str) -> None:
    cache.delete(f"esims:refreshing:{kind}:{esim_id}")
