"""Error taxonomy of the Roamify client.

Callers branch on the exception class, never on message text: the one message
the upstream docs tell us to recognise ("eSIM is still pending processing")
is mapped to its own class here, so nobody else has to match strings.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "AlreadyRefundedError",
    "AuthenticationError",
    "ConflictError",
    "InsufficientBalanceError",
    "NotFoundError",
    "PagingError",
    "ParseError",
    "ProfilePendingError",
    "RefundRequestOpenError",
    "RoamifyError",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "ValidationError",
    "error_from_response",
    "extract_message",
]


class RoamifyError(Exception):
    """Base class: anything the Roamify API (or talking to it) went wrong with."""

    def __init__(self, message: str, status_code: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.body = body

    def __str__(self) -> str:
        if self.status_code is None:
            return self.message
        return f"{self.message} (HTTP {self.status_code})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r})"


class AuthenticationError(RoamifyError):
    """401/403: the token is missing, wrong, rotated, or lacks the feature."""


class NotFoundError(RoamifyError):
    """404: the order or eSIM does not exist (for this partner)."""


class ValidationError(RoamifyError):
    """400/422: the request was wrong; retrying it unchanged will not help."""


class ConflictError(RoamifyError):
    """409 other than insufficient balance (e.g. a duplicate referenceId)."""


class RefundRequestOpenError(ConflictError):
    """409 on a refund request: the eSIM already has an open one (``refund_id`` names it)."""

    def __init__(
        self, message: str, status_code: int | None = None, body: Any = None, refund_id: str | None = None
    ) -> None:
        super().__init__(message, status_code, body)
        self.refund_id = refund_id


class AlreadyRefundedError(ValidationError):
    """422 on a refund request: upstream already refunded this eSIM."""


class InsufficientBalanceError(RoamifyError):
    """The partner balance cannot pay for the order; an admin must top it up."""


class ProfilePendingError(RoamifyError):
    """Apply answered "eSIM is still pending processing": poll get_esim, do not re-apply."""


class UpstreamUnavailable(RoamifyError):
    """5xx, 429 or a broken connection (reads: after the retries ran out).

    For a purchase the outcome is unknown: look the order up by referenceId
    before placing it again.
    """


class UpstreamTimeout(UpstreamUnavailable):
    """No answer within the call's timeout. For a purchase the order may exist
    anyway: call ``find_order(reference_id)`` before ordering again.

    A subclass of UpstreamUnavailable because callers handle both the same way.
    """


class ParseError(RoamifyError):
    """A 2xx answer we cannot turn into our types (missing id, price, ...)."""


class PagingError(RoamifyError):
    """Catalog paging hit its hard page cap: the catalog may be incomplete."""


# Not branching on free text is the rule; these two are the documented
# exceptions (the pending message from the apply docs, and the balance wording
# of the insurance module that the eSIM endpoints are expected to share).
_PENDING_RE = re.compile(r"still\s+pending\s+processing", re.IGNORECASE)
_INSUFFICIENT_BALANCE_RE = re.compile(r"insufficient[\w\s]*balance", re.IGNORECASE)
_BALANCE_RE = re.compile(r"balance", re.IGNORECASE)


def extract_message(body: Any, default: str = "") -> str:
    """The upstream message: ``body.message``, else ``body.error``, else ``body.data.message``."""
    if isinstance(body, dict):
        for key in ("message", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
            # Some frameworks nest {"error": {"message": ...}}.
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return value["message"]
        data = body.get("data")
        if isinstance(data, dict) and isinstance(data.get("message"), str) and data["message"]:
            return data["message"]
    elif isinstance(body, str) and body.strip():
        # Non-JSON error pages (e.g. a proxy's HTML): keep a short prefix only.
        return body.strip()[:200]
    return default


def error_from_response(status_code: int, body: Any, reason: str = "") -> RoamifyError:
    """Map an error answer (status + decoded body) to the right exception."""
    message = extract_message(body, default=reason or f"HTTP {status_code}")
    cls: type[RoamifyError]
    if _PENDING_RE.search(message):
        cls = ProfilePendingError
    elif status_code in (401, 403):
        cls = AuthenticationError
    elif status_code == 404:
        cls = NotFoundError
    elif _INSUFFICIENT_BALANCE_RE.search(message) or (status_code == 409 and _BALANCE_RE.search(message)):
        cls = InsufficientBalanceError
    elif status_code == 409:
        cls = ConflictError
    elif status_code in (400, 422):
        cls = ValidationError
    elif status_code >= 500 or status_code == 429:
        cls = UpstreamUnavailable
    else:
        cls = RoamifyError
    return cls(message, status_code, body)
