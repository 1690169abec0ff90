"""Signed webhook delivery (spec §4): one POST per event, retried up to 3 times.

Deliveries run on one background task in event order, so a receiver sees
INSTALLED before ACTIVATED. A reset bumps the generation and drops what is queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from typing import Any

import aiohttp

from .catalog import dumps

log = logging.getLogger("sandboxes.roamify.webhooks")


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSender:
    def __init__(self, retry_delays: tuple[float, ...] = (0.5, 1.0, 2.0), timeout: float = 3.0) -> None:
        self.retry_delays = retry_delays
        self.timeout = timeout
        self.deliveries: list[dict[str, Any]] = []
        self._generation = 0
        self._queue: asyncio.Queue[tuple[int, dict[str, Any], bytes, dict[str, str]]] | None
        self._queue = None
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()

    def clear(self) -> None:
        self._generation += 1
        self.deliveries = []

    def send(self, url: str, secret: str, envelope: dict[str, Any]) -> None:
        body = dumps(envelope)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Roamify-Webhooks/1.0",
            "X-Roamify-Signature": sign(secret, body),
        }
        record: dict[str, Any] = {
            "url": url,
            "event": envelope,
            "attempts": 0,
            "delivered": False,
            "lastStatus": None,
            "lastError": None,
        }
        self.deliveries.append(record)
        if self._queue is not None:
            self._queue.put_nowait((self._generation, record, body, headers))

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            generation, record, body, headers = await self._queue.get()
            if generation == self._generation:
                await self._deliver(generation, record, body, headers)

    async def _deliver(
        self, generation: int, record: dict[str, Any], body: bytes, headers: dict[str, str]
    ) -> None:
        assert self._session is not None
        for attempt in range(1 + len(self.retry_delays)):
            if generation != self._generation:
                return
            record["attempts"] += 1
            try:
                async with self._session.post(record["url"], data=body, headers=headers) as resp:
                    record["lastStatus"] = resp.status
                    if 200 <= resp.status < 300:
                        record["delivered"] = True
                        return
            except (aiohttp.ClientError, TimeoutError) as exc:
                record["lastError"] = repr(exc)
            if attempt < len(self.retry_delays):
                await asyncio.sleep(self.retry_delays[attempt])
        log.warning("webhook to %s gave up after %d attempts", record["url"], record["attempts"])
