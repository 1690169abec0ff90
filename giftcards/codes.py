"""Gift card codes and one-time codes: made at random, stored only as keyed hashes.

A card code is 20 characters from a 32-character alphabet without look-alikes
(no 0/O, 1/I): 100 bits, read in groups of four (XXXX-XXXX-XXXX-XXXX-XXXX).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 symbols: 5 bits each
LENGTH = 20  # 100 bits
GROUP = 4
EXAMPLE = "XXXX-XXXX-XXXX-XXXX-XXXX"


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def normalize(value: object) -> str | None:
    """The code as stored (upper case, no spaces or dashes), or None when it can't be a code."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    raw = "".join(value.split()).replace("-", "").upper()
    if len(raw) != LENGTH or any(c not in ALPHABET for c in raw):
        return None
    return raw


def _key() -> bytes:
    # A key of its own lets SECRET_KEY rotate without making every card unusable.
    configured = getattr(settings, "GIFTCARD_CODE_KEY", "")
    if configured:
        return configured.encode()
    return hashlib.sha256(b"giftcards.code-key:" + settings.SECRET_KEY.encode()).digest()


def code_hash(normalized: str) -> str:
    return hmac.new(_key(), normalized.encode(), hashlib.sha256).hexdigest()


def last_characters(normalized: str) -> str:
    return normalized[-4:]


def new_otp() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def otp_hash(challenge_id: int, otp: str) -> str:
    return hmac.new(_key(), f"otp:{challenge_id}:{otp}".encode(), hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    # API tokens carry 256 random bits: a plain SHA-256 is enough to make the stored copy useless.
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_token() -> tuple[str, str]:
    """(prefix, token): the prefix finds the row, the whole token is checked against its hash."""
    prefix = secrets.token_hex(4)
    return prefix, f"gct_{prefix}_{secrets.token_urlsafe(32)}"
