"""Stripe-shaped events, signed webhook delivery with retries, `/v1/events` paging."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from .errors import new_id

log = logging.getLogger("sandboxes.stripe")

# Stripe renders events in the account's API version; we claim the one
# stripe-python 16 pins, which is what the shop sends.
API_VERSION = "2026-10-28.endive"


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """`Stripe-Signature` exactly as Stripe builds it: HMAC-SHA256 of `t.payload`."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


@dataclass
class Endpoint:
    url: str
    secret: str
    events: list[str] | None = None  # None: every event type

    def wants(self, event_type: str) -> bool:
        return self.events is None or "*" in self.events or event_type in self.events

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "secret": self.secret, "events": self.events}


@dataclass
class Attempt:
    at: float
    status: int | None
    error: str | None
    duration_ms: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "status": self.status,
            "error": self.error,
            "duration_ms": self.duration_ms,
        }


@dataclass
class Chaos:
    """Webhook delivery as the soak wants it: each event sent `copies` times, each copy after its
    own random delay of up to `max_delay` seconds (so events cross), drawn from a seeded RNG."""

    copies: int = 1
    max_delay: float = 0.0
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"copies": self.copies, "max_delay": self.max_delay, "seed": self.seed}


@dataclass
class EventRecord:
    event: dict[str, Any]
    seq: int = 0  # creation order
    # One list of attempts per endpoint URL.
    deliveries: dict[str, list[Attempt]] = field(default_factory=dict)
    delivered: set[str] = field(default_factory=set)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.event,
            "deliveries": [
                {
                    "url": url,
                    "delivered": url in self.delivered,
                    "attempts": [a.to_dict() for a in attempts],
                }
                for url, attempts in self.deliveries.items()
            ],
        }


class EventBus:
    def __init__(self, max_attempts: int = 5, backoff: float = 0.5) -> None:
        self.endpoints: dict[str, Endpoint] = {}
        self.records: dict[str, EventRecord] = {}  # insertion order = creation order
        self.max_attempts = max_attempts
        self.backoff = backoff
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None
        self.set_chaos(Chaos())

    def set_chaos(self, chaos: Chaos) -> None:
        self.chaos = chaos
        self._rng = random.Random(f"stripe-webhooks-{chaos.seed}")
        self._highest_sent: dict[str, int] = {}  # endpoint URL -> newest event (seq) sent to it
        # duplicated: extra copies sent; delayed: deliveries held back; out_of_order: first
        # deliveries that reached an endpoint after a newer event had.
        self.chaos_counts = {"duplicated": 0, "delayed": 0, "out_of_order": 0}

    async def open(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def close(self) -> None:
        self.cancel_deliveries()
        if self._http:
            await self._http.close()

    def register(self, url: str, secret: str, events: list[str] | None = None) -> Endpoint:
        ep = Endpoint(url, secret, events)
        self.endpoints[url] = ep  # same URL: replace (new secret or filter)
        return ep

    def unregister(self, url: str | None = None) -> None:
        if url is None:
            self.endpoints.clear()
        else:
            self.endpoints.pop(url, None)

    def reset(self) -> None:
        # A wiped sandbox must not keep delivering old events to the next test.
        self.cancel_deliveries()
        self.records.clear()
        self.set_chaos(Chaos())  # back to one prompt delivery each, counts at zero

    def cancel_deliveries(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()

    def emit(
        self,
        event_type: str,
        obj: dict[str, Any],
        *,
        previous_attributes: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        data: dict[str, Any] = {"object": obj}
        if previous_attributes is not None:
            data["previous_attributes"] = previous_attributes
        targets = [ep for ep in self.endpoints.values() if ep.wants(event_type)]
        event = {
            "id": new_id("evt_test_"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": data,
            "livemode": False,
            "pending_webhooks": len(targets),
            "request": {"id": request_id, "idempotency_key": idempotency_key},
            "type": event_type,
        }
        record = EventRecord(event, seq=len(self.records))
        self.records[event["id"]] = record
        log.info("event %s %s -> %d endpoint(s)", event["id"], event_type, len(targets))
        for ep in targets:
            for copy in range(self.chaos.copies):
                delay = self._rng.uniform(0, self.chaos.max_delay) if self.chaos.max_delay else 0.0
                self.chaos_counts["duplicated"] += copy > 0
                self.chaos_counts["delayed"] += delay > 0
                self._spawn(record, ep, delay, first=copy == 0)
        return event

    def redeliver(self, event_id: str) -> EventRecord | None:
        record = self.records.get(event_id)
        if record is None:
            return None
        for ep in self.endpoints.values():
            if ep.wants(record.event["type"]):
                record.delivered.discard(ep.url)
                self._spawn(record, ep)
        return record

    def _spawn(self, record: EventRecord, ep: Endpoint, delay: float = 0.0, first: bool = False) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(record, ep, delay, first))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(
        self, record: EventRecord, ep: Endpoint, delay: float = 0.0, first: bool = False
    ) -> None:
        assert self._http is not None
        attempts = record.deliveries.setdefault(ep.url, [])
        if delay:
            await asyncio.sleep(delay)
        if first:
            if record.seq < self._highest_sent.get(ep.url, -1):
                self.chaos_counts["out_of_order"] += 1
            self._highest_sent[ep.url] = max(record.seq, self._highest_sent.get(ep.url, -1))
        for n in range(self.max_attempts):
            if n:
                # Exponential backoff, like Stripe's (much shorter: tests wait on it).
                await asyncio.sleep(self.backoff * 2 ** (n - 1))
            record.event["pending_webhooks"] = sum(
                1 for url in record.deliveries if url not in record.delivered
            )
            payload = json.dumps(record.event, indent=2).encode()
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Stripe-Signature": sign(payload, ep.secret),
            }
            started = time.monotonic()
            status: int | None = None
            error: str | None = None
            try:
                async with self._http.post(ep.url, data=payload, headers=headers) as r:
                    status = r.status
                    await r.read()
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            attempts.append(Attempt(time.time(), status, error, int((time.monotonic() - started) * 1000)))
            if status is not None and 200 <= status < 300:
                record.delivered.add(ep.url)
                log.info("delivered %s to %s (%s)", record.event["id"], ep.url, status)
                return
            log.warning(
                "delivery of %s to %s failed (attempt %d): %s",
                record.event["id"],
                ep.url,
                n + 1,
                error or status,
            )

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """For tests and shutdown: wait until no delivery is in flight."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)

    # --- /v1/events ------------------------------------------------------

    def list_events(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        events = [r.event for r in reversed(self.records.values())]  # newest first
        types: list[str] = []
        if isinstance(params.get("type"), str):
            types.append(params["type"])
        if isinstance(params.get("types"), list):
            types.extend(t for t in params["types"] if isinstance(t, str))
        if types:
            events = [e for e in events if any(_type_matches(t, e["type"]) for t in types)]
        created = params.get("created")
        if isinstance(created, dict):
            ops = {
                "gt": lambda a, b: a > b,
                "gte": lambda a, b: a >= b,
                "lt": lambda a, b: a < b,
                "lte": lambda a, b: a <= b,
            }
            for op, fn in ops.items():
                if op in created:
                    bound = int(created[op])
                    events = [e for e in events if fn(e["created"], bound)]
        elif isinstance(created, str) and created.isdigit():
            events = [e for e in events if e["created"] == int(created)]
        return events


def _type_matches(pattern: str, event_type: str) -> bool:
    # Stripe allows one trailing wildcard: `checkout.session.*`.
    if pattern.endswith("*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type
