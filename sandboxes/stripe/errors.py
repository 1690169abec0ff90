"""Stripe-shaped API errors: `{"error": {"type", "message", "param", "code"}}`."""

from __future__ import annotations

import json
import secrets
from typing import Any

from aiohttp import web


def new_id(prefix: str, n: int = 24) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(n))


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=json.dumps(data, indent=2).encode(),
        status=status,
        content_type="application/json",
        headers=headers,
    )


class StripeError(Exception):
    """Raised by handlers; the error middleware renders it like Stripe does."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.param = param
        self.code = code
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.param is not None:
            err["param"] = self.param
        if self.code is not None:
            err["code"] = self.code
            err["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        err.update(self.extra)
        return {"error": err}

    def response(self) -> web.Response:
        return json_response(self.body(), status=self.status)


def missing(param: str) -> StripeError:
    return StripeError(f"Missing required param: {param}.", param=param, code="parameter_missing")


def invalid(param: str, message: str) -> StripeError:
    return StripeError(message, param=param, code="parameter_invalid_string")


def unknown(param: str) -> StripeError:
    return StripeError(f"Received unknown parameter: {param}", param=param, code="parameter_unknown")


def no_such(kind: str, id_: str, param: str = "id") -> StripeError:
    return StripeError(f"No such {kind}: '{id_}'", status=404, param=param, code="resource_missing")
