"""Counts in the shared cache over fixed windows: what every limit of the shop counts with (and
the metrics' upstream error counters, whose window never ends).

A window starts at its first hit and ends `seconds` later, whatever the cache backend. Django's
BaseCache.incr (the file cache of the demo, the database cache) writes the value back with the
default timeout, 300 s: an hour's lock would end five minutes after the last hit. So the window's
end travels in the value itself, `end * _SCALE + count` (one integer: Redis' INCR stays atomic),
and the key's lifetime is set again from it after each hit.
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import cache

# Counts stay below this (a hundred million); a window's end (Unix seconds, up to the year 2100)
# times it stays inside Redis' signed 64 bits.
_SCALE = 100_000_000


def _end_of(value: int) -> int:
    return value // _SCALE  # 0: no end (or a plain count written before windows carried their end)


def _count_of(value: object, now: float) -> int:
    if not isinstance(value, int):
        return 0
    end = _end_of(value)
    return 0 if end and end <= now else value % _SCALE


def hit(key: str, seconds: int | None) -> int:
    """One more under `key` in its window (None: one that never ends). Returns the count so far."""
    for _ in range(3):
        now = time.time()
        end = math.ceil(now + seconds) if seconds is not None else 0
        if cache.add(key, end * _SCALE + 1, seconds):
            return 1
        try:
            value = cache.incr(key)
        except ValueError:  # the window ended between add and incr: start the next one
            continue
        end = _end_of(value)
        # Put back the lifetime incr may have reset (Redis and LocMemCache keep it anyway). A plain
        # count from before windows carried their end gets a whole window.
        cache.touch(key, max(1, math.ceil(end - now)) if end else seconds)
        return _count_of(value, now)
    return 1  # the key keeps vanishing (a cache that stores nothing): never a reason to refuse


def counts(keys: list[str]) -> dict[str, int]:
    """The count in each key's current window (0 for none)."""
    found = cache.get_many(keys)
    now = time.time()
    return {key: _count_of(found.get(key), now) for key in keys}


def over_limits(limits: dict[str, int], seconds: int) -> bool:
    """One more hit under each key (all of them are counted); whether any is now past its limit."""
    return any([hit(key, seconds) > limit for key, limit in limits.items()])


class GuessLimit:
    """Wrong guesses of a code (gift cards, discount codes) per IP and per account in a window; the
    limit and the window are read from the settings named, when asked."""

    def __init__(self, prefix: str, limit_setting: str, window_setting: str) -> None:
        self.prefix, self.limit_setting, self.window_setting = prefix, limit_setting, window_setting

    def _keys(self, ip: str, user) -> list[str]:
        from .security import limited_address

        keys = [f"{self.prefix}:ip:{limited_address(ip)}"]
        if user is not None and getattr(user, "is_authenticated", False):
            keys.append(f"{self.prefix}:user:{user.pk}")
        return keys

    def blocked(self, ip: str, user) -> bool:
        limit = getattr(settings, self.limit_setting)
        return any(n >= limit for n in counts(self._keys(ip, user)).values())

    def record_failure(self, ip: str, user) -> None:
        # A fixed window: the first failure starts it, the count dies with it.
        for key in self._keys(ip, user):
            hit(key, getattr(settings, self.window_setting))
