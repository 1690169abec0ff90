"""Limits on guessing codes: redemption and balance checks, per IP and per account (the cache)."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The visitor's address. Behind a proxy, CLIENT_IP_HEADER names the header it sets (X-Real-IP)."""
    header = settings.CLIENT_IP_HEADER
    if header:
        value = request.headers.get(header, "").split(",")[0].strip()
        if value:
            return value[:64]
    return request.META.get("REMOTE_ADDR", "")[:64]


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
