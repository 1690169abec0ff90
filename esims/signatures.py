"""Roamify's webhook signature (spec §4): lowercase hex HMAC-SHA256 of the raw body."""

from __future__ import annotations

import hashlib
import hmac


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def is_valid(secret: str, body: bytes, signature: str | None) -> bool:
    if not secret or not signature:
        return False
    given = signature.strip().lower().encode("ascii", "replace")
    return hmac.compare_digest(sign(secret, body).encode(), given)
