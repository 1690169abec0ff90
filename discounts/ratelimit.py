"""Limits on guessing discount codes, per IP and per account (the cache), as for gift card codes."""

from __future__ import annotations

from django.conf import settings

from core import cache_windows
from core.security import limited_address


def _keys(ip: str, user) -> list[str]:
    keys = [f"discount-guess:ip:{limited_address(ip)}"]
    if user is not None and getattr(user, "is_authenticated", False):
        keys.append(f"discount-guess:user:{user.pk}")
    return keys


def blocked(ip: str, user) -> bool:
    counts = cache_windows.counts(_keys(ip, user))
    return any(n >= settings.DISCOUNT_GUESS_LIMIT for n in counts.values())


def record_failure(ip: str, user) -> None:
    for key in _keys(ip, user):
        cache_windows.hit(key, settings.DISCOUNT_GUESS_WINDOW_SECONDS)
