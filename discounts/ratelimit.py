"""Limits on guessing discount codes, per IP and per account (the cache), as for gift card codes."""

from __future__ import annotations

from core.cache_windows import GuessLimit

_limit = GuessLimit("discount-guess", "DISCOUNT_GUESS_LIMIT", "DISCOUNT_GUESS_WINDOW_SECONDS")
blocked = _limit.blocked
record_failure = _limit.record_failure
