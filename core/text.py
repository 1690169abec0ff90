"""Checks on text from outside before it reaches the database."""

from __future__ import annotations


def has_nul(value: object) -> bool:
    """Whether a decoded JSON value holds a NUL character anywhere (a key or a string, at any depth).

    PostgreSQL stores no NUL in text or jsonb: such a value would fail at the INSERT as a 500.
    Nothing real sends one, so the caller answers it as malformed instead.
    """
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False
