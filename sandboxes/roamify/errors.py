"""The error bodies the real API sends (spec §1), as exceptions the HTTP layer renders."""

from __future__ import annotations

from typing import Any

PENDING_MESSAGE = "eSIM is still pending processing"


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body


def joi(message: str) -> ApiError:
    """Request-schema failure: `{"error": "\\"items\\" is required"}`, HTTP 400."""
    return ApiError(400, {"error": message})


def failed(status: int, message: str) -> ApiError:
    return ApiError(status, {"status": "failed", "message": message})


def unknown_error() -> ApiError:
    # Key order as observed in production: message first.
    return ApiError(500, {"message": "Unknown error", "status": "failed"})


def not_found(what: str, fields: str) -> ApiError:
    # "your have" (sic) is the docs' wording.
    return failed(404, f"{what} not found, please make sure your have provided the correct {fields}")


class ControlError(Exception):
    """A refused control-API action (bad input, wrong state); rendered as {"error": ...}."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
