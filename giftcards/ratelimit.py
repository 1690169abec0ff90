"""Limits on guessing codes: redemption and balance checks, per IP and per account (the cache)."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache


def _keys(ip: str, user) -> list[str]:
    keys = [f"giftcard-guess:ip:{ip}"]
    if user is not None and getattr(user, "is_authenticated", False):
        keys.append(f"giftcard-guess:user:{user.pk}")
    return keys


def blocked(ip: str, user) -> bool:
    counts = cache.get_many(_keys(ip, user))
    return any(int(n) >= settings.GIFTCARD_GUESS_LIMIT for n in counts.values())


def record_failure(ip: str, user) -> None:
    for key in _keys(ip, user):
        # A fixed window: the first failure starts it, the counter dies with it.
        cache.add(key, 0, settings.GIFTCARD_GUESS_WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # the window ended between add and incr
            cache.add(key, 1, settings.GIFTCARD_GUESS_WINDOW_SECONDS)
