"""Log lines as one JSON object each, the request id they belong to, and no secrets in them.

Every process (web, worker, beat) logs through these formatters (settings.LOGGING). The
request id is kept in a context variable: the web sets it per request (`RequestIdMiddleware`),
a Celery worker per task (from the id the request that queued it put in the task's headers,
see `storefront/celery.py`), so a task's lines carry the id of the request that queued it.

Secrets in URLs (an order link's `?t=` token, the signed eSIM links, allauth's email and
password-reset keys) are replaced by `[redacted]` in the finished line, whatever field or
argument they came in: Django's own request logging names the path of every 404.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse

from core.security import client_ip

# The id of the request (or of the request that queued the running task); None outside both.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# The running Celery task's name and id, for the worker's lines.
task_info: ContextVar[dict[str, str] | None] = ContextVar("task_info", default=None)

HEADER = "X-Request-ID"
# Taken from the client (nginx's $request_id is 32 hex digits; UUIDs fit too) only when it looks
# like an id: short, and nothing a log reader or a header could trip on.
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")

REDACTED = "[redacted]"
# Secrets that travel in URLs. Applied to the whole finished line (message, arguments, extra
# fields, tracebacks), so a path logged anywhere is covered.
_SECRETS = [
    # ?t=<token> / &t=<token> (order links), also when the & or = is escaped in JSON or a URL, and
    # a query string on its own as a JSON value ("t=...", as Sentry sends it).
    (re.compile(r"((?:[?&\"]|\\u0026|%26)t(?:=|%3D))[^&\s\"'\\]+"), rf"\1{REDACTED}"),
    # The signed eSIM links (accounts/urls.py signed_patterns), with or without the leading
    # slash (the URL resolver's own messages drop it).
    (re.compile(r"(esim/(?:top-up|install)/)[^/\s\"'?\\]+"), rf"\1{REDACTED}"),
    # The marketing email's signed links (checkout/urls.py): back to a cart, and unsubscribe.
    (re.compile(r"(cart/back/|offers/unsubscribe/)[^/\s\"'?\\]+"), rf"\1{REDACTED}"),
    # allauth: email confirmation and password reset keys (the reset key page redirects to a
    # key-less URL, but its first request carries the key).
    (re.compile(r"(accounts/confirm-email/)[^/\s\"'?\\]+"), rf"\1{REDACTED}"),
    (re.compile(r"(accounts/password/reset/key/)(?!\w+-set-password/)[^/\s\"'?\\]+"), rf"\1{REDACTED}"),
]


# Every secret above has one of these in front of it: most lines have none, and skip the regexes.
_TRIGGERS = (
    "t=",
    "t%3D",
    "esim/top-up/",
    "esim/install/",
    "cart/back/",
    "offers/unsubscribe/",
    "accounts/confirm-email/",
    "accounts/password/reset/key/",
)


def redact(text: str) -> str:
    """`text` with every URL secret the shop knows of replaced by [redacted]."""
    if not any(trigger in text for trigger in _TRIGGERS):
        return text
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def new_request_id() -> str:
    return uuid.uuid4().hex


def accepted_request_id(value: str | None) -> str | None:
    """The client's (or the proxy's) id when it is well formed, else None."""
    if value and _WELL_FORMED.fullmatch(value):
        return value
    return None


# Attributes every LogRecord has: anything else on a record came in `extra=` and is logged.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
# Extras that are objects, not data (Django puts the request on its request log records).
_SKIPPED = {"request", "server_time", "status_code"}


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def _request_id_of(record: logging.LogRecord) -> str | None:
    # Django logs a 4xx/5xx answer after the middleware has returned (django.request), with the
    # request on the record: the id is then read from the request.
    return request_id.get() or getattr(getattr(record, "request", None), "request_id", None)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id and extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _request_id_of(record),
        }
        task = task_info.get()
        if task:
            entry.update(task)
        status = getattr(record, "status_code", None)
        if isinstance(status, int):
            entry["status"] = status
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in _SKIPPED and key not in entry:
                entry[key] = _jsonable(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return redact(json.dumps(entry, ensure_ascii=False, default=str))


class PlainFormatter(logging.Formatter):
    """The demo's console: readable lines, with the request id and the same redaction."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.request_id = _request_id_of(record) or "-"
        return redact(super().format(record))


access_logger = logging.getLogger("shop.access")


class RequestIdMiddleware:
    """Gives every request an id (the proxy's X-Request-ID when well formed), logs one access
    line per request with it, and answers it in the X-Request-ID header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        from django.conf import settings

        self.log_requests = getattr(settings, "LOG_REQUESTS", True)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = accepted_request_id(request.headers.get(HEADER)) or new_request_id()
        request.request_id = rid
        token = request_id.set(rid)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[HEADER] = rid
            if self.log_requests and access_logger.isEnabledFor(logging.INFO):
                path = request.get_full_path()
                access_logger.info(
                    "%s %s %s",
                    request.method,
                    path,
                    response.status_code,
                    extra={
                        "method": request.method,
                        "path": path,
                        "status": response.status_code,
                        # The visitor's address as the rate limits see it (behind nginx: X-Real-IP).
                        "client_ip": client_ip(request),
                        "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    },
                )
            return response
        finally:
            request_id.reset(token)


def gunicorn_logconfig(level: str = "INFO", fmt: str = "json") -> dict:
    """A `logconfig_dict` for gunicorn (deploy/gunicorn.conf.py): its own lines as JSON too.

    Its access log stays off: Django logs one access line per request (`shop.access`), with
    the request id and the URL secrets redacted.
    """
    formatter = "core.logs.JsonFormatter" if fmt == "json" else "core.logs.PlainFormatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"shop": {"()": formatter}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "shop", "stream": "ext://sys.stderr"}
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": level, "propagate": False},
            "gunicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        },
    }
