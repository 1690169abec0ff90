"""Limits on guessing codes: redemption and balance checks, per IP and per account (the cache)."""

from __future__ import annotations

from core.cache_windows import GuessLimit

_limit = GuessLimit("giftcard-guess", "GIFTCARD_GUESS_LIMIT", "GIFTCARD_GUESS_WINDOW_SECONDS")
blocked = _limit.blocked
record_failure = _limit.record_failure
